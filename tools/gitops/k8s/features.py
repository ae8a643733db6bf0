"""Kubernetes feature gates by minor version, from the packaged table
``gitops/data/feature-gates.yaml`` (upstream's versioned feature list, cited there).

Whatever depends on a gate (the Python validator's rules, the HPA simulation) asks here with the
repository's target minor (gitops.yaml ``kubernetesVersion``) and its ``featureGates`` (the
cluster's ``--feature-gates``), never hard-codes a default. A gate that does not exist yet at
the target (:meth:`FeatureGates.exists` False) means the code path from before the feature,
which is not always the same as the gate being off.

    >>> gates = FeatureGates.for_version("1.35")
    >>> gates.enabled("ContainerRestartRules"), gates.enabled("RelaxedServiceNameValidation")
    (True, False)
    >>> FeatureGates(36, (("HPAScaleToZero", True),)).enabled("HPAScaleToZero")
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gitops import yamlio
from gitops.errors import GitopsError

GATES_FILE = "feature-gates.yaml"
PACKAGED = f"gitops/data/{GATES_FILE}"
DEFAULT_MINOR = 36  # config.DEFAULT_KUBERNETES_VERSION (a test keeps the two equal)

CONTAINER_RESTART_RULES = "ContainerRestartRules"
POD_LEVEL_RESOURCES = "PodLevelResources"
HPA_CONFIGURABLE_TOLERANCE = "HPAConfigurableTolerance"
HPA_SCALE_TO_ZERO = "HPAScaleToZero"
_VERSION = re.compile(r"^1\.(\d+)$")


class FeatureGateError(GitopsError):
    """A broken gate table."""


class UnknownFeatureGateError(FeatureGateError):
    """A gate name the table does not hold (a typo, or a gate nothing here depends on)."""


@dataclass(frozen=True)
class GateStage:
    """One entry of a gate's versioned spec: from minor ``since`` on, ``default``."""

    since: int
    default: bool
    stage: str  # Alpha, Beta, GA, as kube_features.go names the PreRelease


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


def check_gate_name(name: str) -> tuple[GateStage, ...]:
    """The gate's stages; :class:`UnknownFeatureGateError` naming the known gates."""
    stages = feature_gates().get(name)
    if stages is None:
        raise UnknownFeatureGateError(
            f"unknown feature gate {name!r} (known: {', '.join(known_gates())})"
        )
    return stages


def gate_default(name: str, minor: int) -> bool:
    """The gate's default at Kubernetes 1.<minor>: the last stage at or before it; off before
    the gate existed."""
    default = False
    for stage in check_gate_name(name):
        if stage.since <= minor:
            default = stage.default
    return default


@dataclass(frozen=True)
class FeatureGates:
    """The gates at one minor version: upstream defaults, then ``overrides``
    (``--feature-gates=Name=true``, the last one set wins), which must name known gates."""

    minor: int
    overrides: tuple[tuple[str, bool], ...] = ()

    def __post_init__(self) -> None:
        for name, _ in self.overrides:
            check_gate_name(name)

    @classmethod
    def for_version(cls, version: str, overrides: Mapping[str, bool] | None = None) -> FeatureGates:
        match = _VERSION.match(version)
        if not match:
            raise ValueError(f'Kubernetes version must look like "1.36", got {version!r}')
        return cls(int(match.group(1)), tuple(sorted((overrides or {}).items())))

    @property
    def kubernetes_version(self) -> str:
        return f"1.{self.minor}"

    def exists(self, name: str) -> bool:
        """Whether the target version has the gate at all (an override counts as having it)."""
        stages = check_gate_name(name)
        return any(n == name for n, _ in self.overrides) or stages[0].since <= self.minor

    def enabled(self, name: str) -> bool:
        return _enabled(self, name)

    def with_overrides(self, **values: bool) -> FeatureGates:
        """A copy with some gates set, as a test's ``SetFeatureGateDuringTest`` does."""
        return FeatureGates(self.minor, (*self.overrides, *values.items()))


@cache
def _enabled(gates: FeatureGates, name: str) -> bool:
    """:meth:`FeatureGates.enabled`, remembered: the simulation asks at every sync."""
    for override, value in reversed(gates.overrides):
        if override == name:
            return value
    return gate_default(name, gates.minor)


def default_gates() -> FeatureGates:
    """The gates at the default target version."""
    return FeatureGates(DEFAULT_MINOR)
