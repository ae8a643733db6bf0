"""``gitops.probe.schedule``: kubelet's probe loop (initial delay, period, stop conditions) and
its count of consecutive results."""

from __future__ import annotations

import threading
import time

from gitops.probe.schedule import Schedule, consecutive
from gitops.probe.spec import Attempt, ProbeSpec, Target


def _spec(period: float) -> ProbeSpec:
    return ProbeSpec.parse("readiness", "app", {"tcpSocket": {"port": 1}, "periodSeconds": period})


def _answers(*results: bool) -> tuple[Target, list[float]]:
    """A target answering ``results`` in turn (then failing), recording each timeout asked."""
    remaining = list(results)
    timeouts: list[float] = []

    def attempt(timeout: float) -> tuple[bool, str]:
        timeouts.append(timeout)
        ok = remaining.pop(0) if remaining else False
        return ok, "HTTP 200" if ok else "HTTP 503"

    return Target("TCP 127.0.0.1:1", attempt), timeouts


def test_runs_every_period_until_done_and_records_each_attempt() -> None:
    target, timeouts = _answers(False, False, True)
    schedule = Schedule(_spec(period=1), target, time.monotonic(), speed=50)  # 20 ms period
    attempts = schedule.run(
        start=0.0, deadline=5.0, done=lambda a: consecutive(a, success=True) >= 1
    )
    assert [(a.success, a.detail) for a in attempts] == [
        (False, "HTTP 503"), (False, "HTTP 503"), (True, "HTTP 200")
    ]  # fmt: skip
    assert timeouts == [1.0, 1.0, 1.0]  # the probe's own (unscaled) timeout
    # attempt i waits for its slot, i periods (20 ms at x50) after the start: never earlier
    assert all(a.at >= i * 0.02 for i, a in enumerate(attempts)), attempts


def test_stops_at_the_deadline_or_when_told() -> None:
    target, _ = _answers()
    schedule = Schedule(_spec(period=1), target, time.monotonic(), speed=50)
    attempts = schedule.run(start=0.0, deadline=0.05, done=lambda a: False)
    # attempts at 0, 20 and 40 ms; the next one (60 ms) is past the deadline
    assert len(attempts) == 3
    stop = threading.Event()
    stop.set()
    stopped = Schedule(_spec(period=1), target, time.monotonic())
    assert stopped.run(start=0.0, deadline=60.0, done=lambda a: False, stop=stop) == []


def test_consecutive_counts_the_trailing_run_only() -> None:
    attempts = [Attempt(0, True, ""), Attempt(1, False, ""), Attempt(2, False, "")]
    assert consecutive(attempts, success=False) == 2
    assert consecutive(attempts, success=True) == 0
    assert consecutive([], success=True) == 0
