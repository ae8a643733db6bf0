"""``gitops.simulate.plot``: PNG plots of one timeline and of several compared."""

from __future__ import annotations

from pathlib import Path

from gitops.simulate.engine import simulate
from gitops.simulate.plot import write_comparison_plot, write_plot
from tests.unit.simulate.step_load import step_scenario


def test_plot_is_a_png(tmp_path: Path) -> None:
    timeline = simulate(step_scenario())
    path = write_plot(timeline, tmp_path / "sub" / "step.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    both = write_comparison_plot([timeline, timeline], ["base", "head"], tmp_path / "c.png", "x")
    assert both.stat().st_size > 10_000
