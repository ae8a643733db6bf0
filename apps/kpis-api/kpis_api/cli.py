"""Command line: ``migrate``, ``seed-demo`` and ``serve``.

The CLI only parses arguments, reads the environment and calls the library. Errors are one
``error: ...`` line on stderr (a traceback only with ``--debug``) and a documented exit code:

- 0: success (``serve``: stopped gracefully after SIGTERM/SIGINT);
- 1: unexpected failure, or the HTTP port cannot be bound;
- 2: bad usage or configuration, e.g. a missing ``KPIS_PG_*`` variable;
- 3: the database is unreachable or failed (``migrate`` and ``seed-demo``).

Example::

    $ python -m kpis_api migrate
    applied migrations: 1
    $ PORT=3001 python -m kpis_api serve
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from kpis_api.app import KpisApp, KpisService
from kpis_api.config import LOG_LEVELS, DatabaseSettings, Settings, database_settings_from_env
from kpis_api.db import Database, connect_once
from kpis_api.demo_data import seed_demo
from kpis_api.errors import ConfigError, KpisError
from kpis_api.metrics import KpisMetrics
from kpis_api.migrations import apply_migrations, current_schema_version
from servicekit.logs import configure_logging
from servicekit.serving import DrainState, ServeOptions, check_port_free, serve

logger = logging.getLogger("kpis_api")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpis_api",
        description="Business KPI API over PostgreSQL. Configuration comes from the "
        "environment (KPIS_PG_HOST, KPIS_PG_PORT, KPIS_PG_DB, KPIS_PG_USER, KPIS_PG_PASSWORD, "
        "PORT, LOG_LEVEL, KPIS_BASE_PATH).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="create or upgrade the schema (idempotent)")
    commands.add_parser("seed-demo", help="replace the demo customers' data (deterministic)")
    commands.add_parser("serve", help="serve the API and dashboard on $PORT (default 3001)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "migrate":
            return run_migrate()
        if args.command == "seed-demo":
            return run_seed_demo()
        return run_serve()
    except KpisError as error:
        if args.debug:
            logger.exception("command failed")
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def _configure_logging_from_env() -> None:
    raw = os.environ.get("LOG_LEVEL", "")
    level = LOG_LEVELS.get(raw.strip().lower() or "info")
    if level is None:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {raw!r})")
    configure_logging(level)


def _require_database_settings() -> DatabaseSettings:
    problems: list[str] = []
    database = database_settings_from_env(os.environ, problems)
    if problems or database is None:
        raise ConfigError("; ".join(problems))
    return database


def run_migrate() -> int:
    _configure_logging_from_env()
    with connect_once(_require_database_settings()) as conn:
        applied = apply_migrations(conn)
        version = current_schema_version(conn)
    if applied:
        print(f"applied migrations: {', '.join(map(str, applied))} (schema version {version})")
    else:
        print(f"schema up to date (version {version})")
    return 0


def run_seed_demo() -> int:
    _configure_logging_from_env()
    with connect_once(_require_database_settings()) as conn:
        if current_schema_version(conn) == 0:
            raise ConfigError("the schema does not exist yet: run `python -m kpis_api migrate`")
        result = seed_demo(conn, now=datetime.now(UTC))
    print(f"demo data: {result.customers} customers, {result.orders} orders")
    return 0


def run_serve() -> int:
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level)
    try:
        check_port_free(settings.bind_address, settings.port)
    except OSError as error:
        print(
            f"error: cannot listen on {settings.bind_address}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    metrics = KpisMetrics()
    database = Database(settings.database, count_error=metrics.count_query_error)
    metrics.watch_pool(database.stats)
    state = DrainState()
    app = KpisApp(KpisService(settings, database, metrics), state)
    options = ServeOptions(
        port=settings.port,
        bind_address=settings.bind_address,
        drain_timeout_seconds=settings.drain_timeout_seconds,
    )
    return serve(app, state, options, on_start=database.open, on_stop=database.close)
