from __future__ import annotations

import pytest

from tests.e2e.harness.wait import Backoff, Sampler, WaitTimeout, holds_for, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_truthy_value_without_sleeping_more_than_needed() -> None:
    clock = FakeClock()
    values = iter([None, 0, "ready"])
    result = wait_until(lambda: next(values), 60, "x", backoff=Backoff(clock=clock))
    assert result == "ready"
    assert clock.sleeps == [0.5, 0.75]


def test_backoff_grows_to_its_maximum() -> None:
    delays = Backoff(initial=1, factor=2, maximum=5).delays()
    assert [delays() for _ in range(5)] == [1, 2, 4, 5, 5]


def test_timeout_names_what_and_the_last_value_and_respects_the_budget() -> None:
    clock = FakeClock()
    with pytest.raises(
        WaitTimeout, match=r"after 10s .*waiting for healthz Ready; last seen: 'no'"
    ):
        wait_until(
            lambda: "",
            10,
            "healthz Ready",
            backoff=Backoff(clock=clock),
            describe=lambda _: "'no'",
        )
    assert sum(clock.sleeps) == pytest.approx(10)  # last sleep cut at the deadline


def test_listed_exceptions_mean_not_yet_others_propagate() -> None:
    clock = FakeClock()
    calls: list[Exception | bool] = [ConnectionError("api restarting"), True]
    calls.reverse()

    def check() -> bool:
        value = calls.pop()
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(check, 5, "x", retry_on=(ConnectionError,), backoff=Backoff(clock=clock))
    with pytest.raises(KeyError):
        wait_until(
            lambda: dict[str, bool]()["missing"],
            5,
            "x",
            retry_on=(ConnectionError,),
            backoff=Backoff(clock=clock),
        )


def test_timeout_reports_the_last_exception() -> None:
    clock = FakeClock()

    def check() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match="ConnectionError: refused"):
        wait_until(check, 3, "api", retry_on=(ConnectionError,), backoff=Backoff(clock=clock))


def test_zero_timeout_checks_once() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match="1 checks"):
        wait_until(lambda: False, 0, "x", backoff=Backoff(clock=clock))
    assert clock.sleeps == []


def test_holds_for_runs_for_the_whole_duration() -> None:
    clock = FakeClock()
    checks = holds_for(lambda: True, 10, "steady", interval=2, clock=clock)
    assert checks == 6 and sum(clock.sleeps) == pytest.approx(10)


def test_holds_for_fails_at_the_first_violation() -> None:
    clock = FakeClock()
    values = iter([True, True, False, True])
    with pytest.raises(WaitTimeout, match="no restart stopped holding after 3 checks"):
        holds_for(lambda: next(values), 60, "no restart", interval=1, clock=clock)


def test_sampler_records_values_and_errors_without_raising() -> None:
    values: list[int | Exception] = [3, ValueError("api"), 1]

    def read() -> int:
        value = values.pop()
        if isinstance(value, Exception):
            raise value
        return value

    sampler: Sampler[int] = Sampler(read, clock=lambda: 0.0)
    sampler.sample_once()
    sampler.sample_once()
    sampler.stop()  # never started: stop still takes one final sample
    assert [v for _, v in sampler.samples] == [1, 3]
    assert sampler.errors == ["ValueError: api"]


def test_sampler_thread_samples_until_stopped() -> None:
    counter = iter(range(1000))
    with Sampler(lambda: next(counter), interval=0.01) as sampler:
        wait_until(lambda: len(sampler.samples) >= 3, 5, "samples")
    values = [v for _, v in sampler.samples]
    assert values == sorted(values) and len(values) >= 4
