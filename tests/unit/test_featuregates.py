"""``gitops.featuregates``: gate defaults by minor from the packaged table, which follows
upstream's versioned feature list (pkg/features/kube_features.go at v1.36.3)."""

from __future__ import annotations

import pytest

from gitops.featuregates import (
    HPA_CONFIGURABLE_TOLERANCE,
    HPA_SCALE_TO_ZERO,
    POD_LEVEL_RESOURCES,
    FeatureGateError,
    FeatureGates,
    default_gates,
    feature_gates,
    gate_default,
    parse_gates,
)


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
    assert set(feature_gates()) == {POD_LEVEL_RESOURCES, HPA_CONFIGURABLE_TOLERANCE,
                                     HPA_SCALE_TO_ZERO}  # fmt: skip


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
