"""What the cluster should do, computed from the rendered manifests, never typed in a test.

Probe budgets follow the kubelet (defaults: period 10 s, timeout 1 s, failureThreshold 3,
successThreshold 1, initialDelay 0). PDB expectations use :mod:`gitops.k8s_math`, the same
arithmetic as the static checks, so a disagreement between the two is a test failure.

    >>> startup_budget(container, slack=20)   # healthz dev: 0 + 2 x 5 + 20
    30.0
    >>> pdb_expectation(pdb, replicas=2)
    PdbExpectation(replicas=2, desired_healthy=1, disruptions_allowed=1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops.k8s import find_container
from gitops.k8s_math import (
    desired_healthy,
    disruptions_allowed,
    expected_pods,
    milli_value,
    probe_timings,
)

DEFAULT_TERMINATION_GRACE_SECONDS = 30
# Pod scheduling, container creation from an image already on the node, Python imports.
START_SLACK_SECONDS = 20.0
# The HPA controller syncs every 15 s (--horizontal-pod-autoscaler-sync-period default);
# metrics-server scrapes every 15 s (--metric-resolution in its release manifest); the kubelet
# refreshes the container CPU counters metrics-server reads at most every 15 s (cAdvisor's
# housekeeping: 10 s, stretched up to 15 s when nothing changes).
HPA_SYNC_SECONDS = 15
METRICS_RESOLUTION_SECONDS = 15
KUBELET_STATS_REFRESH_SECONDS = 15
# A shared CI runner (2 vCPUs, three kind nodes, Argo CD) delays every controller and the
# kubelet; measured budgets elsewhere in this file carry a fixed 20-30 s, this one a minute.
LOADED_RUNNER_SLACK_SECONDS = 60
# HPA defaults (pkg/apis/autoscaling/v2 defaults, pkg/controller/podautoscaler): no metrics
# means CPU at 80 % utilization; ratios within 10 % of 1.0 change nothing.
DEFAULT_CPU_UTILIZATION = 80
HPA_TOLERANCE = 0.1

# Load generator sizing (manifests/load-generator/load.py: blocking clients, one request at a
# time each). Two clients per healthz pod keep its CPU busy: while one request is served the
# other is in flight or being parsed, so the server never waits for work. Twice the most pods
# the HPA may run, so the load still saturates every pod at maxReplicas and the HPA keeps
# asking for more (ScalingLimited/TooManyReplicas is then observable).
LOAD_CLIENTS_PER_POD = 2
# An upper estimate of one GET /health's CPU in the Python server (~1 ms measured on a
# laptop core; a CI vCPU is slower). With the CPU limit this gives how long a probe can wait
# behind queued load requests; CFS hands out quota per 100 ms period.
REQUEST_CPU_SECONDS = 0.005
CFS_PERIOD_SECONDS = 0.1


@dataclass(frozen=True)
class Probe:
    initial_delay: int
    period: int
    timeout: int
    success_threshold: int
    failure_threshold: int

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> Probe | None:
        if not spec:
            return None
        values = probe_timings(spec)  # 0 -> the API server's default, as the kubelet sees it
        return cls(
            int(values["initialDelaySeconds"]),
            int(values["periodSeconds"]),
            int(values["timeoutSeconds"]),
            int(values["successThreshold"]),
            int(values["failureThreshold"]),
        )

    @property
    def failure_window(self) -> int:
        """initialDelay + failureThreshold x period: how long the kubelet gives a new container."""
        return self.initial_delay + self.failure_threshold * self.period

    @property
    def detection_time(self) -> int:
        """A running container that starts failing is acted on after about this long."""
        return self.failure_threshold * self.period + self.timeout


def container(workload: Mapping[str, Any], name: str | None = None) -> Mapping[str, Any]:
    found = find_container(workload, name)
    if found:
        return found
    raise LookupError(f"no container {name!r} in {workload.get('kind')}")


def startup_budget(spec: Mapping[str, Any], slack: float = START_SLACK_SECONDS) -> float:
    """Seconds from pod creation to Ready that the probes allow, plus ``slack``.

    With a startupProbe the container has its window (initialDelay + failureThreshold x
    period) to start; readiness is only probed after that, and then has its own window.
    """
    startup = Probe.from_spec(spec.get("startupProbe"))
    readiness = Probe.from_spec(spec.get("readinessProbe"))
    budget = float(startup.failure_window if startup else 0)
    if readiness:
        budget += readiness.failure_window + (readiness.success_threshold - 1) * readiness.period
    return budget + slack


def liveness_restart_budget(
    spec: Mapping[str, Any],
    termination_grace: int | None = None,
    slack: float = START_SLACK_SECONDS,
) -> float:
    """A container whose liveness probe always fails is restarted within this many seconds of
    starting: startup window, then initialDelay + failureThreshold x period + timeout, then at
    most the termination grace period before SIGKILL."""
    liveness = Probe.from_spec(spec.get("livenessProbe"))
    if liveness is None:
        raise LookupError(f"container {spec.get('name')!r} has no livenessProbe")
    startup = Probe.from_spec(spec.get("startupProbe"))
    probe_grace = (spec.get("livenessProbe") or {}).get("terminationGracePeriodSeconds")
    grace = probe_grace or termination_grace or DEFAULT_TERMINATION_GRACE_SECONDS
    return (
        (startup.failure_window if startup else 0)
        + liveness.initial_delay
        + liveness.detection_time
        + grace
        + slack
    )


def unready_budget(spec: Mapping[str, Any], slack: float = 10.0) -> float:
    """A Ready container whose readiness starts failing turns NotReady within this long."""
    readiness = Probe.from_spec(spec.get("readinessProbe"))
    if readiness is None:
        raise LookupError(f"container {spec.get('name')!r} has no readinessProbe")
    return readiness.detection_time + slack


def ready_again_budget(spec: Mapping[str, Any], slack: float = 20.0) -> float:
    """A NotReady container whose dependency came back is Ready again within this long."""
    readiness = Probe.from_spec(spec.get("readinessProbe"))
    if readiness is None:
        raise LookupError(f"container {spec.get('name')!r} has no readinessProbe")
    return readiness.success_threshold * readiness.period + readiness.timeout + slack


def liveness_hold_seconds(
    spec: Mapping[str, Any], termination_grace: int | None = None, slack: float = 5.0
) -> float:
    """How long an outage must last to prove liveness does not restart the container: longer
    than the liveness probe needs to act. restartCount only moves once the killed container
    has exited (SIGTERM, up to the grace period, SIGKILL) and a new one started, so the grace
    period is part of it."""
    liveness = Probe.from_spec(spec.get("livenessProbe"))
    if liveness is None:
        raise LookupError(f"container {spec.get('name')!r} has no livenessProbe")
    probe_grace = (spec.get("livenessProbe") or {}).get("terminationGracePeriodSeconds")
    grace = probe_grace or termination_grace or DEFAULT_TERMINATION_GRACE_SECONDS
    return liveness.detection_time + grace + slack


@dataclass(frozen=True)
class PdbExpectation:
    replicas: int
    desired_healthy: int
    disruptions_allowed: int


def pdb_expectation(pdb: Mapping[str, Any], replicas: int) -> PdbExpectation:
    """The budget with ``replicas`` Ready pods of one controller (no other pods matched)."""
    spec = pdb.get("spec") or {}
    expected = expected_pods(spec, controller_scale=replicas, matched_pods=replicas)
    return PdbExpectation(
        replicas,
        desired_healthy(spec, expected),
        disruptions_allowed(spec, healthy_pods=replicas, expected_pods=expected),
    )


def replicas_for_eviction_test(pdb: Mapping[str, Any], floor: int, ceiling: int) -> int:
    """The fewest replicas (>= ``floor``, the HPA minimum) at which the budget allows at
    least one eviction *and* still protects one Ready pod, so both outcomes (success, then
    HTTP 429) can be observed. ``ceiling`` is the HPA maximum."""
    for replicas in range(max(floor, 1), ceiling + 1):
        expectation = pdb_expectation(pdb, replicas)
        if 0 < expectation.disruptions_allowed < replicas:
            return replicas
    raise ValueError(
        f"no replica count in {floor}..{ceiling} lets the PDB both allow and refuse an eviction"
    )


@dataclass(frozen=True)
class HpaBounds:
    min_replicas: int
    max_replicas: int
    scale_down_window: int
    cpu_target_utilization: int = DEFAULT_CPU_UTILIZATION

    @classmethod
    def from_hpa(cls, hpa: Mapping[str, Any]) -> HpaBounds:
        spec = hpa.get("spec") or {}
        scale_down = (spec.get("behavior") or {}).get("scaleDown") or {}
        return cls(
            int(spec.get("minReplicas", 1)),
            int(spec["maxReplicas"]),
            int(scale_down.get("stabilizationWindowSeconds", 300)),
            cpu_target_utilization(spec),
        )

    def scale_up_budget(self, pod_start: float) -> float:
        """Load starts -> usage visible (2 metric resolutions) -> HPA acts (2 syncs) -> the
        new pods pass their startup budget."""
        return 2 * METRICS_RESOLUTION_SECONDS + 2 * HPA_SYNC_SECONDS + pod_start + 30

    def scale_down_budget(self) -> float:
        """Seconds from the load stopping to the HPA and Deployment back at minReplicas:

        * the kubelet's CPU counters show the idle pods (one stats refresh);
        * metrics-server reports a rate from two scrapes, both after the drop, before the
          reported usage is low (2 resolutions);
        * the next HPA sync records the first low recommendation (1 sync);
        * the stabilization window keeps the highest recommendation it holds, so the high
          ones must age out of it (the window);
        * the sync after that scales down; the default policy (100 % per 15 s) reaches the
          minimum in one step, and one more sync covers the phase of the loop (2 syncs);
        * slack for a loaded runner.
        """
        return (
            KUBELET_STATS_REFRESH_SECONDS
            + 2 * METRICS_RESOLUTION_SECONDS
            + HPA_SYNC_SECONDS
            + self.scale_down_window
            + 2 * HPA_SYNC_SECONDS
            + LOADED_RUNNER_SLACK_SECONDS
        )


def cpu_target_utilization(hpa_spec: Mapping[str, Any]) -> int:
    """The HPA's CPU averageUtilization target (80 when no metric is given, as defaulted)."""
    metrics = hpa_spec.get("metrics")
    if not metrics:
        return DEFAULT_CPU_UTILIZATION
    for metric in metrics:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if (
            metric.get("type") == "Resource"
            and resource.get("name") == "cpu"
            and target.get("type") == "Utilization"
        ):
            return int(target["averageUtilization"])
    raise LookupError("the HPA has no CPU Utilization metric: the load test drives CPU only")


