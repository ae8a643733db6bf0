"""Settings read from the environment, validated once at startup.

Every problem is collected before reporting, so an operator fixes the Secret once rather
than once per missing key.

Example::

    settings = Settings.from_env({
        "KPIS_PG_HOST": "db", "KPIS_PG_DB": "analytics",
        "KPIS_PG_USER": "analytics", "KPIS_PG_PASSWORD": "secret",
    })
    assert settings.database.port == 5432 and settings.port == 3001
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from kpis_api.errors import ConfigError

LOG_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

REQUIRED_DATABASE_VARIABLES = ("KPIS_PG_HOST", "KPIS_PG_DB", "KPIS_PG_USER", "KPIS_PG_PASSWORD")
DEFAULT_PORT = 3001
DEFAULT_PG_PORT = 5432


@dataclass(frozen=True)
class DatabaseSettings:
    """Where PostgreSQL is and how long any single database step may take.

    The three timeouts together bound every request: ``connect_timeout_seconds`` for a new
    connection, ``pool_timeout_seconds`` for waiting on the pool, and
    ``statement_timeout_ms`` for the query itself (enforced server-side).
    """

    host: str
    dbname: str
    user: str
    password: str = field(repr=False)
    port: int = DEFAULT_PG_PORT
    sslmode: str = "prefer"
    connect_timeout_seconds: int = 3
    pool_timeout_seconds: float = 2.0
    statement_timeout_ms: int = 5000
    pool_max_size: int = 4
    # Requests allowed to queue for a connection; more fail at once with 503. Above the
    # 256 concurrent connections `make loadtest` drives, which must queue, not fail.
    pool_max_waiting: int = 1024


@dataclass(frozen=True)
class Settings:
    """Everything ``serve`` needs, already validated."""

    database: DatabaseSettings
    port: int = DEFAULT_PORT
    log_level: int = logging.INFO
    base_path: str = ""
    drain_timeout_seconds: float = 20.0
    bind_address: str = "0.0.0.0"
    # How long one computed summary answers every request (0 = compute per request); see
    # KpisService.summary.
    summary_cache_seconds: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``environ``; raise ConfigError naming every bad variable."""
        problems: list[str] = []
        database = database_settings_from_env(environ, problems)
        port = _parse_int(environ, "PORT", DEFAULT_PORT, 1, 65535, problems)
        log_level = _parse_log_level(environ.get("LOG_LEVEL", ""), problems)
        base_path = _parse_base_path(environ.get("KPIS_BASE_PATH", ""), problems)
        drain_timeout = float(
            _parse_int(environ, "KPIS_DRAIN_TIMEOUT_SECONDS", 20, 1, 3600, problems)
        )
        cache_ms = _parse_int(environ, "KPIS_SUMMARY_CACHE_MS", 1000, 0, 60_000, problems)
        if problems or database is None:
            raise ConfigError("; ".join(problems))
        return cls(
            summary_cache_seconds=cache_ms / 1000,
            database=database,
            port=port,
            log_level=log_level,
            base_path=base_path,
            drain_timeout_seconds=drain_timeout,
            bind_address=environ.get("KPIS_BIND_ADDRESS", "") or "0.0.0.0",
        )


def database_settings_from_env(
    environ: Mapping[str, str], problems: list[str]
) -> DatabaseSettings | None:
    """Read the ``KPIS_PG_*`` variables; append to ``problems`` and return None if invalid."""
    missing = [name for name in REQUIRED_DATABASE_VARIABLES if not environ.get(name)]
    if missing:
        problems.append(f"missing required environment variable(s): {', '.join(missing)}")
    port = _parse_int(environ, "KPIS_PG_PORT", DEFAULT_PG_PORT, 1, 65535, problems)
    connect_timeout = _parse_int(environ, "KPIS_PG_CONNECT_TIMEOUT_SECONDS", 3, 1, 60, problems)
    statement_timeout = _parse_int(
        environ, "KPIS_PG_STATEMENT_TIMEOUT_MS", 5000, 100, 600_000, problems
    )
    pool_timeout_ms = _parse_int(environ, "KPIS_PG_POOL_TIMEOUT_MS", 2000, 50, 60_000, problems)
    pool_max_size = _parse_int(environ, "KPIS_PG_POOL_MAX_SIZE", 4, 1, 100, problems)
    pool_max_waiting = _parse_int(environ, "KPIS_PG_POOL_MAX_WAITING", 1024, 1, 100_000, problems)
    if missing or problems:
        return None
    return DatabaseSettings(
        host=environ["KPIS_PG_HOST"],
        dbname=environ["KPIS_PG_DB"],
        user=environ["KPIS_PG_USER"],
        password=environ["KPIS_PG_PASSWORD"],
        port=port,
        sslmode=environ.get("KPIS_PG_SSLMODE", "") or "prefer",
        connect_timeout_seconds=connect_timeout,
        pool_timeout_seconds=pool_timeout_ms / 1000,
        statement_timeout_ms=statement_timeout,
        pool_max_size=pool_max_size,
        pool_max_waiting=pool_max_waiting,
    )


def _parse_int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    minimum: int,
    maximum: int,
    problems: list[str],
) -> int:
    raw = environ.get(name, "")
    if raw == "":
        return default
    if raw.isdigit() and minimum <= int(raw) <= maximum:
        return int(raw)
    problems.append(f"{name} must be an integer between {minimum} and {maximum} (got {raw!r})")
    return default


def _parse_log_level(raw: str, problems: list[str]) -> int:
    if raw == "":
        return logging.INFO
    level = LOG_LEVELS.get(raw.strip().lower())
    if level is None:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {raw!r})")
        return logging.INFO
    return level


def _parse_base_path(raw: str, problems: list[str]) -> str:
    """Normalise ``/kpis/`` and ``/kpis`` to ``/kpis``; ``""`` and ``/`` mean no prefix."""
    stripped = raw.strip().rstrip("/")
    if stripped == "":
        return ""
    if not stripped.startswith("/") or any(c in stripped for c in "?#% \t"):
        problems.append(f"KPIS_BASE_PATH must be an absolute URL path like /kpis (got {raw!r})")
        return ""
    return stripped
