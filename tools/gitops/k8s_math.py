"""Replica and PodDisruptionBudget arithmetic, exactly as the Kubernetes controllers do it.

Pure functions over plain manifest dicts (no cluster, no ``Resource``), shared by the policy
rules, the e2e oracles and the simulator. Sources: pkg/controller/disruption/disruption.go
(``getExpectedPodCount``, ``updatePdbStatus``), apimachinery ``intstr`` (percent scaling),
pkg/controller/podautoscaler (requests), apimachinery ``resource.Quantity``.

    >>> desired_healthy({"maxUnavailable": "30%"}, expected_pods=3)  # ceil(0.9) = 1 unavailable
    2
    >>> disruptions_allowed({"minAvailable": 2}, healthy_pods=2, expected_pods=2)
    0
    >>> milli_value("250m"), milli_value("1.5")
    (250, 1500)

Values that the API server would reject (``"5"`` without ``%``, ``-1``, ``"abc"``) raise
:class:`InvalidValueError`; callers that check manifests skip what they cannot interpret.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from gitops import quantity

# kubelet/API probe defaults (pkg/apis/core/v1 SetDefaults_Probe); 0 or unset means the default
# (initialDelaySeconds: 0 is its own default). Read probes through :func:`probe_timings`.
PROBE_DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}


def probe_timings(probe: Mapping[str, Any]) -> dict[str, int]:
    """The five timing fields of a probe as the API server stores them: unset *or 0* become
    the defaults above, as ``SetDefaults_Probe`` does for timeout/period/success/failure
    (pkg/apis/core/v1/defaults.go). initialDelaySeconds has no default, so its 0 is 0.
    Every reader of probe timings (gitops probe, the e2e budgets, the policy rules) goes
    through this one function, so none of them sees a 0 the kubelet never uses.

    >>> probe_timings({"periodSeconds": 0, "timeoutSeconds": 5})["periodSeconds"]
    10
    """
    timings: dict[str, int] = {}
    for field_name, default in PROBE_DEFAULTS.items():
        raw = probe.get(field_name)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raw = default  # unset (or not a number: validation reports that)
        keeps_zero = field_name == "initialDelaySeconds"
        timings[field_name] = int(raw) if raw or keeps_zero else default
    return timings


# Deployment, ReplicaSet and StatefulSet default spec.replicas to 1; so does HPA minReplicas.
DEFAULT_REPLICAS = 1
DEFAULT_MIN_REPLICAS = 1

_PERCENT_RE = re.compile(r"^(-?\d+)%$")


class InvalidValueError(ValueError):
    """A field holds a value Kubernetes would reject or cannot interpret."""


@dataclass(frozen=True)
class IntOrPercent:
    """An ``intstr.IntOrString`` as PDBs and rolling updates use it: ``2`` or ``"50%"``."""

    value: int
    is_percent: bool

    def scaled(self, total: int, round_up: bool) -> int:
        """``intstr.GetScaledValueFromIntOrPercent``: a percent of ``total``, rounded up or down."""
        if not self.is_percent:
            return self.value
        scaled = self.value * total
        return -(-scaled // 100) if round_up else scaled // 100

    def __str__(self) -> str:
        return f"{self.value}%" if self.is_percent else str(self.value)


def parse_int_or_percent(raw: Any) -> IntOrPercent:
    """``2`` -> IntOrPercent(2, False); ``"50%"`` -> IntOrPercent(50, True).

    A string without ``%`` ("2") is rejected the way intstr does it; so are bools and floats.
    """
    if isinstance(raw, bool):
        raise InvalidValueError(f"expected an integer or a percentage, got {raw!r}")
    if isinstance(raw, int):
        return IntOrPercent(raw, False)
    if isinstance(raw, str):
        match = _PERCENT_RE.match(raw)
        if match:
            return IntOrPercent(int(match.group(1)), True)
    raise InvalidValueError(f'expected an integer or a percentage like "50%", got {raw!r}')


# --- quantities --------------------------------------------------------------------------


def parse_quantity(raw: Any) -> Fraction:
    """A ``resource.Quantity`` ("250m", "1.5", "512Mi", "1e3", 2), exactly (see
    :mod:`gitops.quantity`); :class:`InvalidValueError` if it is not one."""
    try:
        return quantity.parse_quantity(raw)
    except ValueError as exc:
        raise InvalidValueError(f"not a Kubernetes quantity: {raw!r}") from exc


def milli_value(raw: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded away from zero as apimachinery's
    ScaledValue does (``-1.5m`` is ``-2``, not ``-1``) (CPU requests the HPA sums)."""
    value = parse_quantity(raw) * 1000
    return math.ceil(value) if value >= 0 else math.floor(value)


# --- replicas ----------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _group(api_version: Any) -> str:
    text = str(api_version or "")
    return text.rsplit("/", 1)[0] if "/" in text else ""


def _count(raw: Any, default: int) -> int:
    """An int field such as replicas; absent -> default; anything else is invalid."""
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidValueError(f"expected an integer, got {raw!r}")
    return raw


def scale_target_matches(scale_target_ref: Mapping[str, Any], workload: Mapping[str, Any]) -> bool:
    """Whether a ``scaleTargetRef`` names the workload, namespaces aside.

    The HPA resolves its target by API group + kind + name (the version in ``apiVersion`` does
    not matter: the scale client maps group/kind to a resource).
    """
    metadata = _mapping(workload.get("metadata"))
    if scale_target_ref.get("kind") != workload.get("kind") or scale_target_ref.get(
        "name"
    ) != metadata.get("name"):
        return False
    # No apiVersion is the core group (""), as the controller reads it: then only a core kind
    # matches, and a Deployment target fails with FailedGetScale.
    return _group(scale_target_ref.get("apiVersion", "")) == _group(workload.get("apiVersion"))


