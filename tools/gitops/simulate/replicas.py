"""The HorizontalPodAutoscaler's replica calculator: what one metric proposes at one sync.

Transcribed (semantics, not code) from kubernetes/kubernetes pkg/controller/podautoscaler:
``replica_calculator.go`` (``GetResourceReplicas``, ``calcPlainMetricReplicas``,
``getUsageRatioReplicaCount``, ``GetObjectPerPodMetricReplicas``,
``GetExternalMetricReplicas``, ``GetExternalPerPodMetricReplicas``, ``groupPods``,
``calculateRequests``, ``calculatePodLevelRequests``, ``calculatePodRequestsFromContainers``,
``Tolerances.isWithin``), ``metrics/utilization.go`` (``GetResourceUtilizationRatio``,
``GetMetricUsageRatio``) and ``metrics/client.go`` (``getPodMetrics``, ``getContainerMetrics``),
with the kube-controller-manager flags and feature gates they read. Error texts are upstream's,
word for word, where upstream has the condition. The controller that combines the proposals over
metrics and time is :mod:`gitops.simulate.hpa`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gitops.k8s.features import POD_LEVEL_RESOURCES, FeatureGates, default_gates

# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerSettings:
    """kube-controller-manager flags that shape the HPA (their defaults, the same in every
    minor from 1.23 to 1.36) and its feature gates (the defaults of the target minor,
    :mod:`gitops.featuregates`)."""

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
    gates: FeatureGates = field(default_factory=default_gates)  # --feature-gates


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


# The int32/int64 bounds the Go code saturates at.
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


@dataclass(frozen=True)
class ContainerState:
    """One container of a pod: its CPU request (None: it has none) and the CPU usage
    metrics-server reports for it (None: no sample)."""

    name: str
    cpu_request_milli: int | None = None
    cpu_usage_milli: int | None = None
    sidecar: bool = False  # a restartable init container (restartPolicy: Always)


# The name of the one container of a pod given by its totals (PodState without containers).
SINGLE_CONTAINER = "app"


@dataclass(frozen=True)
class PodState:
    """What the HPA reads about one pod at a sync.

    ``ready`` None means the pod has no Ready condition. A pod is either its ``containers`` or,
    when that is empty, one container named ``app`` with ``cpu_request_milli`` (None: no CPU
    request) and ``cpu_usage_milli`` (None: metrics-server returned nothing for the pod).
    ``pod_requests`` is ``spec.resources.requests`` (pod-level, milli-units by resource name).
    ``metrics`` holds per-pod values of custom (Pods) metrics by name. ``sample_only``: the pod
    is gone from the pod list but metrics still returns its last sample (a deleted pod).
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
    containers: tuple[ContainerState, ...] = ()
    pod_requests: Mapping[str, int] = field(default_factory=dict)
    sample_only: bool = False

    def container_states(self) -> tuple[ContainerState, ...]:
        if self.containers:
            return self.containers
        return (ContainerState(SINGLE_CONTAINER, self.cpu_request_milli, self.cpu_usage_milli),)


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


# --- what metrics-server and the pod list give (metrics/client.go, calculateRequests) --------


def resource_metrics(pods: Sequence[PodState], container: str) -> dict[str, int]:
    """``GetResourceMetric``'s samples by pod: with a ``container``, only that container's
    usage (``getContainerMetrics``; a pod without it has no sample), else the pod's sum, none
    when a container has no usage (``getPodMetrics``). Every pod metrics-server reports counts,
    ``sample_only`` ones too; an error when it reports none."""
    out: dict[str, int] = {}
    reported = False
    for pod in pods:
        if not pod.containers:  # one container, given by the pod's totals (the common case)
            if pod.cpu_usage_milli is not None:
                reported = True
                if container in ("", SINGLE_CONTAINER):
                    out[pod.name] = pod.cpu_usage_milli
            continue
        states = pod.containers
        usages = [c.cpu_usage_milli for c in states]
        if all(u is None for u in usages):
            continue  # metrics-server has nothing for this pod
        reported = True
        if container:
            match = next((c for c in states if c.name == container), None)
            if match is not None and match.cpu_usage_milli is not None:
                out[pod.name] = match.cpu_usage_milli
        elif None not in usages:
            out[pod.name] = sum(u for u in usages if u is not None)
    if not reported:
        raise MetricError(
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        )
    return out


