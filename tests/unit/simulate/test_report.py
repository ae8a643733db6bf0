"""``gitops.simulate.report``: the text, markdown and JSON reports of a timeline."""

from __future__ import annotations

import json

from gitops.simulate.engine import simulate
from gitops.simulate.report import format_json, format_markdown, format_text
from tests.unit.simulate.step_load import step_scenario


def test_formats_carry_the_timeline_and_summary() -> None:
    timeline = simulate(step_scenario())
    document = json.loads(format_json(timeline))
    assert len(document["timeline"]) == 121
    assert set(document["timeline"][0]) == {
        "t", "replicas", "desired", "ready", "utilization", "limitedBy", "reason", "load",
    }  # fmt: skip
    assert document["timeline"][4]["limitedBy"] == "ScaleUpLimit"
    assert document["summary"]["peakReplicas"] == 6
    text = format_text(timeline)
    assert "  replicas        2 -> 2 (peak 6, low 2)" in text
    assert "  time to settle  285 s (4.8 min)" in text
    markdown = format_markdown(timeline)
    assert "| time to settle | 285 s (4.8 min) |" in markdown
