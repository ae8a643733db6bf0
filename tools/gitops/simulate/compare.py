"""Compare a replica timeline recorded from a real HPA controller with the simulation.

The real controller syncs on its own clock: its decisions may land up to one sync period
before or after ours. So a recording matches when, at every recorded sample ``(t, replicas)``,
the simulation shows that replica count at some moment within ``[t - period, t + period]``.

Two ways to get the simulated side: :func:`replay` runs the controller over the exact pod
observations a test recorded (the per-pod usage inputs; :func:`observation_from_api` turns the
API's Pod and PodMetrics objects into them), :func:`gitops.simulate.engine.simulate` runs a
scenario; :func:`compare_timelines` matches either against the recording.

    >>> result = compare_timelines([(0, 2), (30, 4)], [(0, 2), (15, 2), (30, 4)], 15)
    >>> result.matches
    True
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gitops import k8s_math
from gitops.simulate.hpa import HPAController, HPASpec
from gitops.simulate.replicas import ZERO_TIME, ControllerSettings, PodState
from gitops.simulate.scenario import pod_cpu_request_milli


@dataclass(frozen=True)
class Observation:
    """What the controller would read at ``t``: the pods (phase, readiness, requests, CPU
    samples) and Object/External metric values."""

    t: float
    pods: tuple[PodState, ...]
    metric_values: Mapping[str, int] = field(default_factory=dict)


def api_time(value: Any) -> float | None:
    """An RFC 3339 timestamp of the API ("2026-12-01T21:00:00Z") as Unix seconds."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def go_duration(value: Any) -> float:
    """A Go duration string as metrics-server writes ``window`` ("15s", "1m0.5s") in seconds."""
    if not isinstance(value, str):
        return 0.0
    return sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(value))


def pod_state_from_api(pod: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> PodState:
    """A v1 Pod and its metrics.k8s.io PodMetrics (None: no sample) as the HPA reads them."""
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    ready_condition = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None
    )
    usage: int | None = None
    timestamp = ZERO_TIME
    window = 0.0
    if metrics is not None:
        containers = metrics.get("containers") or []
        values = [((c.get("usage") or {}).get("cpu")) for c in containers]
        if containers and all(v is not None for v in values):
            usage = sum(k8s_math.milli_value(v) for v in values)
        timestamp = api_time(metrics.get("timestamp")) or ZERO_TIME
        window = go_duration(metrics.get("window"))
    return PodState(
        name=str(metadata.get("name")),
        phase=str(status.get("phase", "Pending")),
        ready=None if ready_condition is None else ready_condition.get("status") == "True",
        ready_transition_time=(
            api_time((ready_condition or {}).get("lastTransitionTime")) or ZERO_TIME
        ),
        start_time=api_time(status.get("startTime")),
        deleting=bool(metadata.get("deletionTimestamp")),
        cpu_request_milli=pod_cpu_request_milli(pod.get("spec") or {}),
        cpu_usage_milli=usage,
        metric_timestamp=timestamp,
        metric_window=window,
    )


def observation_from_api(
    t: float, pods: Sequence[Mapping[str, Any]], pod_metrics: Sequence[Mapping[str, Any]]
) -> Observation:
    """What a recorder captured at Unix time ``t`` (``kubectl get pods -o json`` items and
    ``kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods`` items)."""
    by_name = {str((m.get("metadata") or {}).get("name")): m for m in pod_metrics}
    states = tuple(
        pod_state_from_api(p, by_name.get(str((p.get("metadata") or {}).get("name")))) for p in pods
    )
    return Observation(t, states)


def replay(
    spec: HPASpec,
    settings: ControllerSettings,
    start_replicas: int,
    observations: Sequence[Observation],
) -> list[tuple[float, int]]:
    """The simulated (t, replicas) for recorded inputs, one controller sync per observation."""
    controller = HPAController(spec, settings)
    replicas = start_replicas
    out: list[tuple[float, int]] = []
    for observation in sorted(observations, key=lambda o: o.t):
        status = len([p for p in observation.pods if not p.deleting and p.phase != "Failed"])
        result = controller.sync(
            observation.t, replicas, status, observation.pods, observation.metric_values
        )
        replicas = result.replicas
        out.append((observation.t, replicas))
    return out


@dataclass(frozen=True)
class Mismatch:
    t: float
    recorded: int
    simulated: tuple[int, ...]  # what the simulation showed within one period of t


@dataclass(frozen=True)
class Comparison:
    period: float
    samples: int
    mismatches: tuple[Mismatch, ...]

    @property
    def matches(self) -> bool:
        return not self.mismatches

    def describe(self) -> str:
        if self.matches:
            return f"{self.samples} samples match within {self.period:g} s"
        lines = [f"{len(self.mismatches)} of {self.samples} samples differ:"]
        lines += [
            f"  t={m.t:g}: recorded {m.recorded}, simulated {list(m.simulated)} "
            f"within +-{self.period:g} s"
            for m in self.mismatches
        ]
        return "\n".join(lines)


def _value_at(series: Sequence[tuple[float, int]], times: list[float], t: float) -> int | None:
    """The replica count in effect at ``t`` (the last sample at or before it)."""
    index = bisect.bisect_right(times, t) - 1
    return series[index][1] if index >= 0 else None


def compare_timelines(
    recorded: Sequence[tuple[float, int]],
    simulated: Sequence[tuple[float, int]],
    period: float,
) -> Comparison:
    """Match every recorded sample against the simulation within one sync ``period``."""
    series = sorted(simulated)
    times = [t for t, _ in series]
    mismatches: list[Mismatch] = []
    for t, replicas in recorded:
        window = [r for st, r in series if t - period <= st <= t + period]
        before = _value_at(series, times, t - period)
        if before is not None:
            window.append(before)
        if replicas not in window:
            mismatches.append(Mismatch(t, replicas, tuple(sorted(set(window)))))
    return Comparison(period, len(recorded), tuple(mismatches))
