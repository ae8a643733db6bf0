"""kpis-api routes served in-process against a real PostgreSQL with a pinned clock."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from kpis_api.app import KpisApp, KpisService
from kpis_api.config import Settings
from kpis_api.db import Database, connect_once
from kpis_api.metrics import KpisMetrics
from kpis_api.migrations import apply_migrations
from servicekit.serving import DrainState, ServeOptions, serve_until
from tests.apps.apps_testing import (
    free_tcp_port,
    http_get,
    http_request,
    metric_value,
    serving_in_thread,
)
from tests.apps.kpis_dataset import EXPECTED_SUMMARY, NOW, load_dataset


@contextmanager
def running_kpis_server(
    db_settings: Any, base_path: str = "", summary_cache_seconds: float = 1.0
) -> Iterator[str]:
    """kpis-api under Granian in this process, with the clock pinned to NOW."""
    settings = Settings(
        database=db_settings, base_path=base_path, summary_cache_seconds=summary_cache_seconds
    )
    metrics = KpisMetrics()
    database = Database(db_settings, count_error=metrics.count_query_error)
    state = DrainState()
    app = KpisApp(KpisService(settings, database, metrics, clock=lambda: NOW), state)
    options = ServeOptions(port=free_tcp_port(), bind_address="127.0.0.1", drain_timeout_seconds=3)
    serve = functools.partial(serve_until, on_start=database.open, on_stop=database.close)
    with serving_in_thread(serve, app, state, options) as url:
        yield url


@pytest.fixture
def seeded_db_settings(kpis_db_settings: Any) -> Any:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        load_dataset(conn)
    return kpis_db_settings


@pytest.fixture
def kpis_url(seeded_db_settings: Any) -> Iterator[str]:
    with running_kpis_server(seeded_db_settings) as url:
        yield url


def test_summary_endpoint_returns_the_computed_kpis(kpis_url: str) -> None:
    response = http_get(f"{kpis_url}/api/kpi/summary")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == EXPECTED_SUMMARY


def test_dashboard_shows_the_numbers_and_an_svg_chart(kpis_url: str) -> None:
    response = http_get(f"{kpis_url}/")

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.text
    for shown in ("245.51", "49.10", "28.57%", "<dd>5</dd>", "<dd>3</dd>"):
        assert shown in page
    svg = re.search(r"<svg .*?</svg>", page, re.DOTALL)
    assert svg is not None
    assert svg.group(0).count('<rect class="bar"') == 7
    assert "2025-01-14: 65.50" in svg.group(0)
    assert "<script" not in page
    assert 'href="/api/kpi/summary"' in page
    assert 'href="/metrics"' in page


def test_dashboard_of_an_empty_database_shows_dashes_for_undefined_kpis(
    kpis_db_settings: Any,
) -> None:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
    with running_kpis_server(kpis_db_settings) as url:
        page = http_get(f"{url}/").text

    assert "<dd>0.00</dd>" in page
    assert page.count("<dd>—</dd>") == 2  # average order value and refund rate
    assert page.count('height="0.0"') == 7


def test_metrics_expose_request_counts_query_latency_and_kpi_gauges(kpis_url: str) -> None:
    http_get(f"{kpis_url}/api/kpi/summary")
    text = http_get(f"{kpis_url}/metrics").text

    summary_labels = {"method": "GET", "path": "/api/kpi/summary", "status": "200"}
    assert metric_value(text, "http_requests_total", summary_labels) == 1
    totals_query = {"query": "summary_totals"}
    assert metric_value(text, "kpis_db_query_duration_seconds_count", totals_query) == 1
    assert metric_value(text, "kpis_revenue_cents") == 24_551
    assert metric_value(text, "kpis_paid_orders") == 5
    assert metric_value(text, "kpis_active_customers") == 3
    assert metric_value(text, "kpis_average_order_value_cents") == 4_910
    assert metric_value(text, "kpis_refund_rate") == 0.2857
    assert metric_value(text, "kpis_last_computed_timestamp_seconds") == NOW.timestamp()


def test_health_and_ready_when_the_database_is_up(kpis_url: str) -> None:
    assert http_get(f"{kpis_url}/health").json() == {"status": "healthy"}
    ready = http_get(f"{kpis_url}/ready")
    assert (ready.status, ready.json()) == (200, {"status": "ready"})


def test_unknown_path_is_404_and_other_methods_405(kpis_url: str) -> None:
    assert http_get(f"{kpis_url}/api/kpi/other").status == 404
    assert http_request("POST", f"{kpis_url}/api/kpi/summary").status == 405


def test_every_route_is_also_served_under_the_base_path(seeded_db_settings: Any) -> None:
    with running_kpis_server(seeded_db_settings, base_path="/kpis") as url:
        prefixed_summary = http_get(f"{url}/kpis/api/kpi/summary")
        root_summary = http_get(f"{url}/api/kpi/summary")
        prefixed_dashboard = http_get(f"{url}/kpis/")
        bare_prefix_dashboard = http_get(f"{url}/kpis")
        root_dashboard = http_get(f"{url}/")
        statuses = {
            path: http_get(f"{url}{path}").status
            for path in ("/kpis/health", "/kpis/ready", "/kpis/metrics", "/kpisx/health")
        }

    assert prefixed_summary.json() == root_summary.json() == EXPECTED_SUMMARY
    assert statuses == {
        "/kpis/health": 200,
        "/kpis/ready": 200,
        "/kpis/metrics": 200,
        "/kpisx/health": 404,
    }
    # Links follow the prefix the page was reached under, so both entry points work.
    for page in (prefixed_dashboard, bare_prefix_dashboard):
        assert page.status == 200
        assert 'href="/kpis/api/kpi/summary"' in page.text
        assert 'href="/kpis/metrics"' in page.text
    assert 'href="/api/kpi/summary"' in root_dashboard.text


def test_summary_is_503_json_when_the_schema_is_missing(kpis_db_settings: Any) -> None:
    with running_kpis_server(kpis_db_settings) as url:
        response = http_get(f"{url}/api/kpi/summary")

    assert response.status == 503
    body = response.json()
    assert body["error"] == "unavailable"
    assert "run `python -m kpis_api migrate`" in body["reason"]


def _concurrent_summaries(url: str, count: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: http_get(f"{url}/api/kpi/summary"), range(count)))


def test_one_query_pair_answers_a_burst_within_the_cache_time(seeded_db_settings: Any) -> None:
    with running_kpis_server(seeded_db_settings, summary_cache_seconds=60) as url:
        responses = _concurrent_summaries(url, 16)
        text = http_get(f"{url}/metrics").text

    assert [r.json() for r in responses] == [EXPECTED_SUMMARY] * 16
    assert (
        metric_value(text, "kpis_db_query_duration_seconds_count", {"query": "summary_totals"}) == 1
    )


def test_without_the_cache_every_request_queries(seeded_db_settings: Any) -> None:
    with running_kpis_server(seeded_db_settings, summary_cache_seconds=0) as url:
        responses = _concurrent_summaries(url, 4)
        text = http_get(f"{url}/metrics").text

    assert {r.status for r in responses} == {200}
    assert (
        metric_value(text, "kpis_db_query_duration_seconds_count", {"query": "summary_totals"}) == 4
    )


def test_failures_are_not_cached(kpis_db_settings: Any) -> None:
    with running_kpis_server(kpis_db_settings, summary_cache_seconds=60) as url:
        missing_schema = http_get(f"{url}/api/kpi/summary")
        with connect_once(kpis_db_settings) as conn:
            apply_migrations(conn)
            load_dataset(conn)
        after_migration = http_get(f"{url}/api/kpi/summary")

    assert missing_schema.status == 503
    assert missing_schema.headers["Retry-After"] == "2"
    assert after_migration.json() == EXPECTED_SUMMARY
