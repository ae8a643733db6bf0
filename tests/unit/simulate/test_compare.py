"""``gitops.simulate.compare``: a recorded timeline against the simulated one, replayed inputs,
and observations read from API objects."""

from __future__ import annotations

from gitops.simulate.compare import (
    Observation,
    compare_timelines,
    go_duration,
    observation_from_api,
    replay,
)
from gitops.simulate.hpa import HPASpec, cpu
from gitops.simulate.replicas import ControllerSettings, PodState


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


def test_observation_from_api_objects() -> None:
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
    assert first.ready_transition_time is not None and first.start_time is not None
    assert first.ready_transition_time - first.start_time == 10
    assert first.metric_window == 15.5
    assert (second.ready, second.deleting, second.cpu_usage_milli) == (False, True, None)
    assert go_duration("1m0.5s") == 60.5
