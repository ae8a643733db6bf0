"""Compare a replica timeline recorded from a real HPA controller with the simulation.

The real controller syncs on its own clock: its decisions may land up to one sync period
before or after ours. So a recording matches when, at every recorded sample ``(t, replicas)``,
the simulation shows that replica count at some moment within ``[t - period, t + period]``.

Two ways to get the simulated side: :func:`replay` runs the controller over the exact pod
observations a test recorded (the per-pod usage inputs), :func:`gitops.simulate.engine.simulate`
runs a scenario; :func:`compare_timelines` matches either against the recording.

    >>> result = compare_timelines([(0, 2), (30, 4)], [(0, 2), (15, 2), (30, 4)], 15)
    >>> result.matches
    True
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gitops.simulate.hpa import ControllerSettings, HPAController, HPASpec, PodState


@dataclass(frozen=True)
class Observation:
    """What the controller would read at ``t``: the pods (phase, readiness, requests, CPU
    samples) and Object/External metric values."""

    t: float
    pods: tuple[PodState, ...]
    metric_values: Mapping[str, int] = field(default_factory=dict)


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
