"""Whole runs: the engine around the HPA model, the summary, formats, plot, comparison with a
recorded timeline, drains and rollouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops.simulate.compare import Observation, compare_timelines, replay
from gitops.simulate.drain import DrainWorkload, SpreadConstraint, drain_nodes
from gitops.simulate.engine import replica_series, simulate
from gitops.simulate.hpa import ControllerSettings, HPASpec, PodState, cpu
from gitops.simulate.plot import write_comparison_plot, write_plot
from gitops.simulate.report import format_json, format_markdown, format_text, summarize
from gitops.simulate.rollout import resolve_fenceposts, rollout_plan
from gitops.simulate.scenario import Scenario, parse_scenario

HPA_2_10_AT_70 = {
    "spec": {
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
    }
}  # fmt: skip


def step_scenario(**overrides: Any) -> Scenario:
    """2 pods of 50m on target (70m total), 3x at t=60, back at t=960."""
    data: dict[str, Any] = {
        "hpa": {"manifest": HPA_2_10_AT_70},
        "pod": {"cpuRequest": "50m", "startupSeconds": 10, "readinessSeconds": 5},
        "load": {"totalCPU": [
            {"at": 0, "value": "70m"}, {"at": 60, "value": "210m"}, {"at": 960, "value": "70m"}]},
        "durationSeconds": 1800,
    }  # fmt: skip
    data.update(overrides)
    return parse_scenario(data, "step.yaml")


def replicas_at(timeline: Any, t: float) -> int:
    return next(s.replicas for s in timeline.steps if s.t == t)


def test_step_scales_with_the_legacy_cap_then_waits_the_window() -> None:
    timeline = simulate(step_scenario())
    # t=60: 210 % of 70 % -> 6 wanted, but at most max(2 x 2, 4) = 4 in one sync.
    first = next(s for s in timeline.steps if s.t == 60)
    assert (first.desired, first.replicas, first.limited_by) == (6, 4, "ScaleUpLimit")
    assert replicas_at(timeline, 75) == 6
    # Load drops at 960; the 5 min window holds 6 until the last high recommendation is older
    # than 300 s (t=945 + 300 is still inside: the legacy window keeps an entry exactly 300 s
    # old), so the scale-down lands at 1260.
    assert replicas_at(timeline, 1245) == 6 and replicas_at(timeline, 1260) == 2
    summary = summarize(timeline)
    assert (summary.peak_replicas, summary.scale_ups, summary.scale_downs) == (6, 2, 1)
    assert summary.time_to_settle == 300 and summary.time_at_max == 0
    # Pressure at t=60; the 6 pods are Ready (10 + 5 s after t=75) by the sync at t=90, where
    # the CPU is back on target.
    assert summary.time_to_scale == 30


def test_unready_new_pods_do_not_inflate_the_scale_up() -> None:
    """The damping (unready pods at 0 % on a scale-up) keeps a slow-to-be-Ready app from
    overshooting: peak replicas do not depend on the readiness delay."""
    fast = simulate(step_scenario())
    slow = simulate(step_scenario(pod={"cpuRequest": "50m", "readinessSeconds": 120}))
    assert summarize(fast).peak_replicas == summarize(slow).peak_replicas == 6


def test_behavior_pods_policy_limits_each_period() -> None:
    manifest = {"spec": dict(HPA_2_10_AT_70["spec"], maxReplicas=20, behavior={
        "scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}})}  # fmt: skip
    timeline = simulate(
        step_scenario(
            hpa={"manifest": manifest},
            load={"totalCPU": [{"at": 0, "value": "70m"}, {"at": 60, "value": "700m"}]},
            durationSeconds=900,
        )
    )
    series = replica_series(timeline)
    for t, _replicas in series:
        earlier = [r for s, r in series if t - 60 < s <= t]
        before = [r for s, r in series if s <= t - 60]
        base = before[-1] if before else 2
        assert max(earlier) - base <= 2, f"more than 2 pods added in the minute before {t}"
    # +2 at every minute boundary (an event exactly 60 s old no longer counts) ...
    assert [r for t, r in series if t in (60, 120, 180, 240, 300, 360, 420, 480)] == [
        4, 6, 8, 10, 12, 14, 16, 18,
    ]  # fmt: skip
    # ... and it stops at 18: 700m over 18 pods is 77 % of 50m, 77/70 = 1.1, within tolerance.
    assert series[-1][1] == 18


def test_per_pod_load_and_max_saturation() -> None:
    timeline = simulate(
        step_scenario(load={"perPodCPU": [{"at": 0, "value": "35m"}, {"at": 30, "value": "100m"}]})
    )
    summary = summarize(timeline)
    # Every Ready pod uses 100m of 50m whatever the count: the HPA runs to max and stays hot.
    assert summary.peak_replicas == 10 and summary.time_at_max > 0
    assert summary.saturated > 0 and summary.max_utilization == 200


def test_one_exact_sync_from_explicit_pods__mirrors_TestReplicaCalcScaleUpUnreadyLessScale() -> (
    None
):
    pods = [
        {"name": f"test-pod-{i}", "ready": i != 0, "containers": [
            {"cpuRequest": "1", "cpuUsage": f"{lvl}m"}, {"cpuRequest": "1", "cpuUsage": f"{lvl}m"}]}
        for i, lvl in enumerate([300, 500, 700])
    ]  # fmt: skip
    manifest = {
        "spec": {
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 30},
                    },
                }
            ],
        }
    }
    scenario = parse_scenario(
        {"hpa": {"manifest": manifest}, "start": {"pods": pods}, "durationSeconds": 0,
         "controller": {"cpuInitializationPeriodSeconds": 120, "initialReadinessDelaySeconds": 10}},
        "one.yaml",
    )  # fmt: skip
    (step,) = simulate(scenario).steps
    assert (step.replicas, step.utilization, step.ready) == (4, 60, 2)


def test_scale_down_removes_unready_pods_first() -> None:
    pods = [
        {"name": "old-ready", "containers": [{"cpuRequest": "1", "cpuUsage": "100m"}]},
        {"name": "new-unready", "ready": False, "startTime": -10, "readyTime": -10,
         "containers": [{"cpuRequest": "1", "cpuUsage": "100m"}]},
        {"name": "other-ready", "containers": [{"cpuRequest": "1", "cpuUsage": "100m"}]},
    ]  # fmt: skip
    manifest = {"spec": {"minReplicas": 1, "maxReplicas": 5}}
    scenario = parse_scenario(
        {"hpa": {"manifest": manifest}, "start": {"pods": pods}, "durationSeconds": 30,
         "controller": {"downscaleStabilizationWindowSeconds": 0}},
        "down.yaml",
    )  # fmt: skip
    timeline = simulate(scenario)
    # The first sync seeds the history with the current 3 at the same instant, which even a
    # 0 s legacy window still counts; the next sync scales to 1.
    assert [s.replicas for s in timeline.steps] == [3, 1, 1]
    # The ReplicaSet deleted the unready pod and a Ready one: one Ready pod is left.
    assert timeline.steps[2].ready == 1


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
    assert "  time to settle  300 s (5.0 min)" in text
    markdown = format_markdown(timeline)
    assert "| time to settle | 300 s (5.0 min) |" in markdown


def test_plot_is_a_png(tmp_path: Path) -> None:
    timeline = simulate(step_scenario())
    path = write_plot(timeline, tmp_path / "sub" / "step.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    both = write_comparison_plot([timeline, timeline], ["base", "head"], tmp_path / "c.png", "x")
    assert both.stat().st_size > 10_000


def test_a_day_is_5760_syncs() -> None:
    day = step_scenario(durationSeconds=86385)
    assert day.syncs == 5760 and len(simulate(day).steps) == 5760


# --- comparison with a recorded timeline --------------------------------------------------


def test_compare_allows_one_sync_period_of_phase_shift() -> None:
    simulated = [(0.0, 2), (15.0, 2), (30.0, 4), (45.0, 6), (60.0, 6)]
    # The real controller scaled one period later than ours: still a match.
    late = [(0.0, 2), (30.0, 2), (45.0, 4), (60.0, 6)]
    assert compare_timelines(late, simulated, 15).matches
    # Two periods late, or a different count, is not.
    wrong = compare_timelines([(0.0, 2), (60.0, 4)], simulated, 15)
    assert not wrong.matches
    assert wrong.mismatches[0].recorded == 4 and wrong.mismatches[0].simulated == (6,)
    assert "t=60: recorded 4, simulated [6]" in wrong.describe()
    assert not compare_timelines([(30.0, 5)], simulated, 15).matches


def test_replay_of_recorded_inputs_matches_the_engine() -> None:
    """Recorded per-pod inputs replayed through the controller give the engine's timeline."""
    spec = HPASpec(1, 10, (cpu(50),))
    settings = ControllerSettings()

    def observe(t: float, n: int, usage: int) -> Observation:
        pods = tuple(
            PodState(f"p{i}", cpu_request_milli=100, cpu_usage_milli=usage, metric_timestamp=t)
            for i in range(n)
        )
        return Observation(t, pods)

    observations = [observe(0, 2, 50), observe(15, 2, 100), observe(30, 4, 50), observe(45, 4, 50)]
    simulated = replay(spec, settings, 2, observations)
    assert simulated == [(0, 2), (15, 4), (30, 4), (45, 4)]
    assert compare_timelines([(0, 2), (30, 4)], simulated, 15).matches


