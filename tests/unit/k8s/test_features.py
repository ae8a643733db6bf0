"""``gitops.k8s.features``: a gate's default follows the target minor version, overrides win,
and a gate that does not exist yet is told apart from one that is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.k8s.features import (
    HPA_CONFIGURABLE_TOLERANCE,
    HPA_SCALE_TO_ZERO,
    POD_LEVEL_RESOURCES,
    FeatureGateError,
    FeatureGates,
    UnknownFeatureGateError,
    default_gates,
    feature_gates,
    gate_default,
    parse_gates,
)


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
    for name, stages in feature_gates().items():
        minors = [stage.since for stage in stages]
        assert minors == sorted(minors), name
        assert stages[0].stage == "Alpha", name


@pytest.mark.parametrize(
    ("gate", "minor", "expected"),
    [
        # PodLevelResources: Alpha (off) in 1.32, Beta (on) from 1.34.
        (POD_LEVEL_RESOURCES, 31, False),
        (POD_LEVEL_RESOURCES, 33, False),
        (POD_LEVEL_RESOURCES, 34, True),
        (POD_LEVEL_RESOURCES, 36, True),
        # HPAConfigurableTolerance: Alpha (off) in 1.33, Beta (on) from 1.35.
        (HPA_CONFIGURABLE_TOLERANCE, 34, False),
        (HPA_CONFIGURABLE_TOLERANCE, 35, True),
        # HPAScaleToZero: Alpha since 1.16, still off at 1.36.
        (HPA_SCALE_TO_ZERO, 36, False),
    ],
)
def test_defaults_follow_the_versioned_list(gate: str, minor: int, expected: bool) -> None:
    assert gate_default(gate, minor) is expected


def test_table_holds_only_gates_something_uses() -> None:
    """Each gate is read by the Python validator's rules or the simulation (a gate added to
    the table is named in the module that reads it)."""
    sources = "".join(
        path.read_text()
        for path in (Path(__file__).resolve().parents[3] / "tools" / "gitops").rglob("*.py")
        if path.name != "features.py"
    )
    assert {POD_LEVEL_RESOURCES, HPA_CONFIGURABLE_TOLERANCE, HPA_SCALE_TO_ZERO} <= set(
        feature_gates()
    )
    for gate in feature_gates():
        assert gate in sources or gate.upper() in sources.replace("_", "").upper(), gate


def test_the_default_minor_is_the_config_default() -> None:
    from gitops.config import DEFAULT_KUBERNETES_VERSION

    assert default_gates().kubernetes_version == DEFAULT_KUBERNETES_VERSION


def test_overrides_win_and_the_last_one_set_counts() -> None:
    gates = FeatureGates(36).with_overrides(PodLevelResources=False)
    assert not gates.enabled(POD_LEVEL_RESOURCES)
    assert gates.with_overrides(PodLevelResources=True).enabled(POD_LEVEL_RESOURCES)
    assert default_gates().minor == 36 and default_gates().enabled(POD_LEVEL_RESOURCES)


def test_unknown_gate_is_one_error_naming_the_known_ones() -> None:
    with pytest.raises(
        FeatureGateError, match=r"unknown feature gate .PodLevelResource. \(known: "
    ):
        FeatureGates(36, (("PodLevelResource", True),))


def test_broken_table_names_the_file_and_entry() -> None:
    with pytest.raises(FeatureGateError, match=r"x.yaml: gates.G\[0\]: expected"):
        parse_gates({"gates": {"G": [{"since": "1.3", "default": True}]}}, "x.yaml")