def hpa_targets(hpa: Mapping[str, Any], workload: Mapping[str, Any]) -> bool:
    """Whether the HPA scales the workload: its scaleTargetRef names it, in the HPA's namespace."""
    ref = _mapping(_mapping(hpa.get("spec")).get("scaleTargetRef"))
    hpa_namespace = _mapping(hpa.get("metadata")).get("namespace") or ""
    workload_namespace = _mapping(workload.get("metadata")).get("namespace") or ""
    return hpa_namespace == workload_namespace and scale_target_matches(ref, workload)


def managing_hpas(
    workload: Mapping[str, Any], hpas: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The HPAs (among ``hpas``) whose scaleTargetRef names ``workload``."""
    return [hpa for hpa in hpas if hpa_targets(hpa, workload)]


def hpa_min_replicas(hpa: Mapping[str, Any]) -> int:
    """``spec.minReplicas`` with its default (1)."""
    return _count(_mapping(hpa.get("spec")).get("minReplicas"), DEFAULT_MIN_REPLICAS)


def workload_replicas(workload: Mapping[str, Any]) -> int:
    """``spec.replicas`` with its default (1)."""
    return _count(_mapping(workload.get("spec")).get("replicas"), DEFAULT_REPLICAS)


def min_replicas(workload: Mapping[str, Any], hpas: Iterable[Mapping[str, Any]]) -> int:
    """The fewest pods the workload runs in steady state.

    With an HPA: its ``minReplicas`` (default 1); the HPA raises a lower ``spec.replicas`` to it.
    (Several HPAs on one target fight each other; the highest floor is the one that holds.)
    Without: ``spec.replicas`` (default 1).

    >>> min_replicas({"kind": "Deployment", "metadata": {"name": "web"}}, [])
    1
    """
    managing = managing_hpas(workload, hpas)
    if managing:
        return max(hpa_min_replicas(hpa) for hpa in managing)
    return workload_replicas(workload)


# --- PodDisruptionBudget (policy/v1) -----------------------------------------------------


def _budget(pdb_spec: Mapping[str, Any]) -> tuple[str, IntOrPercent] | None:
    """("maxUnavailable" | "minAvailable", value); maxUnavailable wins like in the controller.

    None when neither is set (allowed by validation; the budget then protects every pod).
    """
    for field_name in ("maxUnavailable", "minAvailable"):
        raw = pdb_spec.get(field_name)
        if raw is not None:
            value = parse_int_or_percent(raw)
            if value.value < 0:
                raise InvalidValueError(f"{field_name} must not be negative, got {raw!r}")
            return field_name, value
    return None


def budget_text(pdb_spec: Mapping[str, Any]) -> str:
    """How the budget reads in a message: ``minAvailable 2``, ``maxUnavailable "0%"``."""
    budget = _budget(pdb_spec)
    if budget is None:
        return "neither minAvailable nor maxUnavailable set"
    field_name, value = budget
    return f'{field_name} "{value}"' if value.is_percent else f"{field_name} {value}"


def expected_pods(pdb_spec: Mapping[str, Any], controller_scale: int, matched_pods: int) -> int:
    """``expectedCount`` of the disruption controller.

    ``maxUnavailable`` (int or %) and ``minAvailable`` as a percentage use the scale of the
    pods' controllers (the sum of their ``spec.replicas``); an integer ``minAvailable`` uses the
    number of pods the selector matches. Neither set: 0.
    """
    budget = _budget(pdb_spec)
    if budget is None:
        return 0
    field_name, value = budget
    if field_name == "minAvailable" and not value.is_percent:
        return matched_pods
    return controller_scale


def desired_healthy(pdb_spec: Mapping[str, Any], expected_pods: int) -> int:
    """``desiredHealthy``: how many healthy pods the budget insists on.

    | spec                 | desiredHealthy                                   |
    |----------------------|--------------------------------------------------|
    | maxUnavailable M     | max(0, expected - M); M% rounds the count UP     |
    | minAvailable N (int) | N                                                |
    | minAvailable P%      | ceil(P% of expected)                             |
    | neither              | 0 (with expected 0, so nothing may be disrupted) |

    >>> desired_healthy({"minAvailable": "50%"}, expected_pods=3)
    2
    """
    budget = _budget(pdb_spec)
    if budget is None:
        return 0
    field_name, value = budget
    if field_name == "maxUnavailable":
        return max(0, expected_pods - value.scaled(expected_pods, round_up=True))
    return value.scaled(expected_pods, round_up=True)


def disruptions_allowed(pdb_spec: Mapping[str, Any], healthy_pods: int, expected_pods: int) -> int:
    """``status.disruptionsAllowed``: max(0, healthy - desiredHealthy), and 0 whenever
    ``expected_pods`` <= 0 (which is always the case when neither field is set).

    ``expected_pods`` is what :func:`expected_pods` returns for the same spec.

    >>> disruptions_allowed({"maxUnavailable": 1}, healthy_pods=1, expected_pods=1)
    1
    >>> disruptions_allowed({}, healthy_pods=5, expected_pods=0)
    0
    """
    if _budget(pdb_spec) is None or expected_pods <= 0:
        return 0
    return max(0, healthy_pods - desired_healthy(pdb_spec, expected_pods))
