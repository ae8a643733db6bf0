"""Fixtures for the healthz and kpis-api tests.

``postgresql_proc`` overrides pytest-postgresql's fixture of the same name: the plugin's
own factory expects a non-root user and a pg_ctl it can find by itself, while this one
takes the server that tests/prerequisites.py finds (PATH, Debian's /usr/lib/postgresql/*/bin,
Homebrew's postgresql@NN) and, under root (as in CI), runs it as the ``postgres`` user. The
plugin's ``postgresql`` fixture (a fresh database per test, cloned from the template created
here) then works unchanged on top of it. Without PostgreSQL the database tests follow the
prerequisites' one rule: skip with the install line, or fail under CI.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from tests.apps.apps_testing import (
    UNCHECKED_PASSWORD,
    ServiceProcess,
    make_postgres_executor,
    prepare_postgres_layout,
)
from tests.prerequisites import find_pg_bin_dir, require


@pytest.fixture
def start_service() -> Iterator[Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]]:
    """Factory fixture: start service processes; any still running are killed at teardown."""
    started: list[ServiceProcess] = []

    def start(argv: Sequence[str], env: Mapping[str, str]) -> ServiceProcess:
        service = ServiceProcess(argv, env)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture(scope="session")
def pg_ctl_path() -> str:
    require("postgresql")
    bin_dir = find_pg_bin_dir()
    assert bin_dir is not None  # require() returned: it is there
    return str(bin_dir / "pg_ctl")


@pytest.fixture(scope="session")
def postgresql_proc(pg_ctl_path: str) -> Iterator[Any]:
    """One PostgreSQL server for the session, with an empty template database."""
    from pytest_postgresql.janitor import DatabaseJanitor

    layout = prepare_postgres_layout(pg_ctl_path)
    executor = make_postgres_executor(layout)
    executor.start()
    try:
        template = DatabaseJanitor(
            user=executor.user,
            host=executor.host,
            port=executor.port,
            dbname=executor.template_dbname,
            maintenance_dbname=executor.maintenance_dbname,
            as_template=True,
            password=executor.password,
        )
        template.init()
        yield executor
    finally:
        executor.stop()
        shutil.rmtree(layout.workdir, ignore_errors=True)


@pytest.fixture
def dedicated_postgresql(pg_ctl_path: str) -> Iterator[Any]:
    """A PostgreSQL server of its own, for tests that stop and restart it."""
    from pytest_postgresql.janitor import DatabaseJanitor

    layout = prepare_postgres_layout(pg_ctl_path)
    executor = make_postgres_executor(layout)
    executor.start()
    try:
        DatabaseJanitor(
            user=executor.user,
            host=executor.host,
            port=executor.port,
            dbname=executor.dbname,
            maintenance_dbname=executor.maintenance_dbname,
            password=executor.password,
        ).init()
        yield executor
    finally:
        if executor.running():
            executor.stop()
        shutil.rmtree(layout.workdir, ignore_errors=True)


@pytest.fixture
def kpis_db_settings(postgresql: Any, postgresql_proc: Any) -> Any:
    """kpis-api DatabaseSettings for this test's fresh (unmigrated) database."""
    from kpis_api.config import DatabaseSettings

    return DatabaseSettings(
        host=str(postgresql_proc.host),
        port=int(postgresql_proc.port),
        dbname=str(postgresql.info.dbname),
        user=str(postgresql_proc.user),
        password=UNCHECKED_PASSWORD,
    )
