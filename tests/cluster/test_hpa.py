"""HPA (issue 9 item 5, issue 13's live comparison): prod healthz's rendered HPA, driven by
KWOK's emulated CPU usage (hpa_scenario.py, run in the background from the session's start).
The real HPA controller scales up from minReplicas, never past maxReplicas (ScalingLimited
says so), within the scale-up rate of the default behavior, and back to minReplicas only after
the load stops and the e2e Component's shortened scale-down window has passed; the recorded
timeline equals `gitops simulate` on the same inputs (hpa_compare.py)."""

from __future__ import annotations

import itertools

import pytest

from tests.cluster.hpa_compare import compare_record, side_by_side
from tests.cluster.hpa_scenario import (
    SCALE_UP_PERCENT,
    SCALE_UP_PERIOD,
    SCALE_UP_PODS,
    BackgroundScenario,
)

pytestmark = pytest.mark.cluster


def test_hpa_scales_up_to_max_and_back_down_after_the_window(
    hpa_scenario: BackgroundScenario,
) -> None:
    run = hpa_scenario.outcome()
    record, stopped, window, high = run.record, run.stopped, run.window, run.high
    samples = record.samples
    assert max(s.spec_replicas for s in samples) == high, "never past maxReplicas"
    up = [s for s in samples if s.t <= stopped]
    for s in up:
        period_start = record.replicas_at(s.t - SCALE_UP_PERIOD + 1)
        bound = max(period_start + SCALE_UP_PODS, period_start * (100 + SCALE_UP_PERCENT) // 100)
        assert s.spec_replicas <= bound, f"scaled up faster than the default policies: {s}"
    assert all(a.spec_replicas <= b.spec_replicas for a, b in itertools.pairwise(up))
    first_down = next(s for s in samples if s.t > stopped and s.spec_replicas < high)
    assert first_down.t - stopped >= window, (
        f"scaled down {first_down.t - stopped:.0f}s after the load stopped, window {window}s"
    )
    # Issue 13: the same inputs through `gitops simulate`'s model (hpa_compare.py).
    comparison = compare_record(record)
    assert comparison.matches, (
        "the real HPA controller and gitops.simulate disagree:\n" + side_by_side(record, comparison)
    )
