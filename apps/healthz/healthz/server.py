"""The HTTP server: routes, JSON responses, metrics and graceful draining.

Example::

    server = HealthzServer(("127.0.0.1", 8080), Settings())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ...
    server.stop_gracefully(drain_timeout_seconds=20)  # on SIGTERM
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from healthz.config import Settings
from healthz.metrics import METRICS_CONTENT_TYPE, HttpMetrics

logger = logging.getLogger("healthz.server")

# Unknown paths share one label value so a scanner cannot blow up metric cardinality.
UNMATCHED_ROUTE_LABEL = "unmatched"
MAX_DEBUG_SLEEP_SECONDS = 30.0


def utc_timestamp(now: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix and whole seconds, e.g. ``2025-01-15T10:00:00Z``."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DrainingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can wait for its in-flight requests before exiting.

    The count is raised in ``process_request`` (the accept loop) rather than in the worker
    thread, so a request accepted just before shutdown is always waited for.
    """

    daemon_threads = True

    def __init__(
        self,
        server_address: tuple[str, int],
        handler_class: Callable[..., BaseHTTPRequestHandler],
    ) -> None:
        super().__init__(server_address, handler_class)
        self._in_flight = 0
        self._in_flight_changed = threading.Condition()

    def server_bind(self) -> None:
        # HTTPServer.server_bind adds a reverse DNS lookup of the bind address (getfqdn)
        # that can stall startup for seconds when cluster DNS is slow; we never use it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._in_flight_changed:
            self._in_flight += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._finish_request_accounting()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._finish_request_accounting()

    def _finish_request_accounting(self) -> None:
        with self._in_flight_changed:
            self._in_flight -= 1
            self._in_flight_changed.notify_all()

    @property
    def in_flight_requests(self) -> int:
        with self._in_flight_changed:
            return self._in_flight

    def stop_gracefully(self, drain_timeout_seconds: float) -> int:
        """Stop accepting, close the listening socket, wait for in-flight requests.

        Must be called from a thread other than the one running ``serve_forever``.
        Returns how many requests were still running when the drain timeout ran out.
        """
        self.shutdown()
        # Closing the listener makes new connections fail fast (refused) instead of
        # queueing in the backlog of a process that will never answer them.
        self.server_close()
        with self._in_flight_changed:
            self._in_flight_changed.wait_for(
                lambda: self._in_flight == 0, timeout=drain_timeout_seconds
            )
            return self._in_flight


class HealthzServer(DrainingHTTPServer):
    """The healthz service: settings, metrics and a clock shared by every request."""

    def __init__(
        self,
        server_address: tuple[str, int],
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.metrics = HttpMetrics()
        self.clock = clock
        super().__init__(server_address, HealthzRequestHandler)


class HealthzRequestHandler(BaseHTTPRequestHandler):
    """Routes GET requests; everything else is a JSON 404 or 405."""

    server: HealthzServer
    server_version = "healthz"
    sys_version = ""

    def do_GET(self) -> None:
        started = time.perf_counter()
        url = urlsplit(self.path)
        routes: dict[str, Callable[[str], int]] = {
            "/health": self._serve_health,
            "/metrics": self._serve_metrics,
        }
        if self.server.settings.debug_routes:
            routes["/debug/sleep"] = self._serve_debug_sleep
        route = routes.get(url.path)
        if route is None:
            status = self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "path": url.path})
            route_label = UNMATCHED_ROUTE_LABEL
        else:
            status = route(url.query)
            route_label = url.path
        self.server.metrics.observe_request(
            path=route_label,
            method="GET",
            status=status,
            seconds=time.perf_counter() - started,
        )

    def _reject_method(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _reject_method

    def _serve_health(self, query: str) -> int:
        body = {"status": "healthy", "timestamp": utc_timestamp(self.server.clock())}
        return self._send_json(HTTPStatus.OK, body)

    def _serve_metrics(self, query: str) -> int:
        return self._send_bytes(HTTPStatus.OK, self.server.metrics.render(), METRICS_CONTENT_TYPE)

    def _serve_debug_sleep(self, query: str) -> int:
        raw_seconds = parse_qs(query).get("seconds", ["1"])[0]
        try:
            seconds = float(raw_seconds)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= MAX_DEBUG_SLEEP_SECONDS:
            return self._send_json(
                HTTPStatus.BAD_REQUEST,
                {"error": f"seconds must be between 0 and {MAX_DEBUG_SLEEP_SECONDS:g}"},
            )
        # Logged so a test can tell the request is in flight before it sends SIGTERM.
        logger.info("debug sleep started", extra={"seconds": seconds})
        time.sleep(seconds)
        return self._send_json(HTTPStatus.OK, {"slept_seconds": seconds})

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> int:
        body = json.dumps(payload).encode("utf-8")
        return self._send_bytes(status, body, "application/json")

    def _send_bytes(self, status: HTTPStatus, body: bytes, content_type: str) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        return int(status)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes hit /health every few seconds on every replica: access lines are debug
        # noise unless someone asks for them with LOG_LEVEL=debug.
        logger.debug(format % args, extra={"client": self.client_address[0]})

    def log_error(self, format: str, *args: Any) -> None:
        logger.warning(format % args, extra={"client": self.client_address[0]})
