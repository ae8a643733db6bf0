"""kpis-api as a real process: database outages, recovery without restart, SIGTERM."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kpis_api.db import connect_once
from kpis_api.migrations import apply_migrations
from tests.apps.apps_testing import (
    ServiceProcess,
    free_tcp_port,
    http_get,
    kpis_env_for,
    wait_until,
)

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]


# The spec's bound for answering while the database is down; the pool wait is set well
# below it so a loaded CI machine still has headroom.
ANSWER_BOUND_SECONDS = 3
POOL_WAIT_MS = "1000"


def _start_kpis(start_service: StartService, env: dict[str, str]) -> tuple[ServiceProcess, str]:
    port = free_tcp_port()
    service = start_service(
        ["-m", "kpis_api", "serve"],
        # No summary cache: these tests look at every request's own database round trip.
        {
            "KPIS_PG_POOL_TIMEOUT_MS": POOL_WAIT_MS,
            "KPIS_SUMMARY_CACHE_MS": "0",
            **env,
            "PORT": str(port),
        },
    )
    service.wait_for_log('"msg": "listening"')
    return service, f"http://127.0.0.1:{port}"


def _timed_get(url: str) -> tuple[float, Any]:
    started = time.monotonic()
    response = http_get(url, timeout=10)
    return time.monotonic() - started, response


def test_starts_and_stays_live_while_the_database_is_unreachable(
    start_service: StartService, postgresql_proc: Any
) -> None:
    env = kpis_env_for(postgresql_proc, KPIS_PG_PORT=str(free_tcp_port()))
    service, url = _start_kpis(start_service, env)

    health_seconds, health = _timed_get(f"{url}/health")
    ready_seconds, ready = _timed_get(f"{url}/ready")
    summary_seconds, summary = _timed_get(f"{url}/api/kpi/summary")

    assert (health.status, health.json()) == (200, {"status": "healthy"})
    assert health_seconds < ANSWER_BOUND_SECONDS
    assert ready.status == 503
    assert ready.json()["status"] == "unready"
    assert ready.json()["reason"].startswith("no database connection to ")
    assert ready_seconds < ANSWER_BOUND_SECONDS
    assert summary.status == 503
    assert summary.json()["error"] == "unavailable"
    assert summary.headers["Retry-After"] == "2"
    assert summary_seconds < ANSWER_BOUND_SECONDS
    assert service.process.poll() is None


def test_readiness_follows_the_database_down_and_back_up_without_restart(
    start_service: StartService, dedicated_postgresql: Any
) -> None:
    env = kpis_env_for(dedicated_postgresql)
    with connect_once(_settings_from(env)) as conn:
        apply_migrations(conn)
    service, url = _start_kpis(start_service, env)
    assert http_get(f"{url}/ready").status == 200
    assert http_get(f"{url}/api/kpi/summary").status == 200

    dedicated_postgresql.stop()
    ready_seconds, ready = _timed_get(f"{url}/ready")
    health_seconds, health = _timed_get(f"{url}/health")
    summary_seconds, summary = _timed_get(f"{url}/api/kpi/summary")

    assert ready.status == 503
    assert ready.json()["status"] == "unready"
    assert ready.json()["reason"]
    assert ready_seconds < ANSWER_BOUND_SECONDS
    assert health.status == 200
    assert health_seconds < ANSWER_BOUND_SECONDS
    assert summary.status == 503
    assert summary_seconds < ANSWER_BOUND_SECONDS

    dedicated_postgresql.start()
    wait_until(
        lambda: http_get(f"{url}/ready").status == 200,
        timeout=15,
        interval=0.25,
        what="/ready to recover after PostgreSQL restarted",
    )
    assert http_get(f"{url}/api/kpi/summary").status == 200
    assert service.process.poll() is None, "recovery must not need a process restart"


def test_sigterm_stops_the_server_with_exit_code_0(
    start_service: StartService, postgresql_proc: Any
) -> None:
    service, url = _start_kpis(start_service, kpis_env_for(postgresql_proc))
    assert http_get(f"{url}/health").status == 200

    service.process.send_signal(signal.SIGTERM)

    assert service.wait_exit(timeout=5) == 0
    assert '"msg": "stopped"' in service.stderr


def _settings_from(env: Mapping[str, str]) -> Any:
    from kpis_api.config import DatabaseSettings

    return DatabaseSettings(
        host=env["KPIS_PG_HOST"],
        port=int(env["KPIS_PG_PORT"]),
        dbname=env["KPIS_PG_DB"],
        user=env["KPIS_PG_USER"],
        password=env["KPIS_PG_PASSWORD"],
    )