# --- drain and rollout --------------------------------------------------------------------


def test_drain_waits_on_the_pdb_for_the_replacement() -> None:
    workload = DrainWorkload("api", 3, {"app": "api"}, (), "api-pdb", {"maxUnavailable": 1})
    report = drain_nodes([workload], nodes=2, zones=1, ready_seconds=20)
    assert report.placement["api"] == (0, 1, 0)
    first = report.nodes[0]
    # Two pods on node-0: the first eviction uses the one disruption; the second waits until
    # the first one's replacement is Ready (20 s, retried every 5 s).
    assert first.completed and first.waited_on_pdb == 20 and first.min_ready["api"] == 2
    assert first.blocked_by == ("api-pdb",)


def test_drain_blocked_by_a_budget_that_allows_nothing() -> None:
    workload = DrainWorkload("db", 2, {"app": "db"}, (), "db-pdb", {"minAvailable": 2})
    report = drain_nodes([workload], nodes=2, zones=2, ready_seconds=20, timeout=60)
    assert not report.completed and not report.nodes[0].completed
    assert report.nodes[0].blocked_by == ("db-pdb",)


def test_drain_without_pdb_loses_the_single_replica() -> None:
    report = drain_nodes([DrainWorkload("cron", 1, {"app": "cron"})], nodes=2, zones=2)
    assert report.nodes[0].completed and report.nodes[0].min_ready["cron"] == 0


