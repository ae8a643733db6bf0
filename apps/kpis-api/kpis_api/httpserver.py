"""A threading HTTP server that drains in-flight requests before the process exits.

Example::

    server = DrainingHTTPServer(("0.0.0.0", 3001), SomeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ...
    abandoned = server.stop_gracefully(drain_timeout_seconds=20)  # on SIGTERM
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class DrainingHTTPServer(ThreadingHTTPServer):
    """Counts in-flight requests so shutdown can wait for them, bounded by a timeout.

    The count is raised in ``process_request`` (the accept loop) rather than in the worker
    thread, so a request accepted just before shutdown is always waited for.
    """

    daemon_threads = True

    def __init__(
        self,
        server_address: tuple[str, int],
        handler_class: Callable[..., BaseHTTPRequestHandler],
    ) -> None:
        self._in_flight = 0
        self._in_flight_changed = threading.Condition()
        super().__init__(server_address, handler_class)

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
