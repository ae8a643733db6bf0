"""Prometheus metrics: HTTP traffic, database query latency and the KPI values themselves.

A registry per service instance (not prometheus-client's global one) lets tests run several
servers in one process.

Example::

    metrics = KpisMetrics()
    metrics.observe_query("summary_totals", 0.004)
    metrics.publish_summary(summary)
    text = metrics.render()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from kpis_api.kpis import KpiSummary
from servicekit.http import RequestMetrics, service_registry

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _PoolCollector(Collector):
    """Pool size, idle connections and waiting requests, straight from psycopg_pool."""

    def __init__(self, stats: Callable[[], Mapping[str, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self._stats()
        for name, key, help_text in _POOL_GAUGES:
            yield GaugeMetricFamily(name, help_text, value=stats.get(key, 0))


_POOL_GAUGES = (
    ("kpis_db_pool_connections", "pool_size", "Connections the pool holds (idle or lent)."),
    ("kpis_db_pool_idle_connections", "pool_available", "Idle connections in the pool."),
    (
        "kpis_db_pool_max_connections",
        "pool_max",
        "Upper bound of the pool (KPIS_PG_POOL_MAX_SIZE).",
    ),
    ("kpis_db_pool_waiting_requests", "requests_waiting", "Requests waiting for a connection."),
)


class KpisMetrics:
    """All metrics kpis-api exports, registered in one private registry."""

    def __init__(self) -> None:
        self.registry = service_registry()
        self._requests = RequestMetrics(self.registry, _HTTP_BUCKETS)
        self._query_latency = Histogram(
            "kpis_db_query_duration_seconds",
            "Time spent on one database query, including waiting for a pooled connection.",
            ["query"],
            buckets=_QUERY_BUCKETS,
            registry=self.registry,
        )
        self._query_errors = Counter(
            "kpis_db_errors_total",
            "Database operations that failed (unreachable, timed out or rejected).",
            ["query"],
            registry=self.registry,
        )
        self._revenue = Gauge(
            "kpis_revenue_cents",
            "Revenue of paid orders in the KPI window, in cents (minor currency units).",
            registry=self.registry,
        )
        self._paid_orders = Gauge(
            "kpis_paid_orders", "Paid orders in the KPI window.", registry=self.registry
        )
        self._average_order_value = Gauge(
            "kpis_average_order_value_cents",
            "Average paid order value in the KPI window, in cents; NaN when there are none.",
            registry=self.registry,
        )
        self._active_customers = Gauge(
            "kpis_active_customers",
            "Distinct customers with at least one paid order in the KPI window.",
            registry=self.registry,
        )
        self._refund_rate = Gauge(
            "kpis_refund_rate",
            "Refunded / (paid + refunded) orders in the KPI window; NaN when there are none.",
            registry=self.registry,
        )
        self._computed_at = Gauge(
            "kpis_last_computed_timestamp_seconds",
            "Unix time of the 'now' the published KPI values were computed for.",
            registry=self.registry,
        )

    def watch_pool(self, stats: Callable[[], Mapping[str, int]]) -> None:
        """Export the connection pool's counters, read from ``stats`` at every scrape."""
        self.registry.register(_PoolCollector(stats))

    def observe_request(self, *, path: str, method: str, status: int, seconds: float) -> None:
        """Count one finished HTTP request; ``path`` must be a route, not the raw URL."""
        self._requests.observe(path=path, method=method, status=status, seconds=seconds)

    def observe_query(self, query: str, seconds: float) -> None:
        """Record how long the named query took."""
        self._query_latency.labels(query=query).observe(seconds)

    def count_query_error(self, query: str) -> None:
        """Record that the named database operation failed."""
        self._query_errors.labels(query=query).inc()

    def publish_summary(self, summary: KpiSummary) -> None:
        """Expose the latest computed KPIs as gauges."""
        self._revenue.set(summary.revenue_cents)
        self._paid_orders.set(summary.paid_orders)
        self._average_order_value.set(
            math.nan
            if summary.average_order_value_cents is None
            else summary.average_order_value_cents
        )
        self._active_customers.set(summary.active_customers)
        self._refund_rate.set(math.nan if summary.refund_rate is None else summary.refund_rate)
        self._computed_at.set(summary.window_end.timestamp())

    def render(self) -> bytes:
        """The current values in Prometheus text format."""
        return generate_latest(self.registry)
