"""A small known dataset with hand-computed KPIs, shared by the kpis-api tests.

"now" is 2025-01-15T10:00:00Z, so the 30-day window is [2024-12-16T10:00Z, now) and the
chart covers 2025-01-09 .. 2025-01-15. Each row sits on a boundary or exercises a rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

NOW = datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC)

CUSTOMERS = [
    (1, "Ana", "ana@example.com"),
    (2, "Bruno", "bruno@example.com"),
    (3, "Carla", "carla@example.com"),
    (4, "Dario", "dario@example.com"),
]

ORDERS = [
    # customer, status, amount_cents, created_at (UTC)
    (1, "paid", 10_000, "2025-01-15T09:00:00"),  # today, before now
    (1, "paid", 2_550, "2025-01-14T23:59:59"),  # last second of 01-14
    (2, "paid", 4_000, "2025-01-14T00:00:00"),  # first second of 01-14
    (2, "refunded", 3_000, "2025-01-12T12:00:00"),  # refund: no revenue, counts in the rate
    (3, "pending", 9_999, "2025-01-13T08:00:00"),  # pending: ignored everywhere
    (3, "paid", 1_001, "2025-01-09T00:00:00"),  # first chart day
    (3, "paid", 7_000, "2025-01-08T23:59:59"),  # in the window, before the chart
    (4, "paid", 50_000, "2024-12-16T09:59:59"),  # one second before the window
    (4, "refunded", 800, "2024-12-16T10:00:00"),  # exactly the window start: included
    (1, "paid", 20_000, "2025-01-15T10:00:00"),  # exactly now: excluded (half-open)
]

# Paid in window: 10_000 + 2_550 + 4_000 + 1_001 + 7_000 = 24_551 over 5 orders.
EXPECTED_SUMMARY: dict[str, Any] = {
    "window": {"days": 30, "start": "2024-12-16T10:00:00Z", "end": "2025-01-15T10:00:00Z"},
    "revenue_cents": 24_551,
    "paid_orders": 5,
    "average_order_value_cents": 4_910,  # 24_551 / 5 = 4_910.2
    "active_customers": 3,  # Ana, Bruno, Carla; Dario only has a refund in the window
    "refunded_orders": 2,
    "refund_rate": 0.2857,  # 2 / (5 + 2)
    "daily_revenue": [
        {"date": "2025-01-09", "revenue_cents": 1_001, "paid_orders": 1},
        {"date": "2025-01-10", "revenue_cents": 0, "paid_orders": 0},
        {"date": "2025-01-11", "revenue_cents": 0, "paid_orders": 0},
        {"date": "2025-01-12", "revenue_cents": 0, "paid_orders": 0},
        {"date": "2025-01-13", "revenue_cents": 0, "paid_orders": 0},
        {"date": "2025-01-14", "revenue_cents": 6_550, "paid_orders": 2},
        {"date": "2025-01-15", "revenue_cents": 10_000, "paid_orders": 1},
    ],
}


def load_dataset(conn: psycopg.Connection[Any]) -> None:
    """Insert the customers and orders above into a migrated database."""
    with conn.transaction():
        for customer_id, name, email in CUSTOMERS:
            conn.execute(
                "INSERT INTO customers (id, name, email, created_at) "
                "VALUES (%s, %s, %s, '2024-01-01T00:00:00Z')",
                (customer_id, name, email),
            )
        for customer_id, status, amount_cents, created_at in ORDERS:
            conn.execute(
                "INSERT INTO orders (customer_id, status, amount_cents, created_at) "
                "VALUES (%s, %s, %s, %s)",
                (customer_id, status, amount_cents, datetime.fromisoformat(created_at + "+00:00")),
            )
