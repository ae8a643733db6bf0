"""HTTP routes of kpis-api as an ASGI app, optionally mounted under a base path as well.

Routes: ``/`` (HTML dashboard), ``/api/kpi/summary`` (JSON), ``/metrics``, ``/health``
(process liveness, never touches the database) and ``/ready`` (one ``SELECT 1``; 503 once
the process is draining). With ``KPIS_BASE_PATH=/kpis`` each is also answered under
``/kpis`` (``/kpis`` and ``/kpis/`` both show the dashboard), so an Ingress can route
``/kpis`` without rewriting paths. When the database is down, slow or the pool is
saturated, database routes answer 503 with ``Retry-After`` within the pool and statement
time-outs. ``HEAD`` is answered like ``GET`` without a body; other methods get 405.

Example::

    state = DrainState()
    app = KpisApp(KpisService(settings, database, metrics), state)
    # serve(app, state, options, on_start=database.open) runs it under Granian
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from kpis_api.config import Settings
from kpis_api.dashboard import render_dashboard, render_unavailable_page
from kpis_api.db import Database
from kpis_api.errors import DatabaseUnavailable
from kpis_api.kpis import KpiSummary, compute_summary_async
from kpis_api.metrics import METRICS_CONTENT_TYPE, KpisMetrics
from servicekit.http import log_access, method_label
from servicekit.serving import DrainState, Receive, Scope, Send

logger = logging.getLogger("kpis_api.http")
access_logger = logging.getLogger("kpis_api.access")

# Unknown paths share one label value so a scanner cannot blow up metric cardinality.
UNMATCHED_ROUTE_LABEL = "unmatched"
ROUTES = ("/", "/api/kpi/summary", "/metrics", "/health", "/ready", "/favicon.ico")
# Seconds a client (or an Ingress retry policy) should wait after a 503: about one pool
# time-out, by which time a recovering database is usually back.
RETRY_AFTER_SECONDS = 2
_JSON = b"application/json"
_HTML = b"text/html; charset=utf-8"


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
        self._cached: tuple[float, KpiSummary] | None = None
        self._computing: asyncio.Future[KpiSummary] | None = None

    async def summary(self) -> KpiSummary:
        """The KPIs, at most ``summary_cache_seconds`` old; raises DatabaseUnavailable.

        30-day aggregates do not change visibly within a second, while every dashboard
        view, API poll and scrape would otherwise run the same two queries: one computed
        summary answers all requests for ``summary_cache_seconds``, and requests arriving
        while it is being computed wait for that computation instead of starting their
        own (so a burst costs the database one query pair, not one per request). Failures
        are never cached. With 0, every request queries the database.
        """
        ttl = self.settings.summary_cache_seconds
        if ttl <= 0:
            return await self._compute_summary()
        if self._cached is not None and time.monotonic() - self._cached[0] < ttl:
            return self._cached[1]
        if self._computing is not None:
            return await asyncio.shield(self._computing)
        computing: asyncio.Future[KpiSummary] = asyncio.get_running_loop().create_future()
        self._computing = computing
        started = time.monotonic()
        try:
            summary = await self._compute_summary()
        except asyncio.CancelledError:
            computing.cancel()
            raise
        except BaseException as error:
            computing.set_exception(error)
            computing.exception()  # retrieved here; waiters (if any) get it too
            raise
        finally:
            self._computing = None
        computing.set_result(summary)
        self._cached = (started, summary)
        return summary

    async def _compute_summary(self) -> KpiSummary:
        async with self.database.connection("summary") as conn:
            summary = await compute_summary_async(conn, self.clock(), self.metrics.observe_query)
        self.metrics.publish_summary(summary)
        return summary

    async def check_ready(self) -> None:
        """Raise DatabaseUnavailable unless the database answers a round trip."""
        await self.database.ping(self.metrics.observe_query)


class Response:
    """What a route returns: status, body, content type and extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: bytes = _JSON,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


def json_response(
    status: HTTPStatus, payload: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()
) -> Response:
    return Response(int(status), json.dumps(payload).encode("utf-8"), _JSON, headers)


