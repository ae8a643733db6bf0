"""The HorizontalPodAutoscaler's replica calculator: what one metric proposes at one sync.

Transcribed (semantics, not code) from kubernetes/kubernetes pkg/controller/podautoscaler:
``replica_calculator.go`` (``GetResourceReplicas``, ``calcPlainMetricReplicas``,
``getUsageRatioReplicaCount``, ``GetObjectPerPodMetricReplicas``,
``GetExternalPerPodMetricReplicas``, ``groupPods``, ``Tolerances.isWithin``) and
``metrics/utilization.go`` (``GetResourceUtilizationRatio``, ``GetMetricUsageRatio``), with the
kube-controller-manager flags they read. The controller that combines the proposals over
metrics and time is :mod:`gitops.simulate.hpa`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerSettings:
    """kube-controller-manager flags that shape the HPA (their defaults, 1.33)."""

    sync_period: float = 15.0  # --horizontal-pod-autoscaler-sync-period
    tolerance: float = 0.1  # --horizontal-pod-autoscaler-tolerance
    cpu_initialization_period: float = (
        300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
    )
    initial_readiness_delay: float = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay
    downscale_stabilization_window: float = 300.0  # ...-downscale-stabilization
    # horizontal.go scaleUpLimitFactor / scaleUpLimitMinimum (legacy path only). Upstream's own
    # controller tests raise the factor to 8 in an init(); tests that mirror them do the same.
    scale_up_limit_factor: float = 2.0
    scale_up_limit_minimum: float = 4.0


@dataclass(frozen=True)
class Tolerances:
    """``Tolerances``: no change while 1 - down <= ratio <= 1 + up."""

    scale_down: float
    scale_up: float

    def is_within(self, usage_ratio: float) -> bool:
        return (1.0 - self.scale_down) <= usage_ratio <= (1.0 + self.scale_up)


# --- per-sync inputs ----------------------------------------------------------------------

RUNNING = "Running"
PENDING = "Pending"
FAILED = "Failed"
SUCCEEDED = "Succeeded"
# Go's zero time.Time (0001-01-01) in Unix seconds: old enough for any test, and finite so that
# "zero + 10 s > zero" holds as it does in Go.
ZERO_TIME = -62135596800.0


@dataclass(frozen=True)
class PodState:
    """What the HPA reads about one pod at a sync.

    ``ready`` None means the pod has no Ready condition; ``cpu_request_milli`` None means a
    container lacks a CPU request; ``cpu_usage_milli`` None means metrics-server returned
    nothing for the pod. ``metrics`` holds per-pod values of custom (Pods) metrics by name.
    """

    name: str
    phase: str = RUNNING
    ready: bool | None = True
    ready_transition_time: float = ZERO_TIME
    start_time: float | None = ZERO_TIME
    deleting: bool = False
    cpu_request_milli: int | None = 1000
    cpu_usage_milli: int | None = None
    metric_timestamp: float = ZERO_TIME
    metric_window: float = 60.0
    metrics: Mapping[str, int] = field(default_factory=dict)


class MetricError(Exception):
    """A metric could not be computed (the controller's per-metric ``err``)."""


@dataclass(frozen=True)
class PodGroups:
    ready_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def group_pods(
    pods: Sequence[PodState],
    metric_values: Mapping[str, int],
    is_cpu: bool,
    now: float,
    settings: ControllerSettings,
) -> PodGroups:
    """``groupPods``: deleted/failed pods are ignored, Pending ones unready, pods without a
    sample missing; only for the CPU resource are Running pods checked for readiness."""
    ready_count = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == FAILED:
            ignored.add(pod.name)
            continue
        if pod.phase == PENDING:
            unready.add(pod.name)
            continue
        if pod.name not in metric_values:
            missing.add(pod.name)
            continue
        if is_cpu:
            if pod.ready is None or pod.start_time is None:
                is_unready = True
            elif pod.start_time + settings.cpu_initialization_period > now:
                # Still initialising: unready, or its sample predates one full window of Ready.
                is_unready = (not pod.ready) or (
                    pod.metric_timestamp < pod.ready_transition_time + pod.metric_window
                )
            else:
                # Later: only a pod that has never been Ready is set aside.
                is_unready = (not pod.ready) and (
                    pod.start_time + settings.initial_readiness_delay > pod.ready_transition_time
                )
            if is_unready:
                unready.add(pod.name)
                continue
        ready_count += 1
    return PodGroups(ready_count, frozenset(unready), frozenset(missing), frozenset(ignored))


def resource_utilization_ratio(
    metrics: Mapping[str, int], requests: Mapping[str, int | None], target_utilization: int
) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (ratio, utilization %, raw average milli).

    Utilization is a ratio of sums, truncated to an integer percent; metrics of pods without a
    known request are extraneous and skipped.
    """
    metrics_total = 0
    requests_total = 0
    entries = 0
    for name, value in metrics.items():
        request = requests.get(name)
        if request is None:
            continue
        metrics_total += value
        requests_total += request
        entries += 1
    if requests_total == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = (metrics_total * 100) // requests_total  # both non-negative: Go's truncation
    return float(utilization) / float(target_utilization), utilization, metrics_total // entries


def metric_usage_ratio(metrics: Mapping[str, int], target_usage: int) -> tuple[float, int]:
    """``GetMetricUsageRatio``: integer average over pods / target."""
    total = sum(metrics.values())
    # Go's integer division truncates toward zero; Python's // floors.
    usage = -(-total // len(metrics)) if total < 0 else total // len(metrics)
    return float(usage) / float(target_usage), usage


@dataclass(frozen=True)
class Proposal:
    replicas: int
    utilization: int | None  # percent, for Utilization targets
    usage: int | None  # raw average (milli), for value targets


def _requests(pods: Sequence[PodState]) -> dict[str, int | None]:
    """``calculateRequests``; a pod without a CPU request makes the metric fail."""
    out: dict[str, int | None] = {}
    for pod in pods:
        if pod.cpu_request_milli is None:
            raise MetricError(f"missing request for cpu in container of Pod {pod.name}")
        out[pod.name] = pod.cpu_request_milli
    return out


def resource_replicas(
    current_replicas: int,
    target_utilization: int,
    pods: Sequence[PodState],
    tolerances: Tolerances,
    now: float,
    settings: ControllerSettings,
) -> Proposal:
    """``GetResourceReplicas`` for CPU utilization."""
    metrics = {p.name: p.cpu_usage_milli for p in pods if p.cpu_usage_milli is not None}
    if not metrics:
        raise MetricError("no metrics returned from resource metrics API")
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = _group_and_drop(pods, metrics, True, now, settings)
    requests = _requests(pods)
    usage_ratio, utilization, raw = resource_utilization_ratio(
        metrics, requests, target_utilization
    )
    plain = _plain_replicas(current_replicas, usage_ratio, groups, tolerances)
    if plain is not None:
        return Proposal(plain, utilization, raw)
    # Scale-down: a missing pod counts as using its whole request (or the target when the
    # target is above 100 %), so it never speeds the scale-down up.
    fallback = max(100, target_utilization)
    _fill_missing_and_unready(
        groups, metrics, usage_ratio, lambda name: (requests[name] or 0) * fallback // 100
    )
    new_ratio, _, _ = resource_utilization_ratio(metrics, requests, target_utilization)
    replicas = _damped_replicas(current_replicas, usage_ratio, new_ratio, len(metrics), tolerances)
    return Proposal(replicas, utilization, raw)


def _group_and_drop(
    pods: Sequence[PodState],
    metrics: dict[str, int],
    is_cpu: bool,
    now: float,
    settings: ControllerSettings,
) -> PodGroups:
    """``groupPods``, then ignored and unready pods' samples removed from ``metrics`` (in
    place); an error when none is left, as both calculators of the controller do."""
    groups = group_pods(pods, metrics, is_cpu, now, settings)
    for name in groups.ignored | groups.unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    return groups


def _plain_replicas(
    current_replicas: int, usage_ratio: float, groups: PodGroups, tolerances: Tolerances
) -> int | None:
    """The proposal when no pod is missing and no unready pod matters (they matter only on a
    scale-up): the current size within tolerance, else ceil(ratio x *ready* pods), not x spec
    replicas. None when the damped recount decides instead."""
    if (groups.unready and usage_ratio > 1.0) or groups.missing:
        return None
    if tolerances.is_within(usage_ratio):
        return current_replicas
    return math.ceil(usage_ratio * float(groups.ready_count))


def _fill_missing_and_unready(
    groups: PodGroups,
    metrics: dict[str, int],
    usage_ratio: float,
    scale_down_value: Callable[[str], int],
) -> None:
    """The damped recount's inputs: on a scale-down a pod without a metric counts as
    ``scale_down_value`` (never speeding it up), on a scale-up as 0, like an unready pod."""
    if groups.missing:
        if usage_ratio < 1.0:
            for name in groups.missing:
                metrics[name] = scale_down_value(name)
        elif usage_ratio > 1.0:
            for name in groups.missing:
                metrics[name] = 0
    if groups.unready and usage_ratio > 1.0:
        for name in groups.unready:
            metrics[name] = 0


def _damped_replicas(
    current_replicas: int,
    usage_ratio: float,
    new_ratio: float,
    pod_count: int,
    tolerances: Tolerances,
) -> int:
    """The recount with missing and unready pods filled in; the current size when it would
    reverse the direction, or is now within tolerance."""
    if (
        tolerances.is_within(new_ratio)
        or (usage_ratio < 1.0 and new_ratio > 1.0)
        or (usage_ratio > 1.0 and new_ratio < 1.0)
    ):
        return current_replicas
    new_replicas = math.ceil(new_ratio * float(pod_count))
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return current_replicas
    return new_replicas


# Over six parameters: the docstring says why.
def pods_metric_replicas(  # noqa: PLR0913
    current_replicas: int,
    target_usage: int,
    metric_name: str,
    pods: Sequence[PodState],
    tolerances: Tolerances,
    now: float,
    settings: ControllerSettings,
) -> Proposal:
    """``calcPlainMetricReplicas`` for a Pods metric (per-pod average value). Seven
    parameters: :func:`resource_replicas`' inputs plus the metric's name, as the controller's
    function takes them."""
    metrics = {p.name: p.metrics[metric_name] for p in pods if metric_name in p.metrics}
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = _group_and_drop(pods, metrics, False, now, settings)
    usage_ratio, usage = metric_usage_ratio(metrics, target_usage)
    plain = _plain_replicas(current_replicas, usage_ratio, groups, tolerances)
    if plain is not None:
        return Proposal(plain, None, usage)
    # A missing pod counts as exactly the target on a scale-down.
    _fill_missing_and_unready(groups, metrics, usage_ratio, lambda _name: target_usage)
    new_ratio, _ = metric_usage_ratio(metrics, target_usage)
    replicas = _damped_replicas(current_replicas, usage_ratio, new_ratio, len(metrics), tolerances)
    return Proposal(replicas, None, usage)


def ready_pods_count(pods: Sequence[PodState]) -> int:
    """``getReadyPodsCount``: Running and Ready."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    return sum(1 for p in pods if p.phase == RUNNING and p.ready is True)


def usage_ratio_replicas(
    current_replicas: int, usage_ratio: float, pods: Sequence[PodState], tolerances: Tolerances
) -> int:
    """``getUsageRatioReplicaCount`` (Object Value and External Value targets): ready pods
    times the ratio; from zero replicas the tolerance and pod count are skipped, which is what
    lets minReplicas 0 scale back up."""
    if current_replicas != 0:
        if tolerances.is_within(usage_ratio):
            return current_replicas
        return math.ceil(usage_ratio * float(ready_pods_count(pods)))
    return math.ceil(usage_ratio)


def per_pod_value_replicas(
    status_replicas: int, usage: int, target_average: int, tolerances: Tolerances
) -> Proposal:
    """``GetObjectPerPodMetricReplicas`` / ``GetExternalPerPodMetricReplicas`` (AverageValue):
    ratio against status.replicas x target; the proposal is ceil(usage / target)."""
    replicas = status_replicas
    ratio = float(usage) / (float(target_average) * float(replicas)) if replicas else math.inf
    if not tolerances.is_within(ratio):
        replicas = math.ceil(float(usage) / float(target_average))
    average = math.ceil(float(usage) / float(status_replicas)) if status_replicas else usage
    return Proposal(replicas, None, average)
