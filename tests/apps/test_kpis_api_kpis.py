"""KPI numbers against a real PostgreSQL, for a known dataset and for an empty database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import psycopg
import pytest

from kpis_api.db import connect_once
from kpis_api.kpis import DailyRevenue, compute_summary
from kpis_api.migrations import apply_migrations
from tests.apps.kpis_dataset import EXPECTED_SUMMARY, NOW, load_dataset


@pytest.fixture
def migrated_conn(kpis_db_settings: Any) -> Iterator[psycopg.Connection[Any]]:
    with connect_once(kpis_db_settings) as conn:
        apply_migrations(conn)
        yield conn


def test_known_dataset_gives_hand_computed_kpis(migrated_conn: psycopg.Connection[Any]) -> None:
    load_dataset(migrated_conn)

    summary = compute_summary(migrated_conn, NOW)

    assert summary.to_json() == EXPECTED_SUMMARY


def test_empty_database_gives_zeros_nulls_and_seven_zero_days(
    migrated_conn: psycopg.Connection[Any],
) -> None:
    summary = compute_summary(migrated_conn, NOW)

    assert (summary.revenue_cents, summary.paid_orders, summary.active_customers) == (0, 0, 0)
    assert summary.refunded_orders == 0
    # No paid orders means no average and no rate: null, not a misleading 0.
    assert summary.average_order_value_cents is None
    assert summary.refund_rate is None
    assert summary.daily_revenue == tuple(
        DailyRevenue(day=date(2025, 1, day), revenue_cents=0, paid_orders=0) for day in range(9, 16)
    )


def test_now_in_another_timezone_means_the_same_utc_window(
    migrated_conn: psycopg.Connection[Any],
) -> None:
    load_dataset(migrated_conn)
    same_instant_in_madrid = datetime.fromisoformat("2025-01-15T11:00:00+01:00")

    summary = compute_summary(migrated_conn, same_instant_in_madrid)

    assert summary.to_json() == EXPECTED_SUMMARY


def test_naive_now_is_rejected(migrated_conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_summary(migrated_conn, datetime(2025, 1, 15, 10))


def test_query_durations_are_reported_by_name(migrated_conn: psycopg.Connection[Any]) -> None:
    observed: list[tuple[str, float]] = []

    compute_summary(migrated_conn, NOW, lambda name, seconds: observed.append((name, seconds)))

    assert [name for name, _ in observed] == ["summary_totals", "daily_revenue"]
    assert all(seconds >= 0 for _, seconds in observed)