@dataclass(frozen=True)
class LoadPlan:
    """How the HPA test loads the target, and what the HPA must then do."""

    clients: int  # concurrent blocking HTTP clients (THREADS of the load generator)
    saturated_utilization: int  # % of the CPU request a pod uses at its CPU limit
    probe_queue_seconds: float  # worst wait of a probe behind queued load requests
    exceeds_max: bool  # saturating maxReplicas pods still asks for more than maxReplicas


def load_plan(bounds: HpaBounds, spec: Mapping[str, Any]) -> LoadPlan:
    """Size the load generator for the container ``spec`` the HPA scales.

    Enough clients to hold every pod at its CPU limit up to maxReplicas, and no more: the
    probes share the pod's accept queue and CPU with the load, so each extra client is one
    more request a readiness probe waits behind. The worst case (all clients on one pod,
    at minReplicas) must stay inside the readiness timeout with a CFS period to spare, or
    the pods flap NotReady and the HPA ignores their CPU instead of scaling.
    """
    resources = spec.get("resources") or {}
    request = milli_value((resources.get("requests") or {})["cpu"])
    limit = milli_value((resources.get("limits") or {})["cpu"])
    readiness = Probe.from_spec(spec.get("readinessProbe"))
    clients = LOAD_CLIENTS_PER_POD * bounds.max_replicas
    saturated = limit * 100 // request
    queue = clients * REQUEST_CPU_SECONDS / (limit / 1000) + CFS_PERIOD_SECONDS
    if readiness is not None and queue >= readiness.timeout:
        raise ValueError(
            f"{clients} load clients would hold a readiness probe ~{queue:.2f}s behind them "
            f"(timeoutSeconds {readiness.timeout}): lower LOAD_CLIENTS_PER_POD"
        )
    ratio = saturated / bounds.cpu_target_utilization
    if ratio <= 1 + HPA_TOLERANCE:
        raise ValueError(
            f"at its CPU limit a pod uses {saturated}% of its request, within the HPA's "
            f"tolerance of the {bounds.cpu_target_utilization}% target: no load can scale it"
        )
    return LoadPlan(
        clients=clients,
        saturated_utilization=saturated,
        probe_queue_seconds=queue,
        exceeds_max=math.ceil(ratio * bounds.max_replicas) > bounds.max_replicas,
    )


def scaling_limited_reason(hpa: Mapping[str, Any]) -> str | None:
    """The reason of a ScalingLimited=True condition (``TooManyReplicas`` when the HPA wanted
    more than maxReplicas), None when the HPA is not limited."""
    for entry in (hpa.get("status") or {}).get("conditions") or []:
        if entry.get("type") == "ScalingLimited" and entry.get("status") == "True":
            return str(entry.get("reason") or "")
    return None


def simulated_ready_delay(spec: Mapping[str, Any]) -> int:
    """Seconds after it starts that a container answering every probe at once turns Ready:
    the kubelet probes readiness first after initialDelaySeconds and then every period, and
    the startup probe must pass before that. The prober's first run lands anywhere within one
    period, so a whole period is the real container's latest (and the KWOK pod's fixed) delay.

    >>> simulated_ready_delay({"readinessProbe": {"periodSeconds": 5}})
    5
    """
    delay = 0
    startup = Probe.from_spec(spec.get("startupProbe"))
    if startup is not None:
        delay += startup.initial_delay + startup.success_threshold * startup.period
    readiness = Probe.from_spec(spec.get("readinessProbe"))
    if readiness is not None:
        delay += readiness.initial_delay + readiness.success_threshold * readiness.period
    return delay
