"""``gitops.simulate.plot``: one golden test per plot kind, comparing the figure's structure
(titles, axis labels and ranges, every series with its label, colour, style and data extent,
legends) with ``tests/snapshots/plot-<kind>.json``, not pixels. ``make snapshots`` rewrites
them; the diff of the commit is the review."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from gitops.simulate.drain import DrainWorkload, drain_nodes
from gitops.simulate.engine import simulate
from gitops.simulate.plot import (
    SATURATED,
    comparison_figure,
    decision_figure,
    drain_figure,
    rollout_figure,
    time_unit,
    timeline_figure,
    verdict,
    write_plot,
)
from gitops.simulate.rollout import recreate_plan, rollout_plan
from gitops.simulate.scenario import load_scenario
from tests.conftest import REPO_ROOT
from tests.unit.simulate.step_load import step_scenario
from tests.unit.test_golden_snapshots import assert_snapshot

EXAMPLES = REPO_ROOT / "examples" / "simulate"


def _round(values: Any) -> list[float]:
    return [round(float(v), 3) for v in values]


def _is_name(label: str) -> bool:
    """A tick label that names something (a workload lane), not a number."""
    return bool(label) and not label.lstrip("\u2212-").replace(".", "").isdigit()


def _axes(axis: Axes) -> dict[str, Any]:
    """Everything a reader sees on one axes, as plain data. matplotlib's artists are typed
    loosely (colours, data), hence the Any."""
    artists: Any = axis
    lines = [
        {
            "label": line.get_label(),
            "color": to_hex(line.get_color()),
            "style": str(line.get_linestyle()),
            "points": len(line.get_xdata()),
            "y": _round(line.get_ydata()[:1]) + _round(line.get_ydata()[-1:]),
        }
        for line in artists.get_lines()
    ]
    collections = [
        {"label": c.get_label(), "color": to_hex(c.get_facecolor()[0])} for c in artists.collections
    ]
    patches = [
        {
            "label": p.get_label(),
            "color": to_hex(p.get_facecolor()),
            "x": _round(p.get_bbox().intervalx),
            "y": _round(p.get_bbox().intervaly),
        }
        for p in artists.patches
    ]
    return {
        "title": axis.get_title(),
        "title_left": axis.get_title(loc="left"),
        "xlabel": axis.get_xlabel(),
        "ylabel": axis.get_ylabel(),
        "xlim": _round(axis.get_xlim()),
        "ylim": _round(axis.get_ylim()),
        "yticklabels": [t.get_text() for t in axis.get_yticklabels() if _is_name(t.get_text())],
        "lines": lines,
        "collections": collections,
        "patches": patches,
        "texts": [t.get_text() for t in axis.texts],
    }  # fmt: skip


def structure(figure: Figure) -> dict[str, Any]:
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""  # type: ignore[attr-defined]
    return {
        "suptitle": suptitle,
        "size_inches": _round(figure.get_size_inches()),
        "axes": [_axes(axis) for axis in figure.axes],
        "legends": [[t.get_text() for t in legend.get_texts()] for legend in figure.legends],
    }


def assert_figure(name: str, figure: Figure, update: bool) -> dict[str, Any]:
    data = structure(figure)
    assert_snapshot(f"plot-{name}.json", json.dumps(data, indent=2) + "\n", update)
    return data


def test_timeline__saturating_ramp(update_snapshots: bool) -> None:
    timeline = simulate(load_scenario(EXAMPLES / "behavior-ramp.yaml"))
    data = assert_figure("timeline", timeline_figure(timeline), update_snapshots)
    pods, load, cpu = data["axes"]
    assert data["suptitle"] == "api: behavior-ramp (CPU target 60 %, 2..12 replicas)"
    assert pods["title"].startswith("Saturated for 31.2 min: at maxReplicas")
    labels = [line["label"] for line in pods["lines"]]
    assert labels[:3] == ["current (spec.replicas)", "Ready pods", "desired (metrics' proposal)"]
    # Three series, three colours; the bounds are dashed; utilisation and target on the right.
    assert len({line["color"] for line in pods["lines"][:3]}) == 3
    assert all(line["style"] == "--" for line in pods["lines"][3:5])
    saturated = [p for p in pods["patches"] if p["label"] == SATURATED]
    assert len(saturated) == 1 and saturated[0]["x"][0] > 10  # shaded from 12.5 min on
    assert [line["label"] for line in cpu["lines"]] == ["CPU utilisation", "CPU target 60 %"]
    assert (load["xlabel"], load["xlim"]) == ("time (min)", [0.0, 90.0])
    assert SATURATED in data["legends"][0]


def test_timeline_of_a_day_is_in_hours() -> None:
    timeline = simulate(step_scenario(durationSeconds=86385))
    figure = timeline_figure(timeline)
    data = structure(figure)
    assert data["axes"][1]["xlabel"] == "time (h)" and data["axes"][1]["xlim"][1] == 23.996
    assert data["axes"][0]["title"] == "Keeps up: peak 6 of max 10, never at maxReplicas"
    assert data["axes"][0]["patches"] == []  # never saturated: nothing shaded


def test_one_sync_is_a_bar_chart_of_the_decision(update_snapshots: bool) -> None:
    timeline = simulate(load_scenario(EXAMPLES / "one-sync-sidecar.yaml"))
    data = assert_figure("decision", timeline_figure(timeline), update_snapshots)
    (axis,) = data["axes"]
    assert [p["y"][1] for p in axis["patches"]] == [1.0, 2.0, 2.0]  # before, proposal, after
    assert axis["title"] == (
        "One sync: CPU 90 % of target 50 %: 1 -> 2 proposed (metric above target)"
    )


def test_one_sync_without_a_decision_says_why() -> None:
    timeline = simulate(load_scenario(EXAMPLES / "one-sync-sidecar.yaml"))
    failed = dataclasses.replace(
        timeline.steps[0], desired=None, reason="FailedComputeMetricsReplicas: x"
    )
    figure = decision_figure(dataclasses.replace(timeline, steps=(failed,)))
    axis = structure(figure)["axes"][0]
    assert axis["title"] == "One sync, no decision: FailedComputeMetricsReplicas: x"
    assert "n/a" in axis["texts"]


def test_comparison_base_and_head(update_snapshots: bool) -> None:
    base = simulate(step_scenario())
    head = simulate(step_scenario(hpa={"manifest": {"spec": {"minReplicas": 2, "maxReplicas": 4,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 70}}}]}}}))  # fmt: skip
    figure = comparison_figure([base, head], ["base", "head"], "prod/web: step to 3x and back")
    data = assert_figure("comparison", figure, update_snapshots)
    pods = data["axes"][0]
    assert pods["title"].splitlines() == [
        "base: Keeps up: peak 6 of max 10, never at maxReplicas",
        f"head: {verdict(head)}",
    ]
    assert {line["color"] for line in pods["lines"] if line["label"].startswith("base")} != {
        line["color"] for line in pods["lines"] if line["label"].startswith("head")
    }


def test_drain_one_row_per_node(update_snapshots: bool) -> None:
    workloads = [
        DrainWorkload("api", 3, {"app": "api"}, (), "api-pdb", {"maxUnavailable": 1}),
        DrainWorkload("cron", 1, {"app": "cron"}),
    ]
    report = drain_nodes(workloads, nodes=2, zones=1, ready_seconds=20)
    data = assert_figure("drain", drain_figure(report, "drain prod"), update_snapshots)
    assert [a["title_left"].split(":")[0] for a in data["axes"]] == ["node-0", "node-1"]
    first = data["axes"][0]
    assert first["yticklabels"] == ["api (3, PDB >= 2)", "cron (1, no PDB)"]
    # On node-0 api goes 3 -> 2 (its one disruption) and back, cron 1 -> 0 (no PDB) and back:
    # the count is written at each change.
    assert first["texts"] == [" 2/3", " 3/3", " 0/1", " 1/1"]
    assert first["title_left"] == (
        "node-0: 3 pods evicted in 20 s (20 s waiting on a PDB), all Ready again after 40 s"
    )
    assert data["axes"][-1]["xlabel"] == "since the drain started (s)"


def test_rollout_one_row_per_deployment(update_snapshots: bool) -> None:
    plans = [("web", rollout_plan(4, "25%", "25%", 20)), ("db", recreate_plan(1, 30))]
    data = assert_figure("rollout", rollout_figure(plans, "rollout prod"), update_snapshots)
    web, db = data["axes"]
    assert web["title_left"].startswith("web: 4 replicas, RollingUpdate +1/-1")
    floor = next(line for line in web["lines"] if line["label"].startswith("floor"))
    assert floor["y"] == [3.0, 3.0]  # replicas - maxUnavailable
    assert db["title_left"].startswith("db: 1 replica, Recreate")


@pytest.mark.parametrize(
    ("span", "unit"), [(0, "s"), (180, "s"), (181, "min"), (3 * 3600, "min"), (3 * 3600 + 1, "h")]
)
def test_time_unit_follows_the_span(span: float, unit: str) -> None:
    assert time_unit(span).name == unit


def test_write_plot_is_a_png(tmp_path: Path) -> None:
    path = write_plot(simulate(step_scenario()), tmp_path / "sub" / "step.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