def _pod_level_requests_set(pod: PodState) -> bool:
    """``IsPodLevelRequestsSet``: spec.resources.requests names a pod-level resource (cpu,
    memory, hugepages-*)."""
    return any(
        name in ("cpu", "memory") or name.startswith("hugepages-") for name in pod.pod_requests
    )


def pod_level_request(pod: PodState) -> int:
    """``calculatePodLevelRequests``: the pod-level CPU request, else (pod-level memory only)
    the containers' CPU requests summed as ``PodRequests`` aggregates them (init containers
    that run to completion are not modelled)."""
    if "cpu" in pod.pod_requests:
        return pod.pod_requests["cpu"]
    requests = [
        c.cpu_request_milli for c in pod.container_states() if c.cpu_request_milli is not None
    ]
    if not requests:
        raise MetricError(f"missing pod-level request for cpu in Pod {pod.name}")
    return sum(requests)


def pod_requests_from_containers(pod: PodState, container: str) -> int:
    """``calculatePodRequestsFromContainers``: containers, then restartable init containers;
    only ``container`` when one is named."""
    if (
        not pod.containers
        and container in ("", SINGLE_CONTAINER)
        and (pod.cpu_request_milli is not None)
    ):
        return pod.cpu_request_milli  # one container given by the pod's totals: no walk
    states = pod.container_states()
    ordered = [c for c in states if not c.sidecar] + [c for c in states if c.sidecar]
    request = 0
    for state in ordered:
        if container in ("", state.name):
            if state.cpu_request_milli is None:
                raise MetricError(
                    f"missing request for cpu in container {state.name} of Pod {pod.name}"
                )
            request += state.cpu_request_milli
        if container == state.name:
            return request
    if container:
        raise MetricError(f"container {container} not found in Pod {pod.name}")
    return request


def calculate_requests(
    pods: Sequence[PodState], container: str, gates: FeatureGates
) -> dict[str, int]:
    """``calculateRequests``: the pod-level request when the PodLevelResources gate is on, the
    pod sets one and no container is named; else the containers'."""
    pod_level = gates.enabled(POD_LEVEL_RESOURCES)
    out: dict[str, int] = {}
    for pod in pods:
        if pod_level and _pod_level_requests_set(pod) and not container:
            out[pod.name] = pod_level_request(pod)
        else:
            out[pod.name] = pod_requests_from_containers(pod, container)
    return out


def _listed(pods: Sequence[PodState]) -> list[PodState]:
    """The pod list (the lister's answer): sample-only pods are not in it."""
    return [p for p in pods if not p.sample_only]


# --- the calculators --------------------------------------------------------------------


