"""seed-demo: deterministic, repeatable, and limited to the demo customers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kpis_api.db import connect_once
from kpis_api.demo_data import DEMO_CUSTOMER_NAMES, DEMO_ORDER_COUNT, seed_demo
from kpis_api.kpis import compute_summary
from kpis_api.migrations import apply_migrations
from tests.apps.apps_testing import ServiceProcess, base_env
from tests.apps.kpis_dataset import NOW

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]

_ALL_ORDERS = "SELECT customer_id, status, amount_cents, created_at FROM orders ORDER BY 4, 1, 3"


def test_seeding_twice_leaves_the_same_rows_and_kpis(kpis_db_settings: Any) -> None:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        conn.execute(
            "INSERT INTO customers (name, email) VALUES ('Real Customer', 'real@example.org')"
        )

        first = seed_demo(conn, NOW)
        rows_after_first = conn.execute(_ALL_ORDERS).fetchall()
        kpis_after_first = compute_summary(conn, NOW)
        second = seed_demo(conn, NOW)
        rows_after_second = conn.execute(_ALL_ORDERS).fetchall()
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()

        assert first == second
        assert (first.customers, first.orders) == (len(DEMO_CUSTOMER_NAMES), DEMO_ORDER_COUNT)
        assert rows_after_first == rows_after_second
        assert len(rows_after_second) == DEMO_ORDER_COUNT
        assert compute_summary(conn, NOW) == kpis_after_first
        assert kpis_after_first.revenue_cents > 0
        # The non-demo customer survives both runs untouched.
        assert customers == (len(DEMO_CUSTOMER_NAMES) + 1,)


def test_seed_demo_command_requires_a_migrated_schema(
    kpis_db_settings: Any, start_service: StartService
) -> None:
    env = base_env(
        KPIS_PG_HOST=kpis_db_settings.host,
        KPIS_PG_PORT=str(kpis_db_settings.port),
        KPIS_PG_DB=kpis_db_settings.dbname,
        KPIS_PG_USER=kpis_db_settings.user,
        KPIS_PG_PASSWORD=kpis_db_settings.password,
    )

    unmigrated = start_service(["-m", "kpis_api", "seed-demo"], env)
    assert unmigrated.wait_exit(timeout=20) == 2
    unmigrated.stop()
    assert unmigrated.stderr == (
        "error: the schema does not exist yet: run `python -m kpis_api migrate`"
    )

    assert start_service(["-m", "kpis_api", "migrate"], env).wait_exit(timeout=20) == 0
    seeded = start_service(["-m", "kpis_api", "seed-demo"], env)
    assert seeded.wait_exit(timeout=20) == 0
    assert seeded.process.stdout is not None
    assert seeded.process.stdout.read() == (
        f"demo data: {len(DEMO_CUSTOMER_NAMES)} customers, {DEMO_ORDER_COUNT} orders\n"
    )
