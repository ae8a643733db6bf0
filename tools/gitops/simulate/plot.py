"""Plots a reviewer reads at a glance: an HPA timeline, base vs head, one sync, a drain, a
rollout.

matplotlib with the Agg backend (works on CI runners without a display). Each plot kind has a
``*_figure`` function that builds the figure (what the golden tests inspect) and a ``write_*``
function that saves it as a PNG. Conventions shared by every kind:

* the title says what was simulated and against what bounds; the subtitle gives the verdict in
  words, so the picture is readable before the lines are;
* colours are the Okabe-Ito palette (distinguishable with every common colour-vision
  deficiency) and each series also has its own line style, so nothing relies on hue alone;
* bounds are dashed lines; saturated periods (at maxReplicas, CPU still above target) are
  shaded; the time axis is in s, min or h depending on the span; legends sit outside the axes.

    >>> write_plot(timeline, Path("healthz.png"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gitops.errors import GitopsError
from gitops.simulate.engine import Step, Timeline
from gitops.simulate.report import Summary, cpu_target, summarize

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from gitops.simulate.drain import DrainReport
    from gitops.simulate.rollout import RolloutPlan

# Okabe & Ito, "Color Universal Design" (2008): safe for protanopia, deuteranopia, tritanopia.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
BLACK = "#000000"
GREY = "#7F7F7F"
SATURATED = "saturated (at max, CPU above target)"


@dataclass(frozen=True)
class TimeUnit:
    name: str  # "s" | "min" | "h"
    seconds: float

    def label(self, what: str = "time") -> str:
        return f"{what} ({self.name})"


def time_unit(span_seconds: float) -> TimeUnit:
    """Seconds up to 3 minutes, minutes up to 3 hours, hours beyond."""
    if span_seconds <= 180:
        return TimeUnit("s", 1.0)
    if span_seconds <= 3 * 3600:
        return TimeUnit("min", 60.0)
    return TimeUnit("h", 3600.0)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _subplots(rows: int, **options: Any) -> tuple[Figure, Any]:
    """A figure of ``rows`` stacked axes (a 2-D array, column 0) with constrained layout,
    which is what lets legends sit outside the axes."""
    figure, axes = _pyplot().subplots(
        rows, 1, dpi=100, squeeze=False, layout="constrained", **options
    )
    return cast("Figure", figure), axes


# --- the HPA timeline ---------------------------------------------------------------------


def timeline_title(timeline: Timeline) -> str:
    scenario = timeline.scenario
    hpa = scenario.hpa
    target = cpu_target(timeline)
    what = f"CPU target {target} %" if target is not None else "custom metrics"
    where = scenario.overlay or scenario.hpa_name
    return f"{where}: {scenario.name} ({what}, {hpa.min_replicas}..{hpa.max_replicas} replicas)"


def verdict(timeline: Timeline, summary: Summary | None = None) -> str:
    """One sentence: does the HPA keep up, and for how long is it at max or saturated."""
    summary = summary or summarize(timeline)
    hpa = timeline.scenario.hpa
    peak = f"peak {summary.peak_replicas} of max {hpa.max_replicas}"
    if summary.saturated > 0:
        return (
            f"Saturated for {_duration(summary.saturated)}: at maxReplicas with CPU above "
            f"target ({peak}, {_duration(summary.time_at_max)} at max)"
        )
    if summary.time_at_max > 0:
        return f"Keeps up, but at maxReplicas for {_duration(summary.time_at_max)} ({peak})"
    return f"Keeps up: {peak}, never at maxReplicas"


def _saturated_spans(timeline: Timeline) -> list[tuple[float, float]]:
    """[start, end) of each run of syncs at maxReplicas with CPU above target + tolerance."""
    target = cpu_target(timeline)
    scenario = timeline.scenario
    if target is None:
        return []
    limit = target * (1 + scenario.settings.tolerance)
    period = scenario.settings.sync_period
    spans: list[tuple[float, float]] = []
    for step in timeline.steps:
        hot = step.utilization is not None and step.utilization > limit
        if step.replicas >= scenario.hpa.max_replicas and hot:
            if spans and abs(spans[-1][1] - step.t) < 1e-9:
                spans[-1] = (spans[-1][0], step.t + period)
            else:
                spans.append((step.t, step.t + period))
    return spans


def timeline_figure(timeline: Timeline) -> Figure:
    """Replicas (current), the metrics' proposal (desired) and Ready pods over time, min/max
    dashed, CPU utilisation against its target on the right axis, the load below. A timeline
    of one sync is a bar chart of that decision instead (:func:`decision_figure`). Long
    because it lays out one figure: each block adds one series or axis."""
    if len(timeline.steps) <= 1:
        return decision_figure(timeline)
    steps = timeline.steps
    hpa = timeline.scenario.hpa
    unit = time_unit(steps[-1].t - steps[0].t)
    times = [s.t / unit.seconds for s in steps]
    figure, axes = _subplots(2, figsize=(10, 5.6), sharex=True, height_ratios=(3, 1))
    axis, load_axis = axes[0, 0], axes[1, 0]
    for start, end in _saturated_spans(timeline):
        for target_axis in (axis, load_axis):
            target_axis.axvspan(
                start / unit.seconds, end / unit.seconds, color=VERMILLION, alpha=0.15,
                linewidth=0, label=SATURATED if target_axis is axis else None,
            )  # fmt: skip
    axis.step(times, [s.replicas for s in steps], where="post", color=BLUE, linewidth=2.4,
              label="current (spec.replicas)")  # fmt: skip
    axis.step(times, [s.ready for s in steps], where="post", color=GREEN, linewidth=1.6,
              linestyle=(0, (5, 2)), label="Ready pods")  # fmt: skip
    desired = [(t, s.desired) for t, s in zip(times, steps, strict=True) if s.desired is not None]
    if desired:
        axis.plot([t for t, _ in desired], [d for _, d in desired], linestyle="none",
                  marker=".", markersize=4, color=ORANGE,
                  label="desired (metrics' proposal)")  # fmt: skip
    axis.axhline(hpa.max_replicas, color=BLACK, linestyle="--", linewidth=1,
                 label=f"max {hpa.max_replicas} / min {hpa.min_replicas}")  # fmt: skip
    axis.axhline(hpa.min_replicas, color=BLACK, linestyle="--", linewidth=1)
    top = max(hpa.max_replicas, *(s.replicas for s in steps), *(d for _, d in desired))
    axis.set_ylim(0, min(top, hpa.max_replicas * 3) + 1)
    axis.set_ylabel("pods")
    _utilization_axis(axis, timeline, times)
    loads = [s.load for s in steps]
    if any(v is not None for v in loads):
        load_axis.fill_between(times, [v or 0 for v in loads], step="post", color=SKY,
                               alpha=0.6, linewidth=0, label=_load_label(timeline))  # fmt: skip
        load_axis.set_ylim(bottom=0)
    else:
        load_axis.text(0.5, 0.5, "no load profile (explicit pods)", ha="center", va="center",
                       transform=load_axis.transAxes, color=GREY)  # fmt: skip
    load_axis.set_ylabel("load (mCPU)")
    load_axis.set_xlabel(unit.label())
    load_axis.set_xlim(times[0], times[-1])
    figure.suptitle(timeline_title(timeline), fontweight="bold")
    axis.set_title(verdict(timeline), fontsize=10)
    _legend_outside(figure, [axis, *figure.axes[2:], load_axis])
    return figure


def _load_label(timeline: Timeline) -> str:
    load = timeline.scenario.load
    return "load per Ready pod" if load is not None and load.mode == "perPod" else "total load"


def _utilization_axis(axis: Axes, timeline: Timeline, times: Sequence[float]) -> None:
    """CPU utilisation (percent of requests) and its target on a second y axis."""
    target = cpu_target(timeline)
    points = [(t, s.utilization) for t, s in zip(times, timeline.steps, strict=True)
              if s.utilization is not None]  # fmt: skip
    if not points and target is None:
        return
    right = axis.twinx()
    if points:
        right.step([t for t, _ in points], [u for _, u in points], where="post", color=PURPLE,
                   linewidth=1.2, linestyle=":", label="CPU utilisation")  # fmt: skip
    if target is not None:
        right.axhline(target, color=PURPLE, linewidth=1, linestyle="-.",
                      label=f"CPU target {target} %")  # fmt: skip
    highest = max([target or 0, *(u for _, u in points)])
    right.set_ylim(0, max(100, highest * 1.15))
    right.set_ylabel("CPU utilisation (% of request)", color=PURPLE)


def _legend_outside(figure: Figure, axes: Sequence[Axes]) -> None:
    handles: list[Any] = []
    labels: list[str] = []
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)),
                      fontsize=8, frameon=False)  # fmt: skip


def decision_figure(timeline: Timeline) -> Figure:
    """One sync: bars for the size before, the metrics' proposal and the size after, min/max
    dashed, and the reason (or the error) in words."""
    (step,) = timeline.steps[:1]
    hpa = timeline.scenario.hpa
    figure, axes = _subplots(1, figsize=(8, 4.2))
    axis = axes[0, 0]
    before = timeline.scenario.start_replicas
    names = ["before", "desired (proposal)", "after"]
    values = [before, step.desired if step.desired is not None else 0, step.replicas]
    colours = [GREY, ORANGE, BLUE]
    bars = axis.bar(names, values, color=colours, edgecolor=BLACK, linewidth=0.8)
    if step.desired is None:
        bars[1].set_hatch("//")
        bars[1].set_facecolor("white")
    for bar, value, name in zip(bars, values, names, strict=True):
        text = "n/a" if name.startswith("desired") and step.desired is None else str(value)
        axis.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=10)  # fmt: skip
    axis.axhline(hpa.max_replicas, color=BLACK, linestyle="--", linewidth=1,
                 label=f"max {hpa.max_replicas} / min {hpa.min_replicas}")  # fmt: skip
    axis.axhline(hpa.min_replicas, color=BLACK, linestyle="--", linewidth=1)
    axis.set_ylim(0, max(hpa.max_replicas, *values) * 1.15 + 0.5)
    axis.set_ylabel("replicas")
    figure.suptitle(timeline_title(timeline), fontweight="bold")
    axis.set_title(_decision_words(timeline, step), fontsize=9, wrap=True)
    _legend_outside(figure, [axis])
    return figure


def _decision_words(timeline: Timeline, step: Step) -> str:
    target = cpu_target(timeline)
    before = timeline.scenario.start_replicas
    if step.desired is None:
        return f"One sync, no decision: {step.reason}"
    cpu = f"CPU {step.utilization} % of target {target} %: " if (
        step.utilization is not None and target is not None) else ""  # fmt: skip
    limit = f", held at {step.replicas} by {step.limited_by}" if step.limited_by and (
        step.replicas != step.desired) else ""  # fmt: skip
    return f"One sync: {cpu}{before} -> {step.desired} proposed{limit} ({step.reason})"


def write_plot(timeline: Timeline, path: Path) -> Path:
    """Write the PNG of ``timeline`` (a bar chart when it is one sync) to ``path``."""
    return _save(timeline_figure(timeline), path)


# --- base vs head (gitops diff's Behaviour section) ---------------------------------------


def comparison_figure(timelines: Sequence[Timeline], labels: Sequence[str], title: str) -> Figure:
    """Several timelines of the same load (base and head of a change): per side its replicas
    (solid) and Ready pods (dashed) in its own colour, its min/max dashed, the load below."""
    first = timelines[0]
    unit = time_unit(first.steps[-1].t - first.steps[0].t if first.steps else 0)
    figure, axes = _subplots(2, figsize=(10, 5.6), sharex=True, height_ratios=(3, 1))
    axis, load_axis = axes[0, 0], axes[1, 0]
    colours = [BLUE, ORANGE, GREEN, VERMILLION]
    verdicts = []
    for index, (timeline, label) in enumerate(zip(timelines, labels, strict=True)):
        colour = colours[index % len(colours)]
        times = [s.t / unit.seconds for s in timeline.steps]
        hpa = timeline.scenario.hpa
        for start, end in _saturated_spans(timeline):
            axis.axvspan(start / unit.seconds, end / unit.seconds, color=colour, alpha=0.12,
                         linewidth=0, label=f"{label}: {SATURATED}")  # fmt: skip
        axis.step(times, [s.replicas for s in timeline.steps], where="post", color=colour,
                  linewidth=2.2, label=f"{label}: replicas")  # fmt: skip
        axis.step(times, [s.ready for s in timeline.steps], where="post", color=colour,
                  linewidth=1.2, linestyle=(0, (5, 2)), label=f"{label}: Ready pods")  # fmt: skip
        axis.axhline(hpa.max_replicas, color=colour, linestyle=(0, (2, 2)), linewidth=1,
                     label=f"{label}: max {hpa.max_replicas} / min {hpa.min_replicas}")  # fmt: skip
        axis.axhline(hpa.min_replicas, color=colour, linestyle=(0, (2, 2)), linewidth=1)
        verdicts.append(f"{label}: {verdict(timeline)}")
    top = max(max(t.scenario.hpa.max_replicas for t in timelines),
              max((s.replicas for t in timelines for s in t.steps), default=0))  # fmt: skip
    axis.set_ylim(0, top + 1)
    axis.set_ylabel("pods")
    times = [s.t / unit.seconds for s in first.steps]
    load_axis.fill_between(times, [s.load or 0 for s in first.steps], step="post", color=SKY,
                           alpha=0.6, linewidth=0, label=_load_label(first))  # fmt: skip
    load_axis.set_ylim(bottom=0)
    load_axis.set_ylabel("load (mCPU)")
    load_axis.set_xlabel(unit.label())
    if times:
        load_axis.set_xlim(times[0], times[-1])
    figure.suptitle(title, fontweight="bold")
    axis.set_title("\n".join(verdicts), fontsize=9)
    _legend_outside(figure, [axis, load_axis])
    return figure


def write_comparison_plot(
    timelines: Sequence[Timeline], labels: Sequence[str], path: Path, title: str
) -> Path:
    """Several timelines of the same load (base and head of a change) on one chart."""
    return _save(comparison_figure(timelines, list(labels), title), path)


# --- drain and rollout --------------------------------------------------------------------

# Distinct styles for many workloads: eight colours, then the same colours dashed.
WORKLOAD_COLOURS = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, BLACK, YELLOW)
STATE_COLOURS = {"full": GREEN, "short": YELLOW, "below": VERMILLION}


def drain_figure(report: DrainReport, title: str) -> Figure:
    """One row per node drained; in each, one lane per workload coloured by its Ready count
    over time: full, below full but at or above the PDB's desiredHealthy, or below it. The
    lane's label gives replicas and desiredHealthy; each change is annotated with the count."""
    from matplotlib.patches import Patch

    nodes = report.nodes
    names = [w.name for w in report.workloads]
    span = max((n.ready_series[-1][0] for n in nodes if n.ready_series), default=0.0)
    unit = time_unit(span)
    height = 0.9 + max(1, len(nodes)) * (0.35 * max(1, len(names)) + 0.6)
    figure, axes = _subplots(max(1, len(nodes)), figsize=(11, height), sharex=True)
    replicas = {w.name: w.replicas for w in report.workloads}
    end = max(span, 1.0) * 1.08 / unit.seconds  # the last state stays visible
    for axis, node in zip(axes[:, 0], nodes, strict=True):
        for lane, name in enumerate(names):
            _drain_lane(axis, node, name, lane, replicas[name], report.desired_healthy(name),
                        unit, end)  # fmt: skip
        axis.set_yticks(range(len(names)))
        axis.set_yticklabels([_lane_label(n, replicas[n], report.desired_healthy(n))
                              for n in names], fontsize=7)  # fmt: skip
        axis.set_ylim(len(names) - 0.5, -0.5)
        axis.set_title(_node_words(node), fontsize=9, loc="left")
    axes[-1, 0].set_xlim(0, end)
    axes[-1, 0].set_xlabel(unit.label("since the drain started"))
    figure.suptitle(title, fontweight="bold")
    handles = [
        Patch(color=STATE_COLOURS["full"], label="all replicas Ready"),
        Patch(color=STATE_COLOURS["short"], label="below full Ready, at or above the PDB"),
        Patch(color=STATE_COLOURS["below"], label="below the PDB's desiredHealthy, or none Ready"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return figure


def _lane_label(name: str, replicas: int, floor: int | None) -> str:
    pdb = f"PDB >= {floor}" if floor is not None else "no PDB"
    return f"{name} ({replicas}, {pdb})"


def _node_words(node: Any) -> str:
    waited = f"{node.waited_on_pdb:.0f} s waiting on a PDB"
    if not node.completed:
        blocked = f", blocked by {', '.join(node.blocked_by)}" if node.blocked_by else ""
        return f"{node.node}: {node.pods} pods, NOT drained after {node.seconds:.0f} s{blocked}"
    settled = node.ready_series[-1][0] if node.ready_series else node.seconds
    return (f"{node.node}: {node.pods} pods evicted in {node.seconds:.0f} s ({waited}), "
            f"all Ready again after {settled:.0f} s")  # fmt: skip


# Over six parameters: the docstring says why.
def _drain_lane(  # noqa: PLR0913
    axis: Axes, node: Any, name: str, lane: int, replicas: int, floor: int | None,
    unit: TimeUnit, end: float,
) -> None:  # fmt: skip
    """One workload's lane in one node's row: segments between Ready changes. Eight
    parameters: the row, the workload and its bounds, and the shared time scale."""
    series: list[tuple[float, int]] = []
    for t, ready in node.ready_series:
        point = (t / unit.seconds, ready.get(name, replicas))
        if series and series[-1][0] == point[0]:
            series[-1] = point  # several steps at one instant: what holds after them
        elif not series or series[-1][1] != point[1]:
            series.append(point)
    if not series:
        series = [(0.0, replicas)]
    edges = [*(t for t, _ in series[1:]), end]
    previous: int | None = None
    for (start, ready), stop in zip(series, edges, strict=True):
        if ready >= replicas:
            state = "full"
        elif floor is not None and ready >= floor and ready > 0:
            state = "short"
        else:
            state = "below"
        axis.broken_barh([(start, max(stop - start, 0))], (lane - 0.4, 0.8),
                         color=STATE_COLOURS[state], label=f"{name} Ready {ready}")  # fmt: skip
        if ready != previous:
            axis.text(start, lane, f" {ready}/{replicas}", va="center", ha="left", fontsize=7)
        previous = ready


def write_drain_plot(report: DrainReport, path: Path, title: str) -> Path:
    return _save(drain_figure(report, title), path)


def rollout_figure(plans: Sequence[tuple[str, RolloutPlan]], title: str) -> Figure:
    """One row per Deployment: available pods against the maxUnavailable floor
    (replicas - maxUnavailable) and the maxSurge ceiling (replicas + maxSurge), with the old
    and new ReplicaSets' pods stacked."""
    from matplotlib.ticker import MaxNLocator

    span = max((p.duration for _, p in plans), default=0.0)
    unit = time_unit(span)
    rows = max(1, len(plans))
    figure, axes = _subplots(rows, figsize=(10, 1.0 + 1.45 * rows), sharex=True)
    end = max(span, 1.0) * 1.05 / unit.seconds
    for axis, (name, plan) in zip(axes[:, 0], plans, strict=True):
        times = [s.t / unit.seconds for s in plan.steps] + [end]

        def held(values: list[int]) -> list[int]:
            return [*values, values[-1]] if values else values

        old, new = held([s.old for s in plan.steps]), held([s.new for s in plan.steps])
        axis.fill_between(times, old, step="post", color=ORANGE, alpha=0.35, linewidth=0,
                          label="old ReplicaSet pods")  # fmt: skip
        axis.fill_between(times, old, [o + n for o, n in zip(old, new, strict=True)],
                          step="post", color=GREEN, alpha=0.35, linewidth=0,
                          label="new ReplicaSet pods (stacked)")  # fmt: skip
        floor = plan.replicas - plan.unavailable
        axis.axhline(floor, color=VERMILLION, linewidth=5, alpha=0.45,
                     label="floor: replicas - maxUnavailable")  # fmt: skip
        axis.axhline(plan.replicas + plan.surge, color=BLACK, linestyle="--", linewidth=0.8,
                     label="ceiling: replicas + maxSurge")  # fmt: skip
        axis.step(times, held([s.available for s in plan.steps]), where="post", color=BLUE,
                  linewidth=2, label="available (Ready)")  # fmt: skip
        axis.set_ylim(-0.3, plan.replicas + plan.surge + 0.6)
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel("pods", fontsize=8)
        below = " - dips below the floor" if plan.min_available < floor else ""
        axis.set_title(
            f"{name}: {plan.replicas} replica{'' if plan.replicas == 1 else 's'}, "
            f"{plan.strategy} +{plan.surge}/-{plan.unavailable}"
            f", min {plan.min_available} available, {plan.duration:.0f} s{below}",
            fontsize=9,
            loc="left",
        )
    axes[-1, 0].set_xlim(0, end)
    axes[-1, 0].set_xlabel(unit.label("since the rollout started"))
    figure.suptitle(title, fontweight="bold")
    _legend_outside(figure, [axes[0, 0]])
    return figure


def write_rollout_plot(plans: Sequence[tuple[str, RolloutPlan]], path: Path, title: str) -> Path:
    return _save(rollout_figure(plans, title), path)


def _save(figure: Figure, path: Path) -> Path:
    pyplot = _pyplot()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", metadata={"Software": None})
    except OSError as exc:
        raise GitopsError(f"{path}: cannot write the plot: {exc.strerror or exc}") from exc
    finally:
        pyplot.close(figure)
    return path
