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
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from kpis_api.app import KpisHTTPServer, KpisService
from kpis_api.config import LOG_LEVELS, DatabaseSettings, Settings, database_settings_from_env
from kpis_api.db import Database, connect_once
from kpis_api.demo_data import seed_demo
from kpis_api.errors import ConfigError, KpisError
from kpis_api.httpserver import DrainingHTTPServer
from kpis_api.logs import configure_logging
from kpis_api.metrics import KpisMetrics
from kpis_api.migrations import apply_migrations, current_schema_version

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
    metrics = KpisMetrics()
    database = Database(settings.database, count_error=metrics.count_query_error)
    try:
        server = KpisHTTPServer(
            (settings.bind_address, settings.port), KpisService(settings, database, metrics)
        )
    except OSError as error:
        print(
            f"error: cannot listen on {settings.bind_address}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    database.open()
    try:
        return _serve_until_signalled(server, settings.drain_timeout_seconds)
    finally:
        database.close()


def _serve_until_signalled(server: DrainingHTTPServer, drain_timeout_seconds: float) -> int:
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # serve_forever runs off the main thread because shutdown() blocks until the loop
    # exits, and signal handlers only ever run on the main thread.
    accept_loop = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="accept-loop"
    )
    accept_loop.start()
    logger.info("listening", extra={"address": server.server_name, "port": server.server_port})
    # Never wait without a timeout: the kernel may deliver SIGTERM to a worker thread, and
    # Python runs the handler on the main thread only when it next executes bytecode; an
    # untimed wait would keep it blocked, and the pod would sit out its whole grace period.
    while not stop_requested.wait(timeout=0.2):
        pass
    logger.info("draining", extra={"in_flight": server.in_flight_requests})
    abandoned = server.stop_gracefully(drain_timeout_seconds)
    accept_loop.join()
    if abandoned:
        logger.warning(
            "drain timeout reached; abandoning requests",
            extra={"abandoned": abandoned, "drain_timeout_seconds": drain_timeout_seconds},
        )
    logger.info("stopped")
    return 0
