"""Prometheus metrics for the HTTP server, kept in a registry of their own.

A registry per server (rather than prometheus-client's global one) lets tests run several
servers in one process without "Duplicated timeseries" errors.

Example::

    metrics = HttpMetrics()
    metrics.observe_request(path="/health", method="GET", status=200, seconds=0.001)
    text = metrics.render()  # Prometheus text exposition format
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

# Health probes answer in well under a millisecond; the low buckets keep that visible.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class HttpMetrics:
    """Request counter and latency histogram, labelled by route, method and status."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._requests = Counter(
            "http_requests_total",
            "HTTP requests handled, by route path, method and status code.",
            ["path", "method", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time spent handling an HTTP request, by route path, method and status code.",
            ["path", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_request(self, *, path: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request; ``path`` must be a known route or a fixed placeholder."""
        # labels() hashes and locks on every call; the label sets are few and bounded
        # (routes x methods x statuses), so their children are looked up once and kept.
        key = (path, method, status)
        children = self._children.get(key)
        if children is None:
            code = str(status)
            children = (
                self._requests.labels(path=path, method=method, status=code),
                self._latency.labels(path=path, method=method, status=code),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The current values in Prometheus text format."""
        return generate_latest(self.registry)
