"""Feature gates that change what the API server accepts, with their default per minor version.

The Python validator (:mod:`gitops.apivalidation`) applies a gated rule as the target
``kubernetesVersion`` would: the gate's default for that minor, unless gitops.yaml's
``featureGates`` overrides it to mirror a cluster's ``--feature-gates``. A gate that does not
exist yet at the target (``exists`` False) means the code path from before the feature, which
is not always the same as the gate being off.

The stages are read from k8s.io/kubernetes@v1.36.3, pkg/features/kube_features.go
(``defaultVersionedKubernetesFeatureGates``: one ``{Version, Default, PreRelease}`` per change).
A target after 1.36 keeps the 1.36 stage: the table knows no later source.

    >>> gates = FeatureGates.for_version("1.35")
    >>> gates.enabled("ContainerRestartRules"), gates.enabled("RelaxedServiceNameValidation")
    (True, False)
    >>> FeatureGates.for_version("1.36", {"HPAScaleToZero": True}).enabled("HPAScaleToZero")
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GateStage:
    """From ``minor`` on (until the next stage), the gate defaults to ``default``."""

    minor: int
    default: bool
    stage: str  # Alpha, Beta, GA (as kube_features.go names the PreRelease)


# Only the gates a rule of gitops.apivalidation depends on; each rule cites its gate.
FEATURE_GATES: dict[str, tuple[GateStage, ...]] = {
    # Service names may be DNS-1123 labels ("1healthz"), not only DNS-1035 labels
    # (pkg/apis/core/validation/validation.go ValidateService).
    "RelaxedServiceNameValidation": (
        GateStage(34, False, "Alpha"),
        GateStage(36, True, "Beta"),
    ),
    # Container-level restartPolicy on app containers, OnFailure/Never on init containers and
    # restartPolicyRules (validateInitContainerRestartPolicy, validateContainerRestartPolicy).
    "ContainerRestartRules": (
        GateStage(34, False, "Alpha"),
        GateStage(35, True, "Beta"),
    ),
    # The RestartAllContainers action of restartPolicyRules (validateContainerRestartPolicy).
    "RestartAllContainersOnContainerExits": (
        GateStage(35, False, "Alpha"),
        GateStage(36, True, "Beta"),
    ),
    # minReplicas 0 on an HPA (pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go sets
    # MinReplicasLowerBound 0 only with the gate).
    "HPAScaleToZero": (GateStage(16, False, "Alpha"),),
    # Env var names of any printable ASCII but '=' instead of C-identifier-like names
    # (ValidateEnv: IsRelaxedEnvVarName vs IsEnvVarName).
    "RelaxedEnvironmentVariableValidation": (
        GateStage(30, False, "Alpha"),
        GateStage(32, True, "Beta"),
        GateStage(34, True, "GA"),
    ),
}
_VERSION = re.compile(r"^1\.(\d+)$")


class UnknownFeatureGateError(ValueError):
    """A gate name the table does not hold (a typo, or a gate no rule here depends on)."""


def check_gate_name(name: str) -> None:
    """Raise :class:`UnknownFeatureGateError` naming the known gates."""
    if name not in FEATURE_GATES:
        raise UnknownFeatureGateError(
            f"{name!r} is not a feature gate the validation rules depend on "
            f"(known: {', '.join(sorted(FEATURE_GATES))})"
        )


@dataclass(frozen=True)
class FeatureGates:
    """The gates of one Kubernetes minor version, defaults plus overrides."""

    kubernetes_version: str
    overrides: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def for_version(cls, version: str, overrides: Mapping[str, bool] | None = None) -> FeatureGates:
        if not _VERSION.match(version):
            raise ValueError(f'Kubernetes version must look like "1.36", got {version!r}')
        for name in overrides or {}:
            check_gate_name(name)
        return cls(version, tuple(sorted((overrides or {}).items())))

    @property
    def minor(self) -> int:
        match = _VERSION.match(self.kubernetes_version)
        assert match is not None  # checked in for_version
        return int(match.group(1))

    def exists(self, name: str) -> bool:
        """Whether the target version has the gate at all (an override counts as having it)."""
        check_gate_name(name)
        return name in dict(self.overrides) or FEATURE_GATES[name][0].minor <= self.minor

    def enabled(self, name: str) -> bool:
        """The gate's state at the target: the override, else the default of the latest stage
        at or before the target minor; False before the gate existed."""
        check_gate_name(name)
        overridden = dict(self.overrides)
        if name in overridden:
            return overridden[name]
        state = False
        for stage in FEATURE_GATES[name]:
            if stage.minor <= self.minor:
                state = stage.default
        return state
