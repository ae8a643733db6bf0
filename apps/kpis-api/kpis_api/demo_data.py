"""Deterministic demo data for dashboards and local runs.

Demo rows are recognisable by the customers' e-mail domain (``demo.example.com``, a
reserved domain) and are the only rows this module touches. Seeding replaces the demo
customers' orders in one transaction, so running it again leaves the same data set rather
than doubling it. The orders are spread over the 45 days before the run, anchored to the
start of the current UTC hour: reruns within the same hour produce identical rows.

Example::

    result = seed_demo(conn, now=datetime.now(UTC))
    print(result.customers, result.orders)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import TupleRow

DEMO_EMAIL_DOMAIN = "demo.example.com"
DEMO_CUSTOMER_NAMES = (
    "Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov",
    "Donald Knuth", "Margaret Hamilton", "Ken Thompson", "Frances Allen", "John McCarthy",
    "Radia Perlman", "Leslie Lamport",
)  # fmt: skip
DEMO_ORDER_COUNT = 240
DEMO_SPREAD_DAYS = 45
# A fixed seed is what makes the demo deterministic; change it and every number changes.
_DEMO_RANDOM_SEED = 20250115
_STATUS_WEIGHTS = {"paid": 80, "refunded": 7, "pending": 13}


@dataclass(frozen=True)
class DemoSeedResult:
    """How many demo rows exist after seeding."""

    customers: int
    orders: int


def seed_demo(conn: psycopg.Connection[TupleRow], now: datetime) -> DemoSeedResult:
    """Replace the demo customers' orders with the deterministic demo set as of ``now``."""
    anchor = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(_DEMO_RANDOM_SEED)
    with conn.transaction():
        conn.execute(
            "DELETE FROM orders WHERE customer_id IN "
            "(SELECT id FROM customers WHERE email LIKE %s)",
            (f"%@{DEMO_EMAIL_DOMAIN}",),
        )
        customer_ids: list[int] = []
        for position, name in enumerate(DEMO_CUSTOMER_NAMES):
            email = f"{name.lower().replace(' ', '.')}@{DEMO_EMAIL_DOMAIN}"
            row = conn.execute(
                "INSERT INTO customers (name, email, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING id",
                (name, email, anchor - timedelta(days=90 - position)),
            ).fetchone()
            assert row is not None  # RETURNING on an upsert always yields the row
            customer_ids.append(int(row[0]))

        statuses = list(_STATUS_WEIGHTS)
        weights = list(_STATUS_WEIGHTS.values())
        orders = [
            (
                rng.choice(customer_ids),
                rng.choices(statuses, weights)[0],
                rng.randint(1_500, 25_000),
                anchor - timedelta(seconds=rng.randint(60, DEMO_SPREAD_DAYS * 86_400)),
            )
            for _ in range(DEMO_ORDER_COUNT)
        ]
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO orders (customer_id, status, amount_cents, created_at) "
                "VALUES (%s, %s, %s, %s)",
                orders,
            )
    return DemoSeedResult(customers=len(customer_ids), orders=len(orders))
