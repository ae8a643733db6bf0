"""kubelet's probe schedule: initial delay, period, thresholds (pkg/kubelet/prober)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gitops.probe.spec import Attempt, ProbeSpec, Target

# --- kubelet's schedule ------------------------------------------------------------------


@dataclass
class Schedule:
    """Runs one probe every period from ``start`` (seconds since process start), counting
    consecutive results like kubelet's worker, until ``done`` says stop or ``deadline``."""

    spec: ProbeSpec
    target: Target
    clock_start: float
    speed: float = 1.0
    attempts: list[Attempt] = field(default_factory=list)

    def run(
        self,
        start: float,
        deadline: float,
        done: Callable[[list[Attempt]], bool],
        stop: threading.Event | None = None,
    ) -> list[Attempt]:
        period = self.spec.period / self.speed
        next_at = start
        while True:
            now = self._elapsed()
            if next_at > deadline:
                return self.attempts
            if now < next_at:
                if stop is not None and stop.wait(next_at - now):
                    return self.attempts
                if stop is None:
                    time.sleep(next_at - now)
            if stop is not None and stop.is_set():
                return self.attempts
            at = self._elapsed()
            success, detail = self.target.attempt(self.spec.timeout)
            self.attempts.append(Attempt(round(at, 3), success, detail))
            if done(self.attempts):
                return self.attempts
            next_at += period

    def _elapsed(self) -> float:
        return time.monotonic() - self.clock_start


def consecutive(attempts: list[Attempt], success: bool) -> int:
    count = 0
    for attempt in reversed(attempts):
        if attempt.success is not success:
            break
        count += 1
    return count
