"""Kubernetes feature-gate defaults by minor version, from the packaged table
``gitops/data/feature-gates.yaml`` (upstream's versioned feature list, cited there).

Whatever depends on a gate (the HPA simulation today, the validator later) asks here with the
repository's target minor (``gitops.yaml`` ``kubernetesVersion``), never hard-codes a default.

    >>> gate_default("PodLevelResources", 33), gate_default("PodLevelResources", 34)
    (False, True)
    >>> FeatureGates(36, (("HPAScaleToZero", True),)).enabled("HPAScaleToZero")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gitops import yamlio
from gitops.config import DEFAULT_KUBERNETES_VERSION
from gitops.errors import GitopsError

GATES_FILE = "feature-gates.yaml"
PACKAGED = f"gitops/data/{GATES_FILE}"

POD_LEVEL_RESOURCES = "PodLevelResources"
HPA_CONFIGURABLE_TOLERANCE = "HPAConfigurableTolerance"
HPA_SCALE_TO_ZERO = "HPAScaleToZero"


class FeatureGateError(GitopsError):
    """An unknown gate name, or a broken gate table."""


@dataclass(frozen=True)
class GateStage:
    """One entry of a gate's versioned spec: from minor ``since`` on, ``default``."""

    since: int
    default: bool
    stage: str


def parse_gates(data: Any, source: str) -> dict[str, tuple[GateStage, ...]]:
    """The ``gates`` of a feature-gate document, each gate's stages ordered by version."""
    if not isinstance(data, Mapping) or not isinstance(data.get("gates"), Mapping):
        raise FeatureGateError(f"{source}: expected a mapping with a 'gates' mapping")
    out: dict[str, tuple[GateStage, ...]] = {}
    for name, stages in data["gates"].items():
        if not isinstance(stages, list) or not stages:
            raise FeatureGateError(f"{source}: gates.{name}: expected a list of stages")
        parsed = []
        for i, stage in enumerate(stages):
            since, default = (stage or {}).get("since"), (stage or {}).get("default")
            if (
                not isinstance(since, int)
                or isinstance(since, bool)
                or not isinstance(default, bool)
            ):
                raise FeatureGateError(
                    f"{source}: gates.{name}[{i}]: expected {{since: <minor>, default: "
                    f"true|false, stage: ...}}, got {stage!r}"
                )
            parsed.append(GateStage(since, default, str(stage.get("stage", ""))))
        out[str(name)] = tuple(sorted(parsed, key=lambda s: s.since))
    return out


@cache
def feature_gates() -> dict[str, tuple[GateStage, ...]]:
    """The packaged table."""
    text = resources.files("gitops").joinpath("data", GATES_FILE).read_text(encoding="utf-8")
    return parse_gates(yamlio.safe_load(text), PACKAGED)


def known_gates() -> tuple[str, ...]:
    return tuple(sorted(feature_gates()))


def gate_default(name: str, minor: int) -> bool:
    """The gate's default at Kubernetes 1.<minor>: the last stage at or before it; off before
    the gate existed."""
    stages = feature_gates().get(name)
    if stages is None:
        raise FeatureGateError(f"unknown feature gate {name!r} (known: {', '.join(known_gates())})")
    default = False
    for stage in stages:
        if stage.since <= minor:
            default = stage.default
    return default


def default_minor() -> int:
    return int(DEFAULT_KUBERNETES_VERSION.split(".")[1])


@dataclass(frozen=True)
class FeatureGates:
    """The gates of one component at one minor version: upstream defaults, then ``overrides``
    (``--feature-gates=Name=true``), which must name known gates."""

    minor: int
    overrides: tuple[tuple[str, bool], ...] = ()

    def __post_init__(self) -> None:
        for name, _ in self.overrides:
            gate_default(name, self.minor)  # raises on an unknown name

    def enabled(self, name: str) -> bool:
        return _enabled(self, name)

    def with_overrides(self, **values: bool) -> FeatureGates:
        """A copy with some gates set, as a test's ``SetFeatureGateDuringTest`` does."""
        return FeatureGates(self.minor, (*self.overrides, *values.items()))


@cache
def _enabled(gates: FeatureGates, name: str) -> bool:
    """:meth:`FeatureGates.enabled`, remembered: the simulation asks at every sync."""
    for override, value in reversed(gates.overrides):  # the last one set wins
        if override == name:
            return value
    return gate_default(name, gates.minor)


def default_gates() -> FeatureGates:
    """The gates at the default target version (``config.DEFAULT_KUBERNETES_VERSION``)."""
    return FeatureGates(default_minor())
