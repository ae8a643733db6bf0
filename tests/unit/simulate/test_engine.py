"""Whole runs: the engine around the HPA model (scaling, readiness, behavior policies, the
legacy downscale window) and the length of a day of syncs."""

from __future__ import annotations

from gitops.simulate.engine import replica_series, simulate
from gitops.simulate.report import summarize
from gitops.simulate.scenario import parse_scenario
from tests.unit.simulate.step_load import HPA_2_10_AT_70, replicas_at, step_scenario


def test_step_scales_with_the_legacy_cap_then_waits_the_window() -> None:
    timeline = simulate(step_scenario())
    # t=60: 210 % of 70 % -> 6 wanted, but at most max(2 x 2, 4) = 4 in one sync.
    first = next(s for s in timeline.steps if s.t == 60)
    assert (first.desired, first.replicas, first.limited_by) == (6, 4, "ScaleUpLimit")
    assert replicas_at(timeline, 75) == 6
    # Load drops at 960; the 5 min window holds 6 while the last high recommendation (t=945)
    # is less than 300 s old: at t=1245 it is exactly one window old, which upstream's clock
    # puts before the cutoff, so the scale-down lands at 1245.
    assert replicas_at(timeline, 1230) == 6 and replicas_at(timeline, 1245) == 2
    summary = summarize(timeline)
    assert (summary.peak_replicas, summary.scale_ups, summary.scale_downs) == (6, 2, 1)
    assert summary.time_to_settle == 285 and summary.time_at_max == 0
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
    # The first sync seeds the history with the current 3 before it reads the metrics; a 0 s
    # window already puts that entry before the cutoff, so the first sync scales to 1.
    assert [s.replicas for s in timeline.steps] == [1, 1, 1]
    # The ReplicaSet deleted the unready pod and a Ready one: one Ready pod is left.
    assert timeline.steps[0].ready == 2 and timeline.steps[1].ready == 1


def test_a_day_is_5760_syncs() -> None:
    day = step_scenario(durationSeconds=86385)
    assert day.syncs == 5760 and len(simulate(day).steps) == 5760


def test_legacy_downscale_window_comes_from_the_controller_flag() -> None:
    timeline = simulate(step_scenario(controller={"downscaleStabilizationWindowSeconds": 60}))
    # Load drops at 960: with a 60 s window the last high recommendation (945) is exactly one
    # window old at 1005, which is outside it.
    assert replicas_at(timeline, 990) == 6 and replicas_at(timeline, 1005) == 2


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


def test_startup_replay_gives_the_nth_created_pod_the_nth_startup() -> None:
    import dataclasses

    plain = step_scenario()
    first_up = next(s for s in simulate(plain).steps if s.replicas > 2)
    # The first scale-up's pods: ready 15 s later (10 s startup + 5 s readiness) as modelled...
    ready_after = next(s for s in simulate(plain).steps if s.t == first_up.t + 15)
    assert ready_after.ready > 2
    # ...and not at all within 15 s when a replay says they took 100 s to start.
    created = first_up.replicas - 2
    replay = dataclasses.replace(
        plain, template=dataclasses.replace(plain.template, startup_replay=(100.0,) * created)
    )
    steps = {s.t: s for s in simulate(replay).steps}
    assert steps[first_up.t].replicas == first_up.replicas  # same decision at the same sync
    assert steps[first_up.t + 15].ready == 2
    assert steps[first_up.t + 120].ready > 2  # running at +100, Ready at +105
