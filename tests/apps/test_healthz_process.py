"""healthz as a real process: graceful SIGTERM drain, exit codes and startup errors."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence

import pytest

from tests.apps.apps_testing import (
    HttpResponse,
    ServiceProcess,
    base_env,
    free_tcp_port,
    http_get,
    wait_until,
)

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]


def _connection_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except ConnectionRefusedError:
        return True


def _start_healthz(start_service: StartService, **env: str) -> tuple[ServiceProcess, str]:
    port = free_tcp_port()
    service = start_service(["-m", "healthz"], base_env(PORT=str(port), **env))
    # Not the "listening" log line: at LOG_LEVEL=warning there is none.
    wait_until(lambda: not _connection_refused(port), timeout=10, what="healthz to listen")
    return service, f"http://127.0.0.1:{port}"


def test_sigterm_drains_in_flight_request_then_exits_zero(start_service: StartService) -> None:
    service, url = _start_healthz(start_service, HEALTHZ_DEBUG_ROUTES="1")
    port = int(url.rsplit(":", 1)[1])
    in_flight: list[HttpResponse] = []
    slow_request = threading.Thread(
        target=lambda: in_flight.append(http_get(f"{url}/debug/sleep?seconds=6", timeout=15))
    )
    slow_request.start()
    service.wait_for_log("debug sleep started")

    service.process.send_signal(signal.SIGTERM)

    # The listener closes while the slow request is still running (6 s: headroom for a loaded
    # CI machine, where the signal can take a moment to be handled)...
    wait_until(lambda: _connection_refused(port), timeout=5, what="listener to close")
    assert slow_request.is_alive(), "the drain must wait for the in-flight request"
    # ...and the process only exits once that request has been answered.
    assert service.wait_exit(timeout=15) == 0
    slow_request.join(timeout=5)
    assert [(r.status, r.json()) for r in in_flight] == [(200, {"slept_seconds": 6.0})]
    assert '"msg": "stopped"' in service.stderr


def test_drain_timeout_bounds_shutdown(start_service: StartService) -> None:
    service, url = _start_healthz(
        start_service, HEALTHZ_DEBUG_ROUTES="1", HEALTHZ_DRAIN_TIMEOUT_SECONDS="0.5"
    )

    def abandoned_request() -> None:
        # The process exits mid-request, so the connection is cut: that is the point.
        with contextlib.suppress(OSError):
            http_get(f"{url}/debug/sleep?seconds=20", timeout=30)

    threading.Thread(target=abandoned_request, daemon=True).start()
    service.wait_for_log("debug sleep started")

    service.process.send_signal(signal.SIGTERM)

    assert service.wait_exit(timeout=5) == 0
    abandoned = json.loads(service.wait_for_log("drain timeout reached"))
    assert abandoned["abandoned"] == 1


def test_access_logs_are_one_json_object_per_request(start_service: StartService) -> None:
    service, url = _start_healthz(start_service, LOG_LEVEL="info")
    http_get(f"{url}/health")
    access_line = service.wait_for_log('"msg": "GET /health 200"')

    entry = json.loads(access_line)
    assert entry["level"] == "info"
    assert entry["logger"] == "healthz.access"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/health", 200)
    assert entry["duration_ms"] >= 0
    assert entry["client"] == "127.0.0.1"
    # Every stderr line, Granian's own included, is one JSON object.
    for line in service.stderr.splitlines():
        assert isinstance(json.loads(line), dict), line


def test_access_logs_are_off_at_warning_level(start_service: StartService) -> None:
    service, url = _start_healthz(start_service, LOG_LEVEL="warning", HEALTHZ_DEBUG_ROUTES="1")
    http_get(f"{url}/health")
    http_get(f"{url}/debug/sleep?seconds=0")  # logs at info: a marker that must not appear

    assert "healthz.access" not in service.stderr
    assert "debug sleep started" not in service.stderr


def test_invalid_log_level_is_a_clear_error_with_exit_code_2(start_service: StartService) -> None:
    service = start_service(["-m", "healthz"], base_env(LOG_LEVEL="verbose"))

    assert service.wait_exit(timeout=10) == 2
    service.stop()
    assert service.stderr == (
        "error: LOG_LEVEL must be one of debug, info, warning, error (got 'verbose')"
    )


@pytest.mark.parametrize("signal_to_send", [signal.SIGTERM, signal.SIGINT])
def test_idle_server_stops_promptly_on_signal(
    start_service: StartService, signal_to_send: signal.Signals
) -> None:
    service, url = _start_healthz(start_service)
    assert http_get(f"{url}/health").status == 200

    service.process.send_signal(signal_to_send)

    assert service.wait_exit(timeout=10) == 0
