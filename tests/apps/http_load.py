"""Keep-alive HTTP clients on threads that record every request, for the fault tests.

A record says when writing the request began (``started``) and when it was complete
(``sent``), and what came back: a status and the ``Connection`` header, or the error. On a
busy machine a thread can be descheduled between the two, so "written before T" is
``sent < T`` and "written after T" is ``started > T``. Requests that never got written (the
connection was refused) are not recorded: the server never accepted them.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    path: str
    started: float  # time.monotonic() just before the request was written
    sent: float  # time.monotonic() once the request was written
    status: int | None  # None: the connection failed after the request was written
    connection: str  # the response's Connection header, or the error text
    seconds: float  # from write to response (or failure)


class LoadClients:
    """``count`` threads, each looping GET ``path`` on its own keep-alive connection."""

    def __init__(self, port: int, paths: list[str], timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(path,), daemon=True) for path in paths
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _record(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)

    def _loop(self, path: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", path)
            except OSError:
                # Not accepted (refused, or the server closed an idle connection before this
                # request was written): back off briefly and try a fresh connection.
                conn.close()
                time.sleep(0.02)
                continue
            sent = time.monotonic()
            try:
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                self._record(
                    Record(path, started, sent, None, repr(error), time.monotonic() - sent)
                )
                conn.close()
                continue
            header = response.getheader("Connection", "")
            self._record(
                Record(path, started, sent, response.status, header, time.monotonic() - sent)
            )
            if response.will_close:
                conn.close()
        conn.close()
