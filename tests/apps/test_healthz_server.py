"""healthz served in-process under Granian on a free port: response bodies, metrics, routing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from healthz.app import HealthzApp
from healthz.config import Settings
from servicekit.serving import DrainState, ServeOptions, serve_until
from tests.apps.apps_testing import (
    free_tcp_port,
    http_get,
    http_request,
    metric_value,
    serving_in_thread,
)

FIXED_NOW = datetime(2025, 1, 15, 10, 0, 0, 987654, tzinfo=UTC)


def _serve(settings: Settings, clock: Callable[[], datetime] | None = None) -> Iterator[str]:
    state = DrainState()
    app = HealthzApp(settings, state) if clock is None else HealthzApp(settings, state, clock)
    options = ServeOptions(port=free_tcp_port(), bind_address="127.0.0.1", drain_timeout_seconds=2)
    with serving_in_thread(serve_until, app, state, options) as url:
        yield url


@pytest.fixture
def healthz_url() -> Iterator[str]:
    yield from _serve(Settings(), clock=lambda: FIXED_NOW)


def test_health_returns_healthy_with_utc_second_timestamp(healthz_url: str) -> None:
    response = http_get(f"{healthz_url}/health")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "healthy", "timestamp": "2025-01-15T10:00:00Z"}


def test_health_timestamp_uses_the_wall_clock_in_utc() -> None:
    for url in _serve(Settings()):
        before = datetime.now(UTC).replace(microsecond=0)
        timestamp = http_get(f"{url}/health").json()["timestamp"]
        after = datetime.now(UTC)

        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", timestamp)
        parsed = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before <= parsed <= after + timedelta(seconds=1)


def test_metrics_count_requests_by_path_method_and_status(healthz_url: str) -> None:
    health_labels = {"method": "GET", "path": "/health", "status": "200"}
    before = metric_value(
        http_get(f"{healthz_url}/metrics").text, "http_requests_total", health_labels
    )

    for _ in range(3):
        http_get(f"{healthz_url}/health")
    http_get(f"{healthz_url}/no-such-page")
    metrics = http_get(f"{healthz_url}/metrics")

    assert metrics.status == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    text = metrics.text
    assert metric_value(text, "http_requests_total", health_labels) == before + 3
    unmatched = {"method": "GET", "path": "unmatched", "status": "404"}
    assert metric_value(text, "http_requests_total", unmatched) == 1
    latency_count = metric_value(text, "http_request_duration_seconds_count", health_labels)
    assert latency_count == 3
    # The raw URL never becomes a label value: that would let scanners explode cardinality.
    assert "/no-such-page" not in text


def test_unknown_path_is_a_json_404(healthz_url: str) -> None:
    response = http_get(f"{healthz_url}/healthz?x=1")

    assert response.status == 404
    assert response.json() == {"error": "not found", "path": "/healthz"}


def test_debug_sleep_route_is_off_unless_enabled(healthz_url: str) -> None:
    assert http_get(f"{healthz_url}/debug/sleep?seconds=0").status == 404


def test_debug_sleep_route_rejects_out_of_range_durations() -> None:
    for url in _serve(Settings(debug_routes=True)):
        assert http_get(f"{url}/debug/sleep?seconds=0").json() == {"slept_seconds": 0.0}
        assert http_get(f"{url}/debug/sleep?seconds=999").status == 400
        assert http_get(f"{url}/debug/sleep?seconds=abc").status == 400


def test_non_get_methods_are_rejected_with_405(healthz_url: str) -> None:
    response = http_request("POST", f"{healthz_url}/health")

    assert response.status == 405
    assert response.json() == {"error": "method not allowed"}


def test_head_is_answered_like_get_without_a_body(healthz_url: str) -> None:
    response = http_request("HEAD", f"{healthz_url}/health")

    assert response.status == 200
    assert response.body == b""
    assert int(response.headers["Content-Length"]) > 0


def test_ready_is_200_while_serving(healthz_url: str) -> None:
    response = http_get(f"{healthz_url}/ready")

    assert (response.status, response.json()) == (200, {"status": "ready"})


def test_unknown_methods_are_one_metric_label(healthz_url: str) -> None:
    http_request("BREW", f"{healthz_url}/health")
    text = http_get(f"{healthz_url}/metrics").text

    assert (
        metric_value(
            text, "http_requests_total", {"method": "other", "path": "/health", "status": "405"}
        )
        == 1
    )
    assert "BREW" not in text
