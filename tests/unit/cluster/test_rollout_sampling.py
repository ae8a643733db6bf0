"""The rollout test's own arithmetic (tests/cluster/test_rollout.py), without a cluster: the
surge/unavailable pods a strategy allows, and how long live pods stood above the bound."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.test_rollout import Look, longest_above, rolling_bounds


def _deployment(rolling: dict[str, Any] | None) -> dict[str, Any]:
    strategy = {"rollingUpdate": rolling} if rolling is not None else {}
    return {"spec": {"strategy": strategy}}


@pytest.mark.parametrize(
    ("rolling", "replicas", "expected"),
    [
        (None, 10, (3, 2)),  # 25 % each: surge rounds up, unavailable down
        ({"maxSurge": "10%", "maxUnavailable": 0}, 10, (1, 0)),
        ({"maxSurge": 0, "maxUnavailable": "10%"}, 5, (0, 1)),  # 0.5 rounds down to 0 -> 1
        ({"maxSurge": 2, "maxUnavailable": 1}, 4, (2, 1)),
    ],
)
def test_rolling_bounds(
    rolling: dict[str, Any] | None, replicas: int, expected: tuple[int, int]
) -> None:
    assert rolling_bounds(_deployment(rolling), replicas) == expected


def _samples(*pods: int, step: float = 0.05) -> list[tuple[float, Look]]:
    return [(i * step, Look(pods=n, ready=n, replica_sets=n)) for i, n in enumerate(pods)]


def test_longest_above_measures_consecutive_samples_over_the_bound() -> None:
    assert longest_above(_samples(10, 12, 13, 12), bound=13) == 0.0
    # Two stretches above 13: one of three samples (0.1 s), one of two (0.05 s).
    assert longest_above(_samples(13, 14, 14, 14, 13, 14, 14), bound=13) == pytest.approx(0.1)
    # A stretch still open at the end counts up to the last sample.
    assert longest_above(_samples(14, 14, 14, 14, step=1.0), bound=13) == pytest.approx(3.0)