def test_hard_zone_spread_filters_nodes() -> None:
    spread = (SpreadConstraint(1, "topology.kubernetes.io/zone", hard=True),)
    report = drain_nodes([DrainWorkload("web", 3, {"app": "web"}, spread)], nodes=3, zones=3)
    assert sorted(report.placement["web"]) == [0, 1, 2]


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        ("25%", "25%", 4, (1, 1)),
        ("39%", "39%", 10, (4, 3)),  # surge rounds up, unavailable down
        ("25%", "25%", 1, (1, 0)),
        ("0%", "0%", 0, (0, 1)),  # both zero: one may be unavailable
        (0, 1, 3, (0, 1)),
    ],
)
def test_fenceposts__mirrors_ResolveFenceposts(
    surge: object, unavailable: object, replicas: int, expected: tuple[int, int]
) -> None:
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


def test_rollout_plan_follows_the_controllers_example() -> None:
    """rolling.go's own example: 10 replicas, maxSurge 3, maxUnavailable 2 -> the new RS is
    created with 3, the old one scaled to 8, the new one up to 5."""
    plan = rollout_plan(10, 3, 2, ready_seconds=30)
    first = plan.steps[0]
    assert (first.old, first.new, first.available, first.total) == (8, 5, 8, 13)
    assert plan.min_available == 8 and plan.max_total == 13
    assert (plan.steps[-1].old, plan.steps[-1].new_available) == (0, 10)
    assert plan.duration == 60


