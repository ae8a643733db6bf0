"""The e2e session deadline: CI sets it below the step timeout so a hung run is interrupted
inside pytest (which dumps the cluster) rather than killed from outside (which dumps nothing)."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.e2e.harness.deadline import DeadlineError, SessionDeadline


def test_deadline_from_env() -> None:
    assert SessionDeadline.from_env({}) is None
    deadline = SessionDeadline.from_env({"E2E_DEADLINE_MINUTES": "44"})
    assert deadline is not None and deadline.seconds == 44 * 60
    for bad in ("0", "-3", "soon"):
        with pytest.raises(DeadlineError, match="expected a positive number of minutes"):
            SessionDeadline.from_env({"E2E_DEADLINE_MINUTES": bad})


def test_deadline_fires_once_and_cancel_stops_it() -> None:
    fired = threading.Event()
    deadline = SessionDeadline(0.05, on_expiry=fired.set).start()
    assert fired.wait(5), "the deadline never fired"
    assert deadline.expired

    quiet = threading.Event()
    cancelled = SessionDeadline(0.2, on_expiry=quiet.set).start()
    cancelled.cancel()
    assert not quiet.wait(0.5)
    assert not cancelled.expired


def test_expiry_interrupts_the_main_thread_like_ctrl_c() -> None:
    # The default on_expiry sends this process SIGINT: pytest sees a KeyboardInterrupt and
    # runs pytest_keyboard_interrupt (the dump) before tearing the cluster down.
    deadline = SessionDeadline(0.05).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        time.sleep(5)  # a blocked main thread is woken, not left to finish its wait
    assert deadline.expired
    assert time.monotonic() - started < 2


def test_expiry_interrupts_a_process_that_started_with_sigint_ignored() -> None:
    # As a background job of a script (or under nohup) starts: SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        SessionDeadline(0.05).start()
        with pytest.raises(KeyboardInterrupt):
            time.sleep(5)
    finally:
        signal.signal(signal.SIGINT, previous)
