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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops.k8s_math import desired_healthy, disruptions_allowed, expected_pods, probe_timings

DEFAULT_TERMINATION_GRACE_SECONDS = 30
# Pod scheduling, container creation from an image already on the node, Python imports.
START_SLACK_SECONDS = 20.0
# The HPA controller syncs every 15 s; metrics-server's resolution is 15 s in its release
# manifest; kubelet's CPU usage is a rate over its own window. Two rounds of each.
HPA_SYNC_SECONDS = 15
METRICS_RESOLUTION_SECONDS = 15


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
    template = (workload.get("spec") or {}).get("template") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    for candidate in containers:
        if name is None or candidate.get("name") == name:
            return candidate
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

    @classmethod
    def from_hpa(cls, hpa: Mapping[str, Any]) -> HpaBounds:
        spec = hpa.get("spec") or {}
        scale_down = (spec.get("behavior") or {}).get("scaleDown") or {}
        return cls(
            int(spec.get("minReplicas", 1)),
            int(spec["maxReplicas"]),
            int(scale_down.get("stabilizationWindowSeconds", 300)),
        )

    def scale_up_budget(self, pod_start: float) -> float:
        """Load starts -> usage visible (2 metric resolutions) -> HPA acts (2 syncs) -> the
        new pods pass their startup budget."""
        return 2 * METRICS_RESOLUTION_SECONDS + 2 * HPA_SYNC_SECONDS + pod_start + 30

    def scale_down_budget(self) -> float:
        """Load stops -> usage drops (2 resolutions) -> the window passes -> one scale-down
        step per sync (100 % per 15 s policy: one step suffices) -> 2 syncs of margin."""
        return 2 * METRICS_RESOLUTION_SECONDS + self.scale_down_window + 3 * HPA_SYNC_SECONDS + 30