_RETRY_AFTER = ((b"retry-after", str(RETRY_AFTER_SECONDS).encode("ascii")),)


class KpisApp:
    """ASGI callable; one instance serves every request of the process."""

    def __init__(self, service: KpisService, state: DrainState) -> None:
        self.service = service
        self.state = state
        self._handlers: dict[str, Callable[[str], Awaitable[Response]]] = {
            "/": self._dashboard,
            "/api/kpi/summary": self._summary,
            "/metrics": self._metrics,
            "/health": self._health,
            "/ready": self._ready,
            "/favicon.ico": self._no_favicon,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        self.state.in_flight += 1
        try:
            method: str = scope["method"]
            path: str = scope["path"]
            resolved = resolve_route(path, self.service.settings.base_path)
            if resolved is None:
                route_label = UNMATCHED_ROUTE_LABEL
                response = json_response(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})
            else:
                route_label = resolved.route
                if method in ("GET", "HEAD"):
                    response = await self._handlers[resolved.route](resolved.prefix)
                else:
                    response = json_response(
                        HTTPStatus.METHOD_NOT_ALLOWED,
                        {"error": "method not allowed"},
                        ((b"allow", b"GET, HEAD"),),
                    )
            await self._send(send, response, head=method == "HEAD")
        finally:
            self.state.in_flight -= 1
        seconds = time.perf_counter() - started
        self.service.metrics.observe_request(
            path=route_label, method=method_label(method), status=response.status, seconds=seconds
        )
        log_access(access_logger, scope, method, path, response.status, seconds)

    async def _send(self, send: Send, response: Response, head: bool) -> None:
        headers = [
            (b"content-type", response.content_type),
            (b"cache-control", b"no-store"),
            *response.headers,
        ]
        if response.status != HTTPStatus.NO_CONTENT:  # a 204 has no Content-Length
            headers.append((b"content-length", str(len(response.body)).encode("ascii")))
        if self.state.draining:
            # Tell keep-alive clients to reconnect elsewhere: this process is going away.
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else response.body})

    async def _health(self, prefix: str) -> Response:
        # Liveness must not depend on the database: a restart cannot fix a database outage,
        # and restarting every replica at once during one would only add load.
        return json_response(HTTPStatus.OK, {"status": "healthy"})

    async def _ready(self, prefix: str) -> Response:
        if self.state.draining:
            return json_response(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "draining"})
        try:
            await self.service.check_ready()
        except DatabaseUnavailable as error:
            logger.warning("not ready", extra={"reason": str(error)})
            return json_response(
                HTTPStatus.SERVICE_UNAVAILABLE,
                {"status": "unready", "reason": str(error)},
                _RETRY_AFTER,
            )
        return json_response(HTTPStatus.OK, {"status": "ready"})

    async def _summary(self, prefix: str) -> Response:
        try:
            summary = await self.service.summary()
        except DatabaseUnavailable as error:
            logger.warning("summary unavailable", extra={"reason": str(error)})
            return json_response(
                HTTPStatus.SERVICE_UNAVAILABLE,
                {"error": "unavailable", "reason": str(error)},
                _RETRY_AFTER,
            )
        return json_response(HTTPStatus.OK, summary.to_json())

    async def _dashboard(self, prefix: str) -> Response:
        try:
            summary = await self.service.summary()
        except DatabaseUnavailable as error:
            logger.warning("dashboard unavailable", extra={"reason": str(error)})
            page = render_unavailable_page(str(error), prefix)
            return Response(503, page.encode("utf-8"), _HTML, _RETRY_AFTER)
        return Response(200, render_dashboard(summary, prefix).encode("utf-8"), _HTML)

    async def _no_favicon(self, prefix: str) -> Response:
        # Browsers ask for /favicon.ico whenever they show the JSON or the metrics: answering
        # "nothing" keeps a 404 out of every visitor's console.
        return Response(int(HTTPStatus.NO_CONTENT), b"", b"image/x-icon")

    async def _metrics(self, prefix: str) -> Response:
        body = self.service.metrics.render()
        return Response(200, body, METRICS_CONTENT_TYPE.encode("ascii"))