# Over six parameters: the docstring says why.
def resource_replicas(  # noqa: PLR0913
    current_replicas: int,
    target_utilization: int,
    pods: Sequence[PodState],
    tolerances: Tolerances,
    now: float,
    settings: ControllerSettings,
    container: str = "",
) -> Proposal:
    """``GetResourceReplicas`` for CPU utilization (of ``container`` for a ContainerResource
    metric). Seven parameters: upstream's, less the namespace and selector."""
    metrics = resource_metrics(pods, container)
    listed = _listed(pods)
    if not listed:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = _group_and_drop(listed, metrics, True, now, settings)
    requests = calculate_requests(listed, container, settings.gates)
    usage_ratio, utilization, raw = resource_utilization_ratio(
        metrics, dict(requests), target_utilization
    )
    plain = _plain_replicas(current_replicas, usage_ratio, groups, tolerances)
    if plain is not None:
        return Proposal(plain, utilization, raw)
    # Scale-down: a missing pod counts as using its whole request (or the target when the
    # target is above 100 %), so it never speeds the scale-down up.
    fallback = max(100, target_utilization)
    _fill_missing_and_unready(
        groups, metrics, usage_ratio, lambda name: requests[name] * fallback // 100
    )
    new_ratio, _, _ = resource_utilization_ratio(metrics, dict(requests), target_utilization)
    # len(metrics) counts samples of pods not in the list too, as upstream's does.
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
    place); an error when none is left, as both calculators of the controller do. Samples of
    pods not in the list stay (upstream only removes what it grouped)."""
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


def pods_metric_samples(pods: Sequence[PodState], metric_name: str) -> dict[str, int]:
    """``GetRawMetric``: the custom metric's per-pod values (sample-only pods too); an error
    when the custom metrics API returns none."""
    metrics = {p.name: p.metrics[metric_name] for p in pods if metric_name in p.metrics}
    if not metrics:
        raise MetricError(
            f"unable to get metric {metric_name}: no metrics returned from custom metrics API"
        )
    return metrics


# Over six parameters: the docstring says why.
def plain_metric_replicas(  # noqa: PLR0913
    current_replicas: int,
    target_usage: int,
    metrics: dict[str, int],
    pods: Sequence[PodState],
    is_cpu: bool,
    tolerances: Tolerances,
    now: float,
    settings: ControllerSettings,
) -> Proposal:
    """``calcPlainMetricReplicas``: a per-pod average value target, for a Pods metric
    (:func:`pods_metric_samples`) or a CPU AverageValue (:func:`resource_metrics`; then readiness
    is checked as for utilization). Eight parameters: upstream's, less the namespace and
    selector, plus the clock and flags the Go code reads from the controller."""
    listed = _listed(pods)
    if not listed:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = _group_and_drop(listed, metrics, is_cpu, now, settings)
    # The average runs over every sample left, those of pods not in the list included.
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
    listed = _listed(pods)
    if not listed:
        raise MetricError(
            "unable to calculate ready pods: "
            "no pods returned by selector while calculating replica count"
        )
    return sum(1 for p in listed if p.phase == RUNNING and p.ready is True)


def usage_ratio_replicas(
    current_replicas: int, usage_ratio: float, pods: Sequence[PodState], tolerances: Tolerances
) -> int:
    """``getUsageRatioReplicaCount`` (Object Value and External Value targets): ready pods
    times the ratio, saturated at MaxInt32; from zero replicas the tolerance and pod count are
    skipped, which is what lets an HPA scaled to zero come back."""
    if current_replicas != 0:
        if tolerances.is_within(usage_ratio):
            return current_replicas
        replicas = usage_ratio * float(ready_pods_count(pods))
        return MAX_INT32 if replicas > MAX_INT32 else math.ceil(replicas)
    return math.ceil(usage_ratio)


def _wrap_int64(value: int) -> int:
    """Go's int64 addition wraps around."""
    return (value + 2**63) % 2**64 - 2**63


def external_sum(values: Sequence[int]) -> int:
    """``GetExternalMetricReplicas``' total: saturated at MaxInt64 before it would overflow."""
    usage = 0
    for value in values:
        if value > 0 and usage > MAX_INT64 - value:
            return MAX_INT64
        usage = _wrap_int64(usage + value)
    return usage


def per_pod_value_replicas(
    status_replicas: int, usage: int, target_average: int, tolerances: Tolerances
) -> Proposal:
    """``GetObjectPerPodMetricReplicas`` (AverageValue): ratio against status.replicas x
    target; the proposal is ceil(usage / target)."""
    replicas = status_replicas
    ratio = float(usage) / (float(target_average) * float(replicas)) if replicas else math.inf
    if not tolerances.is_within(ratio):
        replicas = math.ceil(float(usage) / float(target_average))
    average = math.ceil(float(usage) / float(status_replicas)) if status_replicas else usage
    return Proposal(replicas, None, average)


def external_per_pod_replicas(
    status_replicas: int, values: Sequence[int], target_average: int, tolerances: Tolerances
) -> Proposal:
    """``GetExternalPerPodMetricReplicas``: the values summed (an int64 overflow saturates at
    MaxInt64), the proposal ceil(sum / target) saturated at MaxInt32, the reported average
    MaxInt64 when the sum is."""
    usage = 0
    for value in values:
        usage = _wrap_int64(usage + value)
        if usage < 0:  # "the only way we would ever get here is because of an Int64 overflow"
            usage = MAX_INT64
            break
    replicas = status_replicas
    ratio = float(usage) / (float(target_average) * float(replicas)) if replicas else math.inf
    if not tolerances.is_within(ratio):
        proposed = math.ceil(float(usage) / float(target_average))
        replicas = MAX_INT32 if proposed > MAX_INT32 else proposed
    if float(usage) >= float(MAX_INT64):
        average = MAX_INT64
    else:
        average = math.ceil(float(usage) / float(status_replicas)) if status_replicas else usage
    return Proposal(replicas, None, average)
