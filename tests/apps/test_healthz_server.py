"""healthz served in-process on a free port: response bodies, metrics and routing."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apps_testing import http_get, http_request, metric_value

from healthz.config import Settings
from healthz.server import HealthzServer

FIXED_NOW = datetime(2025, 1, 15, 10, 0, 0, 987654, tzinfo=UTC)


def _serve(server: HealthzServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def healthz_url() -> Iterator[str]:
    yield from _serve(HealthzServer(("127.0.0.1", 0), Settings(), clock=lambda: FIXED_NOW))


def test_health_returns_healthy_with_utc_second_timestamp(healthz_url: str) -> None:
    response = http_get(f"{healthz_url}/health")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "healthy", "timestamp": "2025-01-15T10:00:00Z"}


def test_health_timestamp_uses_the_wall_clock_in_utc() -> None:
    server = HealthzServer(("127.0.0.1", 0), Settings())
    for url in _serve(server):
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
    latency_count = metric_value(
        text, "http_request_duration_seconds_count", {"method": "GET", "path": "/health"}
    )
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
    server = HealthzServer(("127.0.0.1", 0), Settings(debug_routes=True))
    for url in _serve(server):
        assert http_get(f"{url}/debug/sleep?seconds=0").json() == {"slept_seconds": 0.0}
        assert http_get(f"{url}/debug/sleep?seconds=999").status == 400
        assert http_get(f"{url}/debug/sleep?seconds=abc").status == 400


def test_non_get_methods_are_rejected_with_405(healthz_url: str) -> None:
    response = http_request("POST", f"{healthz_url}/health")

    assert response.status == 405
    assert response.json() == {"error": "method not allowed"}
