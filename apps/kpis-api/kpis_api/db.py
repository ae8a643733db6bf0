"""PostgreSQL access with every step bounded in time.

``Database`` wraps a psycopg_pool asyncio pool that is opened without waiting for PostgreSQL, so
the service starts (and ``/health`` answers) while the database is still down. Each
request is bounded by the pool wait (``pool_timeout_seconds``), each new connection by
``connect_timeout`` and each statement by the server-side ``statement_timeout``. Failures
surface as ``DatabaseUnavailable`` with a reason fit for a 503 body.

Example::

    database = Database(settings.database)
    await database.open()
    async with database.connection("summary") as conn:
        await conn.execute("SELECT 1")
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from kpis_api.config import DatabaseSettings
from kpis_api.errors import DatabaseUnavailable

logger = logging.getLogger("kpis_api.db")

# After this long the pool abandons a failing reconnection loop; the next request starts a
# fresh attempt at once. Short, so a database that comes back is used within seconds
# rather than after the pool's exponential backoff has grown to minutes.
_RECONNECT_GIVE_UP_SECONDS = 5.0

ErrorCounter = Callable[[str], None]


def _ignore_error(operation: str) -> None:
    """Default error counter for callers that do not export metrics."""


def connection_kwargs(settings: DatabaseSettings) -> dict[str, Any]:
    """libpq connection parameters, including the per-session timeouts and UTC."""
    return {
        "host": settings.host,
        "port": settings.port,
        "dbname": settings.dbname,
        "user": settings.user,
        "password": settings.password,
        "sslmode": settings.sslmode,
        "connect_timeout": settings.connect_timeout_seconds,
        "application_name": "kpis-api",
        "options": f"-c statement_timeout={settings.statement_timeout_ms} -c TimeZone=UTC",
    }


def describe_target(settings: DatabaseSettings) -> str:
    """Where we connect, for error messages (never includes the password)."""
    return f"{settings.user}@{settings.host}:{settings.port}/{settings.dbname}"


def connect_once(settings: DatabaseSettings) -> psycopg.Connection[TupleRow]:
    """One direct connection for CLI commands (migrate, seed-demo)."""
    try:
        return psycopg.connect(**connection_kwargs(settings))
    except psycopg.OperationalError as error:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe_target(settings)}: {_first_line(error)}"
        ) from error


class Database:
    """A lazily connecting asyncio pool whose failures become ``DatabaseUnavailable``.

    No request waits for the pool longer than ``pool_timeout_seconds``, and at most
    ``pool_max_waiting`` requests wait at all: beyond that they fail at once. Either way
    the caller answers 503 with ``Retry-After`` instead of piling up behind a slow database.
    """

    def __init__(self, settings: DatabaseSettings, count_error: ErrorCounter = _ignore_error):
        self.settings = settings
        self._count_error = count_error
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]] = AsyncConnectionPool(
            kwargs={**connection_kwargs(settings), "autocommit": True},
            # min_size=0: nothing connects at startup, so a database that is down at boot
            # cannot delay or crash the process; connections are made on first use.
            min_size=0,
            max_size=settings.pool_max_size,
            timeout=settings.pool_timeout_seconds,
            max_waiting=settings.pool_max_waiting,
            reconnect_timeout=_RECONNECT_GIVE_UP_SECONDS,
            # A pooled connection may have died with a database restart; checking it on
            # checkout turns that into a fresh connection rather than a failed request.
            check=AsyncConnectionPool.check_connection,
            max_idle=60.0,
            name="kpis-api",
            open=False,
        )

    async def open(self) -> None:
        """Start the pool's workers without waiting for any connection."""
        await self._pool.open(wait=False)

    async def close(self, timeout_seconds: float = 5.0) -> None:
        """Close every connection; waits at most ``timeout_seconds`` for borrowed ones."""
        await self._pool.close(timeout=timeout_seconds)

    def stats(self) -> dict[str, int]:
        """The pool's counters (``pool_size``, ``pool_available``, ``requests_waiting``...)."""
        return dict(self._pool.get_stats())

    @asynccontextmanager
    async def connection(self, operation: str) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
        """Borrow a connection for ``operation``; any database failure is DatabaseUnavailable."""
        try:
            async with self._pool.connection() as conn:
                yield conn
        except TooManyRequests as error:
            self._count_error(operation)
            raise DatabaseUnavailable(
                f"database pool saturated: {self.settings.pool_max_waiting} requests already "
                "waiting"
            ) from error
        except PoolTimeout as error:
            self._count_error(operation)
            raise DatabaseUnavailable(
                f"no database connection to {describe_target(self.settings)} within "
                f"{self.settings.pool_timeout_seconds:g}s"
            ) from error
        except pg_errors.QueryCanceled as error:
            self._count_error(operation)
            raise DatabaseUnavailable(
                f"query timed out after {self.settings.statement_timeout_ms} ms"
            ) from error
        except pg_errors.UndefinedTable as error:
            self._count_error(operation)
            raise DatabaseUnavailable(
                f"database schema is missing ({_first_line(error)}); "
                "run `python -m kpis_api migrate`"
            ) from error
        except psycopg.Error as error:
            self._count_error(operation)
            raise DatabaseUnavailable(f"database error: {_first_line(error)}") from error

    async def ping(self, observe_query: Callable[[str, float], None]) -> None:
        """One ``SELECT 1`` round trip; raises DatabaseUnavailable when it fails."""
        started = time.perf_counter()
        async with self.connection("ready_ping") as conn:
            await (await conn.execute("SELECT 1")).fetchone()
        observe_query("ready_ping", time.perf_counter() - started)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
