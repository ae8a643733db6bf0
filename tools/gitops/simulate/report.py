"""Summaries and the three output formats of ``gitops simulate``.

>>> summary = summarize(timeline)
>>> summary.peak_replicas, summary.time_to_scale
(6, 60.0)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gitops.simulate.engine import Timeline
from gitops.simulate.hpa import CONTAINER_RESOURCE, RESOURCE, UTILIZATION


@dataclass(frozen=True)
class Summary:
    """What a reviewer wants to know about one run (all times in seconds).

    * ``time_to_scale``: from the first sync at which the HPA wants more pods to the first sync
      at which the CPU utilization is back within tolerance of the target (None: never);
    * ``time_at_max``: syncs at maxReplicas x the sync period;
    * ``time_to_settle``: from the last load change to the last replica change after it;
    * ``saturated``: time at maxReplicas with the utilization still above target + tolerance
      (the HPA has nothing left to give); ``max_utilization`` is the worst sample.
    """

    syncs: int
    start_replicas: int
    final_replicas: int
    peak_replicas: int
    min_seen_replicas: int
    time_to_scale: float | None
    time_at_max: float
    time_to_settle: float | None
    saturated: float
    max_utilization: int | None
    scale_ups: int
    scale_downs: int
    target_utilization: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "syncs": self.syncs,
            "startReplicas": self.start_replicas,
            "finalReplicas": self.final_replicas,
            "peakReplicas": self.peak_replicas,
            "minReplicasSeen": self.min_seen_replicas,
            "timeToScaleSeconds": self.time_to_scale,
            "timeAtMaxSeconds": self.time_at_max,
            "timeToSettleSeconds": self.time_to_settle,
            "saturatedSeconds": self.saturated,
            "maxUtilization": self.max_utilization,
            "scaleUps": self.scale_ups,
            "scaleDowns": self.scale_downs,
            "targetUtilization": self.target_utilization,
        }


def cpu_target(timeline: Timeline) -> int | None:
    for metric in timeline.scenario.hpa.metrics:
        if (
            metric.type in (RESOURCE, CONTAINER_RESOURCE)
            and metric.name == "cpu"
            and metric.target_type == UTILIZATION
        ):
            return metric.target
    return None


def summarize(timeline: Timeline) -> Summary:
    scenario = timeline.scenario
    steps = timeline.steps
    period = scenario.settings.sync_period
    hpa = scenario.hpa
    target = cpu_target(timeline)
    tolerance = scenario.settings.tolerance
    replicas = [s.replicas for s in steps]
    before = [scenario.start_replicas, *replicas[:-1]]

    time_to_scale: float | None = None
    pressure = next((s for s in steps if s.desired is not None and s.desired > s.replicas), None)
    first_up = next((s for s, prev in zip(steps, before, strict=True) if s.replicas > prev), None)
    start = first_up if pressure is None or (first_up and first_up.t < pressure.t) else pressure
    if start is not None and target is not None:
        settled = next(
            (
                s for s in steps
                if s.t > start.t and s.utilization is not None
                and s.utilization <= target * (1 + tolerance)
            ),
            None,
        )  # fmt: skip
        time_to_scale = settled.t - start.t if settled is not None else None

    changes = [s.t for s, prev in zip(steps, before, strict=True) if s.replicas != prev]
    load_changes = scenario.load.change_times() if scenario.load is not None else []
    time_to_settle: float | None = None
    if load_changes:
        last_load = load_changes[-1]
        after = [t for t in changes if t >= last_load]
        time_to_settle = (after[-1] - last_load) if after else 0.0

    at_max = [s for s in steps if s.replicas >= hpa.max_replicas]
    saturated = [
        s for s in at_max
        if target is not None and s.utilization is not None
        and s.utilization > target * (1 + tolerance)
    ]  # fmt: skip
    utilizations = [s.utilization for s in steps if s.utilization is not None]
    return Summary(
        syncs=len(steps),
        start_replicas=scenario.start_replicas,
        final_replicas=replicas[-1] if replicas else scenario.start_replicas,
        peak_replicas=max(replicas, default=scenario.start_replicas),
        min_seen_replicas=min(replicas, default=scenario.start_replicas),
        time_to_scale=time_to_scale,
        time_at_max=len(at_max) * period,
        time_to_settle=time_to_settle,
        saturated=len(saturated) * period,
        max_utilization=max(utilizations, default=None),
        scale_ups=sum(1 for s, p in zip(replicas, before, strict=True) if s > p),
        scale_downs=sum(1 for s, p in zip(replicas, before, strict=True) if s < p),
        target_utilization=target,
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "never"
    if value >= 120:
        return f"{value:.0f} s ({value / 60:.1f} min)"
    return f"{value:.0f} s"


def _rows(timeline: Timeline, summary: Summary) -> list[tuple[str, str]]:
    hpa = timeline.scenario.hpa
    target = f"{summary.target_utilization} % CPU" if summary.target_utilization else "custom"
    return [
        ("HPA", f"{timeline.scenario.hpa_name}: {hpa.min_replicas}..{hpa.max_replicas} at {target}"
                f", {'behavior' if hpa.behavior else 'no behavior (legacy limits)'}"),
        ("syncs", f"{summary.syncs} x {timeline.scenario.settings.sync_period:g} s"),
        ("replicas", f"{summary.start_replicas} -> {summary.final_replicas} "
                     f"(peak {summary.peak_replicas}, low {summary.min_seen_replicas})"),
        ("time to scale", "no scale-up" if summary.time_to_scale is None and not summary.scale_ups
                          else _seconds(summary.time_to_scale)),
        ("time at max", _seconds(summary.time_at_max)),
        ("time to settle", "n/a (the load does not change)" if summary.time_to_settle is None
                           else _seconds(summary.time_to_settle)),
        ("saturated", f"{_seconds(summary.saturated)} at max with CPU above target"),
        ("peak CPU", "n/a" if summary.max_utilization is None
                     else f"{summary.max_utilization} %"),
        ("scale events", f"{summary.scale_ups} up, {summary.scale_downs} down"),
    ]  # fmt: skip


def format_text(timeline: Timeline) -> str:
    summary = summarize(timeline)
    rows = _rows(timeline, summary)
    width = max(len(k) for k, _ in rows)
    lines = [f"{timeline.scenario.source}"]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines) + "\n"


def format_markdown(timeline: Timeline) -> str:
    summary = summarize(timeline)
    lines = [f"### `{timeline.scenario.source}`", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in _rows(timeline, summary)]
    return "\n".join(lines) + "\n"


def format_json(timeline: Timeline) -> str:
    document = {
        "scenario": timeline.scenario.source,
        "hpa": timeline.scenario.hpa_name,
        "summary": summarize(timeline).to_json(),
        "timeline": [s.to_json() for s in timeline.steps],
    }
    return json.dumps(document, indent=2) + "\n"


FORMATTERS = {"text": format_text, "markdown": format_markdown, "json": format_json}
