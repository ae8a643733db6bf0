"""The healthz ASGI app: routes, JSON responses, metrics and JSON access logs.

Routes: ``GET /health`` (``{"status": "healthy", "timestamp": ...}``), ``GET /ready``
(200, or 503 once the process is draining), ``GET /metrics`` and, only with
``HEALTHZ_DEBUG_ROUTES=1``, ``GET /debug/sleep?seconds=N`` so tests can hold a request in
flight. ``HEAD`` is answered like ``GET`` without a body; other methods get 405.

Example::

    app = HealthzApp(Settings(), DrainState())
    # serve(app, state, options) runs it under Granian
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from healthz.config import Settings
from healthz.metrics import METRICS_CONTENT_TYPE, HttpMetrics
from servicekit.http import log_access, method_label
from servicekit.serving import DrainState, Receive, Scope, Send

logger = logging.getLogger("healthz.app")
access_logger = logging.getLogger("healthz.access")

# Unknown paths share one label value so a scanner cannot blow up metric cardinality.
UNMATCHED_ROUTE_LABEL = "unmatched"
MAX_DEBUG_SLEEP_SECONDS = 30.0
_JSON = b"application/json"


def utc_timestamp(now: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix and whole seconds, e.g. ``2025-01-15T10:00:00Z``."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Response:
    """What a route returns: status, body and content type."""

    __slots__ = ("body", "content_type", "status")

    def __init__(self, status: int, body: bytes, content_type: bytes = _JSON) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type


def json_response(status: HTTPStatus, payload: dict[str, Any]) -> Response:
    return Response(int(status), json.dumps(payload).encode("utf-8"))


class HealthzApp:
    """ASGI callable; one instance serves every request of the process."""

    def __init__(
        self,
        settings: Settings,
        state: DrainState,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.state = state
        self.clock = clock
        self.metrics = HttpMetrics()
        self._health_second = -1
        self._health_response = Response(200, b"")
        self._routes: dict[str, Callable[[bytes], Any]] = {
            "/health": self._health,
            "/ready": self._ready,
            "/metrics": self._metrics,
        }
        if settings.debug_routes:
            self._routes["/debug/sleep"] = self._debug_sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        self.state.in_flight += 1
        try:
            method: str = scope["method"]
            path: str = scope["path"]
            route = self._routes.get(path)
            route_label = path if route is not None else UNMATCHED_ROUTE_LABEL
            if route is None:
                response = json_response(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})
            elif method not in ("GET", "HEAD"):
                response = json_response(
                    HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"}
                )
            else:
                result = route(scope.get("query_string", b""))
                response = await result if asyncio.iscoroutine(result) else result
            await self._send(send, response, head=method == "HEAD")
        finally:
            self.state.in_flight -= 1
        seconds = time.perf_counter() - started
        self.metrics.observe_request(
            path=route_label, method=method_label(method), status=response.status, seconds=seconds
        )
        log_access(access_logger, scope, method, path, response.status, seconds)

    async def _send(self, send: Send, response: Response, head: bool) -> None:
        headers = [
            (b"content-type", response.content_type),
            (b"content-length", str(len(response.body)).encode("ascii")),
            (b"cache-control", b"no-store"),
        ]
        if self.state.draining:
            # Tell keep-alive clients to reconnect elsewhere: this process is going away.
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else response.body})

    def _health(self, query: bytes) -> Response:
        # The body changes once a second (whole-second timestamp): build it once per second.
        now = self.clock()
        second = int(now.timestamp())
        if second != self._health_second:
            body = {"status": "healthy", "timestamp": utc_timestamp(now)}
            self._health_response = json_response(HTTPStatus.OK, body)
            self._health_second = second
        return self._health_response

    def _ready(self, query: bytes) -> Response:
        if self.state.draining:
            return json_response(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "draining"})
        return json_response(HTTPStatus.OK, {"status": "ready"})

    def _metrics(self, query: bytes) -> Response:
        return Response(200, self.metrics.render(), METRICS_CONTENT_TYPE.encode("ascii"))

    async def _debug_sleep(self, query: bytes) -> Response:
        raw_seconds = parse_qs(query.decode("latin-1")).get("seconds", ["1"])[0]
        try:
            seconds = float(raw_seconds)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= MAX_DEBUG_SLEEP_SECONDS:
            return json_response(
                HTTPStatus.BAD_REQUEST,
                {"error": f"seconds must be between 0 and {MAX_DEBUG_SLEEP_SECONDS:g}"},
            )
        # Logged so a test can tell the request is in flight before it sends SIGTERM.
        logger.info("debug sleep started", extra={"seconds": seconds})
        await asyncio.sleep(seconds)
        return json_response(HTTPStatus.OK, {"slept_seconds": seconds})
