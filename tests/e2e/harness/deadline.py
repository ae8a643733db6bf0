"""A deadline for the whole e2e session, so a run that hangs fails *inside* pytest, with its
diagnostics, instead of being killed by CI with none.

CI sets ``E2E_DEADLINE_MINUTES`` a few minutes below the step's ``timeout-minutes``. When it
passes, the main thread gets a KeyboardInterrupt (as from Ctrl-C): pytest then calls
``pytest_keyboard_interrupt`` (conftest.py dumps the cluster into e2e-artifacts/interrupted/)
*before* it tears the session fixtures down (which deletes the cluster), and the workflow
uploads the artifacts with ``if: always()``.

    >>> deadline = SessionDeadline.from_env(os.environ)
    >>> deadline.start() if deadline else None
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEADLINE_ENV = "E2E_DEADLINE_MINUTES"


def interrupt_main() -> None:
    """A real SIGINT to this process, as Ctrl-C sends: unlike ``_thread.interrupt_main`` it
    also wakes a main thread blocked in sleep, a lock or a subprocess wait."""
    os.kill(os.getpid(), signal.SIGINT)


class DeadlineError(ValueError):
    """E2E_DEADLINE_MINUTES is not a positive number."""


@dataclass
class SessionDeadline:
    seconds: float
    on_expiry: Callable[[], None] = interrupt_main
    expired: bool = False
    started_at: float | None = None
    _timer: threading.Timer | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SessionDeadline | None:
        raw = environ.get(DEADLINE_ENV, "").strip()
        if not raw:
            return None
        try:
            minutes = float(raw)
        except ValueError:
            minutes = -1.0
        if minutes <= 0:
            raise DeadlineError(
                f"{DEADLINE_ENV}={raw!r}: expected a positive number of minutes, e.g. 45"
            )
        return cls(minutes * 60)

    def _expire(self) -> None:
        self.expired = True
        self.on_expiry()

    def start(self) -> SessionDeadline:
        """Start counting (from the main thread). A process started as a background job of a
        shell without job control (`cmd &` in a script, nohup) inherits SIGINT ignored, and
        the deadline's SIGINT would do nothing: it gets Python's KeyboardInterrupt back."""
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        if self.on_expiry is interrupt_main and ignored:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.started_at = time.monotonic()
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
