"""KPI definitions and the SQL that computes them for a given "now".

"now" is a parameter, never read inside, so the numbers for a known dataset are
reproducible (tests pin it; the server passes the wall clock). The exact definitions are
documented in apps/kpis-api/README.md; in short, over the window [now - 30 days, now):

- revenue: sum of ``amount_cents`` of paid orders;
- paid orders: count of paid orders;
- average order value: revenue / paid orders, rounded half up to whole cents, None if no
  paid orders;
- active customers: distinct customers with at least one paid order;
- refund rate: refunded / (paid + refunded) orders, 4 decimals, None if both are zero;
- daily revenue: paid revenue per UTC calendar day for the 7 days ending with today
  (today counts up to ``now``), zero-filled.

Example::

    summary = compute_summary(conn, now=datetime(2025, 1, 15, 10, tzinfo=UTC))
    summary.to_json()["revenue_cents"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import TupleRow

WINDOW_DAYS = 30
DAILY_REVENUE_DAYS = 7

QueryObserver = Callable[[str, float], None]


def _ignore_query_timing(query: str, seconds: float) -> None:
    """Default observer for callers (CLI, tests) that do not export metrics."""


@dataclass(frozen=True)
class DailyRevenue:
    """Paid revenue of one UTC calendar day."""

    day: date
    revenue_cents: int
    paid_orders: int


@dataclass(frozen=True)
class KpiSummary:
    """Every KPI for one window; money is in cents (minor units of the shop's currency)."""

    window_start: datetime
    window_end: datetime
    revenue_cents: int
    paid_orders: int
    average_order_value_cents: int | None
    active_customers: int
    refunded_orders: int
    refund_rate: float | None
    daily_revenue: tuple[DailyRevenue, ...]

    def to_json(self) -> dict[str, Any]:
        """The shape served by ``GET /api/kpi/summary``."""
        return {
            "window": {
                "days": WINDOW_DAYS,
                "start": _iso_utc(self.window_start),
                "end": _iso_utc(self.window_end),
            },
            "revenue_cents": self.revenue_cents,
            "paid_orders": self.paid_orders,
            "average_order_value_cents": self.average_order_value_cents,
            "active_customers": self.active_customers,
            "refunded_orders": self.refunded_orders,
            "refund_rate": self.refund_rate,
            "daily_revenue": [
                {
                    "date": day.day.isoformat(),
                    "revenue_cents": day.revenue_cents,
                    "paid_orders": day.paid_orders,
                }
                for day in self.daily_revenue
            ],
        }


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_TOTALS_SQL = """
SELECT
    COALESCE(SUM(amount_cents) FILTER (WHERE status = 'paid'), 0)::bigint AS revenue_cents,
    COUNT(*) FILTER (WHERE status = 'paid')                                AS paid_orders,
    COUNT(DISTINCT customer_id) FILTER (WHERE status = 'paid')             AS active_customers,
    COUNT(*) FILTER (WHERE status = 'refunded')                            AS refunded_orders
FROM orders
WHERE created_at >= %(window_start)s AND created_at < %(window_end)s
"""

# generate_series provides the zero rows for days without sales; the session runs with
# TimeZone=UTC so "+ 1 day" means a UTC calendar day (no DST surprises).
_DAILY_REVENUE_SQL = """
SELECT
    day_start,
    COALESCE(SUM(o.amount_cents), 0)::bigint AS revenue_cents,
    COUNT(o.id)                              AS paid_orders
FROM generate_series(%(first_day)s::timestamptz, %(last_day)s::timestamptz, interval '1 day')
     AS day_start
LEFT JOIN orders AS o
       ON o.status = 'paid'
      AND o.created_at >= day_start
      AND o.created_at < day_start + interval '1 day'
      AND o.created_at < %(window_end)s
GROUP BY day_start
ORDER BY day_start
"""


@dataclass(frozen=True)
class _Window:
    """The instants and query parameters one summary is computed for."""

    start: datetime
    end: datetime
    first_day: datetime
    today_start: datetime

    @classmethod
    def ending(cls, now: datetime) -> _Window:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        window_end = now.astimezone(UTC)
        today_start = window_end.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            start=window_end - timedelta(days=WINDOW_DAYS),
            end=window_end,
            first_day=today_start - timedelta(days=DAILY_REVENUE_DAYS - 1),
            today_start=today_start,
        )

    @property
    def totals_params(self) -> dict[str, datetime]:
        return {"window_start": self.start, "window_end": self.end}

    @property
    def daily_params(self) -> dict[str, datetime]:
        return {"first_day": self.first_day, "last_day": self.today_start, "window_end": self.end}

    def summary(
        self, totals: tuple[Any, ...] | None, daily_rows: list[tuple[Any, ...]]
    ) -> KpiSummary:
        assert totals is not None  # an aggregate without GROUP BY always returns one row
        revenue_cents, paid_orders, active_customers, refunded_orders = (int(v) for v in totals)
        return KpiSummary(
            window_start=self.start,
            window_end=self.end,
            revenue_cents=revenue_cents,
            paid_orders=paid_orders,
            average_order_value_cents=_average_cents(revenue_cents, paid_orders),
            active_customers=active_customers,
            refunded_orders=refunded_orders,
            refund_rate=_refund_rate(paid_orders, refunded_orders),
            daily_revenue=tuple(
                DailyRevenue(
                    day=day_start.astimezone(UTC).date(),
                    revenue_cents=int(revenue),
                    paid_orders=int(count),
                )
                for day_start, revenue, count in daily_rows
            ),
        )


def compute_summary(
    conn: psycopg.Connection[TupleRow],
    now: datetime,
    observe_query: QueryObserver = _ignore_query_timing,
) -> KpiSummary:
    """Compute every KPI as of ``now`` (timezone-aware) using two queries."""
    window = _Window.ending(now)
    started = time.perf_counter()
    totals = conn.execute(_TOTALS_SQL, window.totals_params).fetchone()
    observe_query("summary_totals", time.perf_counter() - started)
    started = time.perf_counter()
    daily_rows = conn.execute(_DAILY_REVENUE_SQL, window.daily_params).fetchall()
    observe_query("daily_revenue", time.perf_counter() - started)
    return window.summary(totals, daily_rows)


async def compute_summary_async(
    conn: psycopg.AsyncConnection[TupleRow],
    now: datetime,
    observe_query: QueryObserver = _ignore_query_timing,
) -> KpiSummary:
    """``compute_summary`` on an asyncio connection (what the HTTP server uses)."""
    window = _Window.ending(now)
    started = time.perf_counter()
    totals = await (await conn.execute(_TOTALS_SQL, window.totals_params)).fetchone()
    observe_query("summary_totals", time.perf_counter() - started)
    started = time.perf_counter()
    daily_rows = await (await conn.execute(_DAILY_REVENUE_SQL, window.daily_params)).fetchall()
    observe_query("daily_revenue", time.perf_counter() - started)
    return window.summary(totals, daily_rows)


def _average_cents(revenue_cents: int, paid_orders: int) -> int | None:
    if paid_orders == 0:
        return None
    # Integer half-up rounding: money never goes through binary floating point.
    return (revenue_cents + paid_orders // 2) // paid_orders


def _refund_rate(paid_orders: int, refunded_orders: int) -> float | None:
    settled = paid_orders + refunded_orders
    if settled == 0:
        return None
    return round(refunded_orders / settled, 4)
