"""Schema migrations against a real PostgreSQL: creation, idempotency, the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
import pytest

from kpis_api.db import connect_once
from kpis_api.migrations import MIGRATIONS, apply_migrations, current_schema_version
from tests.apps.apps_testing import ServiceProcess, base_env

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]


def _env_for(settings: Any) -> dict[str, str]:
    return base_env(
        KPIS_PG_HOST=settings.host,
        KPIS_PG_PORT=str(settings.port),
        KPIS_PG_DB=settings.dbname,
        KPIS_PG_USER=settings.user,
        KPIS_PG_PASSWORD=settings.password,
    )


def test_migrating_twice_applies_each_version_once(kpis_db_settings: Any) -> None:
    with connect_once(kpis_db_settings) as conn:
        assert current_schema_version(conn) == 0

        first = apply_migrations(conn)
        second = apply_migrations(conn)

        assert first == [m.version for m in MIGRATIONS]
        assert second == []
        assert current_schema_version(conn) == MIGRATIONS[-1].version
        ledger = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
        assert ledger == [(m.version, m.name) for m in MIGRATIONS]


def test_schema_has_the_documented_tables_constraints_and_indexes(kpis_db_settings: Any) -> None:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        indexes = {
            row[0]
            for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")
        }
        customer = conn.execute(
            "INSERT INTO customers (name, email) VALUES ('Ana', 'ana@example.com') RETURNING id"
        ).fetchone()
        assert customer is not None
        with pytest.raises(psycopg.errors.CheckViolation, match="orders_status_check"):
            conn.execute(
                "INSERT INTO orders (customer_id, status, amount_cents) VALUES (%s, 'lost', 1)",
                (customer[0],),
            )

    assert {
        "orders_created_at_idx",
        "orders_paid_created_at_idx",
        "orders_customer_id_idx",
    } <= indexes


def test_migrate_command_reports_what_it_did(
    kpis_db_settings: Any, start_service: StartService
) -> None:
    env = _env_for(kpis_db_settings)

    first = start_service(["-m", "kpis_api", "migrate"], env)
    assert first.wait_exit(timeout=20) == 0
    first_output = first.process.stdout.read() if first.process.stdout else ""
    second = start_service(["-m", "kpis_api", "migrate"], env)
    assert second.wait_exit(timeout=20) == 0
    second_output = second.process.stdout.read() if second.process.stdout else ""

    assert first_output == "applied migrations: 1 (schema version 1)\n"
    assert second_output == "schema up to date (version 1)\n"


def test_migrate_against_an_unreachable_database_exits_3(
    start_service: StartService, kpis_db_settings: Any
) -> None:
    env = _env_for(kpis_db_settings)
    env["KPIS_PG_PORT"] = "1"  # nothing listens on port 1

    service = start_service(["-m", "kpis_api", "migrate"], env)

    assert service.wait_exit(timeout=20) == 3
    service.stop()
    assert service.stderr.startswith(
        f"error: cannot connect to PostgreSQL at {kpis_db_settings.user}@"
        f"{kpis_db_settings.host}:1/{kpis_db_settings.dbname}:"
    )
    assert "Traceback" not in service.stderr
