"""Polling with a deadline and backoff, and a sampler that watches a value in the background.

Every wait names what it waited for and shows the last thing it saw, so a timeout in CI reads
as a diagnosis, not as "timed out". The clock (time and sleep) is injectable for the unit tests.

    >>> wait_until(lambda: deployment_ready(), timeout=120, what="healthz Ready")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """Where waits read the time and sleep: the real monotonic clock, or a test's fake."""

    def __call__(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _MonotonicClock:
    def __call__(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


MONOTONIC = _MonotonicClock()


class WaitTimeout(AssertionError):
    """A condition did not hold within its budget. An AssertionError: the test fails, not errors."""


@dataclass(frozen=True)
class Backoff:
    """Poll quickly first (most conditions hold within seconds), then back off to ``maximum``."""

    initial: float = 0.5
    factor: float = 1.5
    # Capped at 2 s: a wait on a controller (a rollout, a PDB's status) ends up to one delay
    # after the condition holds, and the e2e modules run a few dozen of them (a 5 s cap cost
    # the KWOK run of the HPA and PDB modules about 20 s).
    maximum: float = 2.0
    clock: Clock = MONOTONIC  # what the waits read the time from and sleep on

    def delays(self) -> Callable[[], float]:
        current = [self.initial]

        def next_delay() -> float:
            delay = current[0]
            current[0] = min(self.maximum, current[0] * self.factor)
            return delay

        return next_delay


def wait_until(
    check: Callable[[], T],
    timeout: float,
    what: str,
    *,
    backoff: Backoff = Backoff(),
    retry_on: tuple[type[BaseException], ...] = (),
    describe: Callable[[T], str] = repr,
) -> T:
    """Call ``check`` until it returns a truthy value and return that value.

    ``retry_on`` lists exceptions that mean "not yet" (e.g. an API error while a component
    restarts); any other exception propagates. The last sleep is cut short at the deadline, and
    ``check`` always runs once more at the deadline, so a budget of N seconds really is N.
    """
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout}")
    clock = backoff.clock
    deadline = clock() + timeout
    next_delay = backoff.delays()
    last: str = "never checked"
    attempts = 0
    while True:
        attempts += 1
        try:
            value = check()
        except retry_on as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
            last = describe(value)
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                f"timed out after {timeout:g}s ({attempts} checks) waiting for {what}; "
                f"last seen: {last}"
            )
        clock.sleep(min(next_delay(), remaining))


@dataclass
class Sampler(Generic[T]):
    """Call ``read`` every ``interval`` seconds on a thread until stopped; keep every sample.

    Used where a property must hold *throughout* (the HPA never exceeds maxReplicas), not just
    at the end. A failing ``read`` is recorded as an error, not raised on the thread.
    """

    read: Callable[[], T]
    interval: float = 2.0
    sleep_event: threading.Event = field(default_factory=threading.Event)
    samples: list[tuple[float, T]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    _thread: threading.Thread | None = None

    def start(self) -> Sampler[T]:
        self._thread = threading.Thread(target=self._loop, name="e2e-sampler", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self.sleep_event.is_set():
            self.sample_once()
            self.sleep_event.wait(self.interval)

    def sample_once(self) -> None:
        try:
            self.samples.append((self.clock(), self.read()))
        except Exception as exc:  # recorded and reported by the test, never lost on a thread
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def stop(self) -> list[tuple[float, T]]:
        self.sleep_event.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.sample_once()  # one last look after the condition the test waited for
        return self.samples

    def __enter__(self) -> Sampler[T]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def holds_for(
    check: Callable[[], object],
    duration: float,
    what: str,
    *,
    interval: float = 2.0,
    retry_on: tuple[type[BaseException], ...] = (),
    clock: Clock = MONOTONIC,
) -> int:
    """Assert ``check`` stays truthy for ``duration`` seconds (checked every ``interval``,
    and at the end); return how many checks ran. The opposite of :func:`wait_until`: for
    things that must *not* happen, like a restart during a database outage."""
    deadline = clock() + duration
    checks = 0
    while True:
        checks += 1
        try:
            ok = check()
        except retry_on:
            ok = True  # an API hiccup is not evidence either way
        if not ok:
            raise WaitTimeout(f"{what} stopped holding after {checks} checks")
        remaining = deadline - clock()
        if remaining <= 0:
            return checks
        clock.sleep(min(interval, remaining))
