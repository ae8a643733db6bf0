"""``gitops.simulate.rollout``: maxSurge/maxUnavailable fenceposts and the rolling update plan,
as the Deployment controller computes them."""

from __future__ import annotations

import pytest

from gitops.simulate.rollout import resolve_fenceposts, rollout_plan


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
