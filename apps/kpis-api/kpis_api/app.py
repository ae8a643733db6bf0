"""HTTP routes of kpis-api, optionally mounted under a base path as well as at the root.

Routes: ``/`` (HTML dashboard), ``/api/kpi/summary`` (JSON), ``/metrics``, ``/health``
(process liveness, never touches the database) and ``/ready`` (one ``SELECT 1``). With
``KPIS_BASE_PATH=/kpis`` each is also answered under ``/kpis`` (``/kpis`` and ``/kpis/``
both show the dashboard), so an Ingress can route ``/kpis`` without rewriting paths.

Example::

    service = KpisService(settings, database, metrics)
    server = KpisHTTPServer(("127.0.0.1", 0), service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from kpis_api.config import Settings
from kpis_api.dashboard import render_dashboard, render_unavailable_page
from kpis_api.db import Database
from kpis_api.errors import DatabaseUnavailable
from kpis_api.httpserver import DrainingHTTPServer
from kpis_api.kpis import KpiSummary, compute_summary
from kpis_api.metrics import METRICS_CONTENT_TYPE, KpisMetrics

logger = logging.getLogger("kpis_api.http")

# Unknown paths share one label value so a scanner cannot blow up metric cardinality.
UNMATCHED_ROUTE_LABEL = "unmatched"
ROUTES = ("/", "/api/kpi/summary", "/metrics", "/health", "/ready")


@dataclass(frozen=True)
class ResolvedRoute:
    """A request path split into the route it names and the prefix it was reached under."""

    route: str
    prefix: str


def resolve_route(path: str, base_path: str) -> ResolvedRoute | None:
    """Map ``/kpis/api/kpi/summary`` (with base ``/kpis``) or ``/api/kpi/summary`` to a route."""
    prefix = ""
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        prefix = base_path
        path = path[len(base_path) :] or "/"
    return ResolvedRoute(route=path, prefix=prefix) if path in ROUTES else None


class KpisService:
    """What the routes need: settings, the database, metrics and a clock."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        metrics: KpisMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.database = database
        self.metrics = metrics
        self.clock = clock

    def summary(self) -> KpiSummary:
        """Compute the KPIs now and publish them as gauges; raises DatabaseUnavailable."""
        with self.database.connection("summary") as conn:
            summary = compute_summary(conn, self.clock(), self.metrics.observe_query)
        self.metrics.publish_summary(summary)
        return summary

    def check_ready(self) -> None:
        """Raise DatabaseUnavailable unless the database answers a round trip."""
        self.database.ping(self.metrics.observe_query)


class KpisHTTPServer(DrainingHTTPServer):
    """The HTTP server bound to one KpisService."""

    def __init__(self, server_address: tuple[str, int], service: KpisService) -> None:
        self.service = service
        super().__init__(server_address, KpisRequestHandler)


class KpisRequestHandler(BaseHTTPRequestHandler):
    """Dispatches GET requests to the routes; other methods get a JSON 405."""

    server: KpisHTTPServer
    server_version = "kpis-api"
    sys_version = ""

    def do_GET(self) -> None:
        started = time.perf_counter()
        path = urlsplit(self.path).path
        resolved = resolve_route(path, self.server.service.settings.base_path)
        if resolved is None:
            status = self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})
            route_label = UNMATCHED_ROUTE_LABEL
        else:
            handlers: dict[str, Callable[[str], int]] = {
                "/": self._serve_dashboard,
                "/api/kpi/summary": self._serve_summary,
                "/metrics": self._serve_metrics,
                "/health": self._serve_health,
                "/ready": self._serve_ready,
            }
            status = handlers[resolved.route](resolved.prefix)
            route_label = resolved.route
        self.server.service.metrics.observe_request(
            path=route_label, method="GET", status=status, seconds=time.perf_counter() - started
        )

    def _reject_method(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _reject_method

    def _serve_health(self, prefix: str) -> int:
        # Liveness must not depend on the database: a restart cannot fix a database outage,
        # and restarting every replica at once during one would only add load.
        return self._send_json(HTTPStatus.OK, {"status": "healthy"})

    def _serve_ready(self, prefix: str) -> int:
        try:
            self.server.service.check_ready()
        except DatabaseUnavailable as error:
            logger.warning("not ready", extra={"reason": str(error)})
            return self._send_json(
                HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unready", "reason": str(error)}
            )
        return self._send_json(HTTPStatus.OK, {"status": "ready"})

    def _serve_summary(self, prefix: str) -> int:
        try:
            summary = self.server.service.summary()
        except DatabaseUnavailable as error:
            logger.warning("summary unavailable", extra={"reason": str(error)})
            return self._send_json(
                HTTPStatus.SERVICE_UNAVAILABLE, {"error": "unavailable", "reason": str(error)}
            )
        return self._send_json(HTTPStatus.OK, summary.to_json())

    def _serve_dashboard(self, prefix: str) -> int:
        try:
            summary = self.server.service.summary()
        except DatabaseUnavailable as error:
            logger.warning("dashboard unavailable", extra={"reason": str(error)})
            page = render_unavailable_page(str(error), prefix)
            return self._send_html(HTTPStatus.SERVICE_UNAVAILABLE, page)
        return self._send_html(HTTPStatus.OK, render_dashboard(summary, prefix))

    def _serve_metrics(self, prefix: str) -> int:
        body = self.server.service.metrics.render()
        return self._send_bytes(HTTPStatus.OK, body, METRICS_CONTENT_TYPE)

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> int:
        return self._send_bytes(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send_html(self, status: HTTPStatus, page: str) -> int:
        return self._send_bytes(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def _send_bytes(self, status: HTTPStatus, body: bytes, content_type: str) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        return int(status)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes and scrapes arrive every few seconds: access lines only at debug level.
        logger.debug(format % args, extra={"client": self.client_address[0]})

    def log_error(self, format: str, *args: Any) -> None:
        logger.warning(format % args, extra={"client": self.client_address[0]})
