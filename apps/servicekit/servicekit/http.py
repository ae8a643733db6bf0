"""What every service records about each HTTP request: the Prometheus request metrics and one
JSON access-log line, the same names and labels in every service.

Example::

    registry = service_registry()
    requests = RequestMetrics(registry, buckets=(0.001, 0.01, 0.1, 1.0))
    requests.observe(path="/health", method=method_label("GET"), status=200, seconds=0.001)
    log_access(logging.getLogger("healthz.access"), scope, "GET", "/health", 200, 0.001)
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

# Methods kept as a label value; anything else is "other", so a client cannot grow the series.
METHOD_LABELS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def method_label(method: str) -> str:
    """The ``method`` label of a request: the method when it is a known one, else "other"."""
    return method if method in METHOD_LABELS else "other"


def service_registry() -> CollectorRegistry:
    """A registry of the service's own, with the process, platform and GC collectors.

    A registry per server (rather than prometheus-client's global one) lets tests run several
    servers in one process without "Duplicated timeseries" errors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class RequestMetrics:
    """``http_requests_total`` and ``http_request_duration_seconds`` by route path, method
    and status code."""

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float]) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._requests = Counter(
            "http_requests_total",
            "HTTP requests handled, by route path, method and status code.",
            ["path", "method", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time spent handling an HTTP request, by route path, method and status code.",
            ["path", "method", "status"],
            buckets=tuple(buckets),
            registry=registry,
        )

    def observe(self, *, path: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request; ``path`` must be a route or a fixed placeholder, never
        the raw URL, and ``method`` a :func:`method_label`."""
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


def log_access(
    logger: logging.Logger,
    scope: MutableMapping[str, Any],
    method: str,
    path: str,
    status: int,
    seconds: float,
) -> None:
    """One access-log line at info level (nothing is formatted when info is off)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client") or ("", 0)
    logger.info(
        f"{method} {path} {status}",
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": client[0],
        },
    )
