"""kpis-api as a real process against a real PostgreSQL, under load and database faults.

Bounded in time, loopback only. Time bounds are generous multiples of the configured
time-outs so a loaded 2-core CI machine passes; the latency targets live in `make loadtest`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from kpis_api.config import DatabaseSettings
from kpis_api.db import connect_once
from kpis_api.demo_data import seed_demo
from kpis_api.migrations import apply_migrations
from tests.apps.apps_testing import (
    HttpResponse,
    ServiceProcess,
    free_tcp_port,
    http_get,
    kpis_env_for,
    metric_value,
    wait_until,
)
from tests.apps.http_load import LoadClients
from tests.apps.kpis_dataset import load_dataset

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]

POOL_TIMEOUT_MS = 1000
# Every answer during a fault must come within this: the pool wait (1 s) or the statement
# time-out, plus a loaded machine's slack.
ANSWER_BOUND_SECONDS = 4.0


def _settings_from(env: Mapping[str, str]) -> DatabaseSettings:
    return DatabaseSettings(
        host=env["KPIS_PG_HOST"],
        port=int(env["KPIS_PG_PORT"]),
        dbname=env["KPIS_PG_DB"],
        user=env["KPIS_PG_USER"],
        password=env["KPIS_PG_PASSWORD"],
    )


def _start_kpis(start_service: StartService, env: dict[str, str]) -> tuple[ServiceProcess, int]:
    port = free_tcp_port()
    service = start_service(["-m", "kpis_api", "serve"], {**env, "PORT": str(port)})
    service.wait_for_log('"msg": "listening"')
    return service, port


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text("ascii").splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def _server_connections(settings: DatabaseSettings) -> int:
    """Connections kpis-api holds on the server, seen from PostgreSQL itself."""
    with connect_once(settings) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kpis-api' "
            "AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_postgres_stopped_and_restarted_under_load(
    start_service: StartService, dedicated_postgresql: Any
) -> None:
    env = kpis_env_for(
        dedicated_postgresql,
        KPIS_PG_POOL_TIMEOUT_MS=str(POOL_TIMEOUT_MS),
        KPIS_SUMMARY_CACHE_MS="0",  # every request goes to the database
        LOG_LEVEL="warning",
    )
    settings = _settings_from(env)
    with connect_once(settings) as conn:
        apply_migrations(conn)
        seed_demo(conn, now=time_now())
    port = free_tcp_port()
    service = start_service(["-m", "kpis_api", "serve"], {**env, "PORT": str(port)})
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _ok(f"{url}/ready"), timeout=15, what="kpis-api to be ready")
    load = LoadClients(port, ["/api/kpi/summary"] * 4 + ["/health", "/ready"], timeout=15)
    load.start()
    wait_until(lambda: len(load.snapshot()) >= 50, timeout=30, what="50 requests before the fault")

    dedicated_postgresql.stop()
    wait_until(lambda: not _postgres_answers(settings), timeout=10, what="PostgreSQL to be down")
    down_from = time.monotonic()
    time.sleep(3)
    down_until = time.monotonic()
    dedicated_postgresql.start()
    up_at = time.monotonic()
    wait_until(
        lambda: any(r.path == "/api/kpi/summary" and r.status == 200 and r.started > up_at
                    for r in load.snapshot()),
        timeout=20,
        interval=0.2,
        what="summary to answer 200 again after PostgreSQL came back",
    )  # fmt: skip
    time.sleep(1)
    load.stop(timeout=20)

    records = load.snapshot()
    # Written and answered while PostgreSQL was down (see http_load.Record): a request still
    # waiting for a connection when it came back may rightly get a 200.
    during = [r for r in records if down_from < r.started and r.sent + r.seconds < down_until]
    summary_during = [r for r in during if r.path == "/api/kpi/summary"]
    assert summary_during, "the load must have run while the database was down"
    assert {r.status for r in summary_during} == {503}
    assert max(r.seconds for r in during) < ANSWER_BOUND_SECONDS
    assert {r.status for r in during if r.path == "/ready"} == {503}
    assert {r.status for r in records if r.path == "/health"} == {200}
    assert all(r.status is not None for r in records), "no connection may be dropped"
    assert service.process.poll() is None, "recovery must not need a process restart"
    # No connection slot was lost: the pool holds at most its size on the server.
    assert _server_connections(settings) <= 4


def test_pool_exhaustion_by_a_slow_query_fails_fast_and_leaks_nothing(
    start_service: StartService, kpis_db_settings: Any, postgresql_proc: Any
) -> None:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        load_dataset(conn)
    env = kpis_env_for(
        postgresql_proc,
        dbname=kpis_db_settings.dbname,
        KPIS_PG_POOL_MAX_SIZE="2",
        KPIS_PG_POOL_TIMEOUT_MS="500",
        KPIS_PG_POOL_MAX_WAITING="4",
        KPIS_PG_STATEMENT_TIMEOUT_MS="1500",
        KPIS_SUMMARY_CACHE_MS="0",  # every request goes to the database
    )
    service, port = _start_kpis(start_service, env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(5):
        assert http_get(f"{url}/api/kpi/summary").status == 200
    threads_before = _threads(service.process.pid)
    connections_before = _server_connections(kpis_db_settings)

    # The "slow query": a lock that every KPI query has to wait for.
    with psycopg.connect(**_libpq(kpis_db_settings)) as locker:
        locker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        timed = _concurrent_gets(f"{url}/api/kpi/summary", count=16)
        health = http_get(f"{url}/health")
        locker.rollback()

    statuses = {response.status for _, response in timed}
    reasons = [response.json()["reason"] for _, response in timed]
    assert statuses == {503}
    assert all(response.headers["Retry-After"] == "2" for _, response in timed)
    assert max(seconds for seconds, _ in timed) < ANSWER_BOUND_SECONDS
    assert any("query timed out after 1500 ms" in reason for reason in reasons)
    assert any("within 0.5s" in reason for reason in reasons)
    assert any("pool saturated" in reason for reason in reasons)
    assert health.status == 200

    # Recovers by itself, and nothing leaked: same threads, no extra server connections.
    assert http_get(f"{url}/api/kpi/summary").status == 200
    assert _threads(service.process.pid) == threads_before
    assert _server_connections(kpis_db_settings) <= max(connections_before, 2)
    metrics = http_get(f"{url}/metrics").text
    assert metric_value(metrics, "kpis_db_errors_total", {"query": "summary"}) == 16
    # The pool's own view: nothing lent out or waiting once the burst is over.
    assert metric_value(metrics, "kpis_db_pool_max_connections") == 2
    assert metric_value(metrics, "kpis_db_pool_connections") <= 2
    assert metric_value(metrics, "kpis_db_pool_waiting_requests") == 0
    assert metric_value(metrics, "kpis_db_pool_idle_connections") == metric_value(
        metrics, "kpis_db_pool_connections"
    )


def test_sigterm_under_load_answers_every_request_sent_before_the_signal(
    start_service: StartService, kpis_db_settings: Any, postgresql_proc: Any
) -> None:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        load_dataset(conn)
    env = kpis_env_for(postgresql_proc, dbname=kpis_db_settings.dbname)
    service, port = _start_kpis(start_service, {**env, "KPIS_DRAIN_TIMEOUT_SECONDS": "10"})
    load = LoadClients(port, ["/api/kpi/summary"] * 6 + ["/ready"], timeout=15)
    load.start()
    wait_until(lambda: len(load.snapshot()) >= 100, timeout=30, what="100 requests under load")

    signalled_at = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    exit_code = service.wait_exit(timeout=15)
    load.stop(timeout=20)

    before = [r for r in load.snapshot() if r.sent < signalled_at]
    failed = [r for r in before if r.status not in ((200, 503) if r.path == "/ready" else (200,))]
    assert failed == [], failed[:5]
    assert exit_code == 0
    assert '"msg": "stopped"' in service.stderr


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _postgres_answers(settings: DatabaseSettings) -> bool:
    try:
        with psycopg.connect(**_libpq(settings), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _ok(url: str) -> bool:
    try:
        return http_get(url, timeout=2).status == 200
    except OSError:
        return False


def _libpq(settings: DatabaseSettings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "dbname": settings.dbname,
        "user": settings.user,
        "password": settings.password,
    }


def _concurrent_gets(url: str, count: int) -> list[tuple[float, HttpResponse]]:
    results: list[tuple[float, HttpResponse]] = []
    lock = threading.Lock()

    def one() -> None:
        started = time.monotonic()
        response = http_get(url, timeout=15)
        with lock:
            results.append((time.monotonic() - started, response))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == count
    return results
