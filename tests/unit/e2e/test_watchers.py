from __future__ import annotations

from typing import Any

from tests.e2e.harness.watchers import ReadyPodTracker, is_pod_ready, restart_counts


def pod(name: str, ready: bool, deleting: bool = False, restarts: int = 0) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "healthz", "restartCount": restarts}],
        },
    }


def test_ready_means_ready_condition_and_not_terminating() -> None:
    assert is_pod_ready(pod("a", True))
    assert not is_pod_ready(pod("a", False))
    assert not is_pod_ready(pod("a", True, deleting=True))
    assert not is_pod_ready({"metadata": {"name": "a"}})


def test_tracker_follows_a_drain_and_records_the_minimum() -> None:
    tracker = ReadyPodTracker(clock=lambda: 0.0)
    tracker.seed([pod("a", True), pod("b", True)])
    tracker.apply("MODIFIED", pod("a", True, deleting=True))  # evicted
    tracker.apply("ADDED", pod("c", False))  # replacement starting
    tracker.apply("MODIFIED", pod("c", True))
    tracker.apply("DELETED", pod("a", True, deleting=True))
    tracker.apply("BOOKMARK", {"metadata": {"name": "ignored"}})
    assert tracker.ready_count == 2
    assert tracker.minimum_seen == 1
    assert tracker.below(1) == []
    assert [entry[1] for entry in tracker.below(2)] == [1, 1]  # a terminating, c not yet Ready


def test_restart_counts() -> None:
    assert restart_counts(pod("a", True, restarts=3)) == {"healthz": 3}
    assert restart_counts({"metadata": {"name": "a"}}) == {}


def test_seed_is_one_observation_and_replaces_stale_pods() -> None:
    tracker = ReadyPodTracker(clock=lambda: 0.0)
    tracker.apply("ADDED", pod("old", True))
    tracker.seed([pod("a", True), pod("b", True), pod("c", True)])
    assert tracker.ready_count == 3
    assert [entry[1] for entry in tracker.history] == [1, 3]
    assert "old" not in tracker.pods
