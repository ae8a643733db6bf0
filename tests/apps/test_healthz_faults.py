"""healthz under load and abuse, as real processes: backlog, SIGTERM under load, bad input.

Bounded in time and loopback only; assertions leave headroom for a loaded 2-core CI machine
(no latency thresholds here: those are `make loadtest` numbers, not test assertions).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from healthz.app import HealthzApp
from healthz.config import Settings
from servicekit.serving import DrainState, ServeOptions, serve_until
from tests.apps.apps_testing import (
    ServiceProcess,
    base_env,
    free_tcp_port,
    http_get,
    serving_in_thread,
    wait_until,
)
from tests.apps.http_load import LoadClients

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]

# More than the old http.server backlog (5) by an order of magnitude.
BURST_CONNECTIONS = 64


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _start(start_service: StartService, **env: str) -> tuple[ServiceProcess, int]:
    port = free_tcp_port()
    service = start_service(["-m", "healthz"], base_env(PORT=str(port), **env))
    wait_until(lambda: _accepts(port), timeout=10, what="healthz to listen")
    return service, port


def accept_queue_length(port: int) -> int:
    """Connections waiting in the accept queue of the listener on ``port`` (Linux).

    For a LISTEN socket, /proc/net/tcp's rx_queue is the accept queue's current length,
    which the kernel caps at the listen backlog (+1).
    """
    longest = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local, state, queues = fields[1], fields[3], fields[4]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    longest = max(longest, int(queues.split(":")[1], 16))
    return longest


def _wait_for_queue(port: int, wanted: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (queued := accept_queue_length(port)) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return queued


def _is_stopped(pid: int) -> bool:
    """Every thread of ``pid`` is stopped (SIGSTOP reaches the threads one by one)."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            states.append((task / "stat").read_text("ascii").rsplit(")", 1)[1].split()[0])
    return bool(states) and all(state in ("T", "t") for state in states)