def test_rollout_surge_only_never_drops_below_replicas() -> None:
    plan = rollout_plan(2, 1, 0, ready_seconds=20)
    assert [s.available for s in plan.steps] == [2, 2, 2]
    assert plan.max_total == 3 and plan.duration == 40


@pytest.mark.parametrize(
    ("policy", "completed"),
    [("AlwaysAllow", True), ("IfHealthyBudget", False), (None, False)],
)
def test_unhealthy_pod_eviction_policy(policy: str | None, completed: bool) -> None:
    """A crash-looping pod (never Ready) with the budget not met: AlwaysAllow lets the drain
    evict it; IfHealthyBudget (the default) refuses until the budget is met, which it never is."""
    pdb: dict[str, object] = {"minAvailable": 2}
    if policy:
        pdb["unhealthyPodEvictionPolicy"] = policy
    workload = DrainWorkload("api", 2, {"app": "api"}, (), "api-pdb", pdb, never_ready=1)
    report = drain_nodes([workload], nodes=2, zones=2, timeout=60)
    assert report.placement["api"] == (0, 1)
    assert report.nodes[0].completed is completed  # node-0 holds the never-ready pod
    assert not report.nodes[1].completed  # the Ready pod is protected by the unmet budget


def test_observation_from_api_objects() -> None:
    from gitops.simulate.compare import go_duration, observation_from_api

    pod = {
        "metadata": {"name": "web-1"},
        "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "200m"}}}]},
        "status": {
            "phase": "Running",
            "startTime": "2026-12-01T21:00:00Z",
            "conditions": [{"type": "Ready", "status": "True",
                            "lastTransitionTime": "2026-12-01T21:00:10Z"}],
        },
    }  # fmt: skip
    unready = {
        "metadata": {"name": "web-2", "deletionTimestamp": "2026-12-01T21:05:00Z"},
        "spec": pod["spec"],
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]},
    }
    metrics = [
        {
            "metadata": {"name": "web-1"},
            "timestamp": "2026-12-01T21:01:00Z",
            "window": "15.5s",
            "containers": [{"name": "web", "usage": {"cpu": "150m"}}],
        }
    ]
    observation = observation_from_api(1_796_158_860.0, [pod, unready], metrics)
    first, second = observation.pods
    assert (first.cpu_request_milli, first.cpu_usage_milli, first.ready) == (200, 150, True)
    assert first.ready_transition_time - first.start_time == 10  # type: ignore[operator]
    assert first.metric_window == 15.5
    assert (second.ready, second.deleting, second.cpu_usage_milli) == (False, True, None)
    assert go_duration("1m0.5s") == 60.5


def test_legacy_downscale_window_comes_from_the_controller_flag() -> None:
    timeline = simulate(step_scenario(controller={"downscaleStabilizationWindowSeconds": 60}))
    # Load drops at 960: with a 60 s window the last high recommendation (945) ages out by
    # 1020 (945 + 60 = 1005 is still inside the legacy window, 1020 is not).
    assert replicas_at(timeline, 1005) == 6 and replicas_at(timeline, 1020) == 2


def test_first_sample_is_one_window_after_start_or_the_next_scrape() -> None:
    from gitops.simulate.engine import first_sample
    from gitops.simulate.scenario import PodTemplate

    continuous = PodTemplate(100, metric_window_seconds=15)
    assert first_sample(continuous, 3.0) == 18.0
    scraped = PodTemplate(
        100, metric_window_seconds=30, metric_resolution_seconds=15, metric_phase_seconds=4.0
    )
    assert first_sample(scraped, 3.0) == 34.0  # 33 s old enough; next scrape at 4 + 2 x 15
    assert first_sample(scraped, 4.0) == 34.0  # a scrape exactly at the window counts
