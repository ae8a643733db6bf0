"""Prometheus metrics for the HTTP server, kept in a registry of their own.

A registry per server (rather than prometheus-client's global one) lets tests run several
servers in one process without "Duplicated timeseries" errors.

Example::

    metrics = HttpMetrics()
    metrics.observe_request(path="/health", method="GET", status=200, seconds=0.001)
    text = metrics.render()  # Prometheus text exposition format
"""

from __future__ import annotations

from prometheus_client import (
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from servicekit.http import RequestMetrics, service_registry

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

# Health probes answer in well under a millisecond; the low buckets keep that visible.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class HttpMetrics:
    """Request counter and latency histogram, labelled by route, method and status."""

    def __init__(self) -> None:
        self.registry = service_registry()
        self._requests = RequestMetrics(self.registry, _LATENCY_BUCKETS)

    def observe_request(self, *, path: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request; ``path`` must be a known route or a fixed placeholder."""
        self._requests.observe(path=path, method=method, status=status, seconds=seconds)

    def render(self) -> bytes:
        """The current values in Prometheus text format."""
        return generate_latest(self.registry)