def _read_response(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_burst_larger_than_the_old_backlog_queues_instead_of_dropping(
    start_service: StartService,
) -> None:
    service, port = _start(start_service)
    # A stopped process accepts nothing: every connection must wait in the kernel's accept
    # queue, whose length is capped by the listen backlog. With the old backlog of 5 the
    # kernel holds only 6 there; the rest sit half-open and wait for SYN-ACK retransmits.
    service.process.send_signal(signal.SIGSTOP)
    wait_until(lambda: _is_stopped(service.process.pid), timeout=5, what="SIGSTOP to take effect")
    sockets: list[socket.socket] = []
    try:
        for _ in range(BURST_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=3)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: healthz\r\nConnection: close\r\n\r\n")
            sockets.append(sock)
        queued = _wait_for_queue(port, BURST_CONNECTIONS, timeout=5)
        # At least: the startup check's own connections may still be queued as well.
        assert queued >= BURST_CONNECTIONS, f"accept queue holds {queued}, not {BURST_CONNECTIONS}"
        service.process.send_signal(signal.SIGCONT)
        for sock in sockets:
            sock.settimeout(20)
        responses = [_read_response(sock) for sock in sockets]
    finally:
        service.process.send_signal(signal.SIGCONT)
        for sock in sockets:
            sock.close()

    assert len(responses) == BURST_CONNECTIONS
    assert all(r.startswith(b"HTTP/1.1 200 OK\r\n") for r in responses), responses[:3]


def test_port_in_use_is_a_clear_error_with_exit_code_1(start_service: StartService) -> None:
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        port = occupant.getsockname()[1]
        service = start_service(
            ["-m", "healthz"], base_env(PORT=str(port), HEALTHZ_BIND_ADDRESS="127.0.0.1")
        )
        assert service.wait_exit(timeout=15) == 1
    service.stop()
    assert service.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use")


def test_sigterm_under_load_loses_no_request_sent_before_the_signal(
    start_service: StartService,
) -> None:
    service, port = _start(
        start_service, HEALTHZ_DEBUG_ROUTES="1", HEALTHZ_DRAIN_TIMEOUT_SECONDS="10"
    )
    load = LoadClients(
        port, ["/health"] * 6 + ["/debug/sleep?seconds=1"] * 2 + ["/ready"], timeout=15
    )
    load.start()
    wait_until(lambda: len(load.snapshot()) >= 200, timeout=20, what="200 requests under load")

    signalled_at = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    exit_code = service.wait_exit(timeout=15)
    exited_after = time.monotonic() - signalled_at
    load.stop(timeout=20)

    records = load.snapshot()
    before = [r for r in records if r.sent < signalled_at]
    after = [r for r in records if r.started > signalled_at]
    # /ready answering 503 once draining is the point, not a failure.
    failed_before = [
        r for r in before if r.status not in ((200, 503) if r.path == "/ready" else (200,))
    ]
    assert failed_before == [], failed_before[:5]
    # Requests that were mid-sleep when the signal came were finished, not cut.
    assert any(r.path.startswith("/debug/sleep") and r.sent + 0.5 > signalled_at for r in before)
    # While draining, readiness says so and responses ask keep-alive clients to go away.
    assert any(r.path == "/ready" and r.status == 503 for r in after), after[-10:]
    assert any(r.connection == "close" for r in after)
    assert exit_code == 0
    assert exited_after < 10 + 3  # the drain timeout, plus a loaded machine's slack
    assert not _accepts(port)
    assert '"msg": "stopped"' in service.stderr


@pytest.fixture
def short_timeout_url() -> Iterator[str]:
    """healthz under Granian in-process, with a 1 s header timeout so slowloris is quick."""
    state = DrainState()
    options = ServeOptions(
        port=free_tcp_port(),
        bind_address="127.0.0.1",
        drain_timeout_seconds=2,
        header_read_timeout_ms=1000,
    )
    with serving_in_thread(serve_until, HealthzApp(Settings(), state), state, options) as url:
        yield url


def _exchange(port: int, payload: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        return _read_response(sock)


def test_malformed_requests_get_4xx_and_the_server_keeps_serving(short_timeout_url: str) -> None:
    port = int(short_timeout_url.rsplit(":", 1)[1])
    oversized = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 64_000 + b"\r\n\r\n"
    garbage = b"\x00\x01\x02 not http at all\r\n\r\n"
    bad_method = b"BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    bad_version = b"GET /health HTTP/7.3\r\nHost: x\r\n\r\n"

    assert _exchange(port, oversized).startswith(b"HTTP/1.1 431 ")
    assert _exchange(port, garbage).startswith(b"HTTP/1.1 400 ")
    assert _exchange(port, bad_method).startswith(b"HTTP/1.1 405 ")
    assert _exchange(port, bad_version)[:12] in (b"HTTP/1.1 400", b"HTTP/1.1 505", b"")
    assert http_get(f"{short_timeout_url}/health").status == 200


def test_slowloris_is_cut_off_and_the_server_keeps_serving(short_timeout_url: str) -> None:
    port = int(short_timeout_url.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        cut_off = False
        # One header line every 200 ms, never finishing the request head.
        for _ in range(100):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                sock.settimeout(0.2)
                if sock.recv(1024) == b"":
                    cut_off = True
                    break
            except TimeoutError:
                continue
            except OSError:
                cut_off = True
                break
    held = time.monotonic() - started

    assert cut_off, "the server must close a connection whose headers never finish"
    assert held < 10  # header timeout 1 s, plus slack
    assert http_get(f"{short_timeout_url}/health").status == 200


def test_a_huge_body_is_refused_without_being_read(short_timeout_url: str) -> None:
    port = int(short_timeout_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        sock.sendall(b"a" * 65_536)
        answer = sock.recv(1024)
        # The rest of the gigabyte is not wanted: the server closes instead of reading it
        # (a server that merely stopped reading would end in a timeout, not these).
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(10_000):
                sock.sendall(b"a" * 65_536)

    assert answer.startswith(b"HTTP/1.1 405 ")
    assert http_get(f"{short_timeout_url}/health").status == 200
