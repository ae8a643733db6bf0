"""``gitops.k8s.features``: a gate's default follows the target minor version, overrides win,
and a gate that does not exist yet is told apart from one that is off."""

from __future__ import annotations

import pytest

from gitops.k8s.features import FEATURE_GATES, FeatureGates, UnknownFeatureGateError


@pytest.mark.parametrize(
    ("version", "exists", "enabled"),
    [("1.33", False, False), ("1.34", True, False), ("1.35", True, True), ("1.37", True, True)],
)
def test_a_gate_follows_its_stages_per_minor(version: str, exists: bool, enabled: bool) -> None:
    gates = FeatureGates.for_version(version)
    assert gates.exists("ContainerRestartRules") is exists
    assert gates.enabled("ContainerRestartRules") is enabled


def test_relaxed_service_names_are_on_by_default_only_from_1_36() -> None:
    assert not FeatureGates.for_version("1.35").enabled("RelaxedServiceNameValidation")
    assert FeatureGates.for_version("1.36").enabled("RelaxedServiceNameValidation")


def test_an_override_mirrors_the_cluster_and_counts_as_existing() -> None:
    gates = FeatureGates.for_version("1.33", {"RelaxedServiceNameValidation": True})
    assert gates.exists("RelaxedServiceNameValidation")
    assert gates.enabled("RelaxedServiceNameValidation")
    assert not FeatureGates.for_version("1.36", {"HPAScaleToZero": False}).enabled("HPAScaleToZero")
    assert FeatureGates.for_version("1.36", {"HPAScaleToZero": True}).enabled("HPAScaleToZero")


def test_unknown_gate_names_and_versions_are_refused() -> None:
    with pytest.raises(UnknownFeatureGateError, match="known: ContainerRestartRules"):
        FeatureGates.for_version("1.36", {"HPAScaleToZer0": True})
    with pytest.raises(UnknownFeatureGateError):
        FeatureGates.for_version("1.36").enabled("NoSuchGate")
    with pytest.raises(ValueError, match="must look like"):
        FeatureGates.for_version("v1.36")


def test_every_gate_lists_its_stages_in_version_order() -> None:
    for name, stages in FEATURE_GATES.items():
        minors = [stage.minor for stage in stages]
        assert minors == sorted(minors), name
        assert stages[0].stage == "Alpha", name
