"""kpis-api configuration: defaults, normalisation and the startup error for missing variables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from kpis_api.config import Settings
from kpis_api.errors import ConfigError
from tests.apps.apps_testing import ServiceProcess, base_env

StartService = Callable[[Sequence[str], Mapping[str, str]], ServiceProcess]

COMPLETE_ENV = {
    "KPIS_PG_HOST": "db.internal",
    "KPIS_PG_DB": "analytics",
    "KPIS_PG_USER": "analytics",
    "KPIS_PG_PASSWORD": "s3cret",
}


def test_defaults_port_3001_pg_port_5432_and_no_base_path() -> None:
    settings = Settings.from_env(COMPLETE_ENV)

    assert (settings.port, settings.database.port, settings.base_path) == (3001, 5432, "")
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("/kpis", "/kpis"), ("/kpis/", "/kpis"), ("/", ""), ("", ""), ("/a/b/", "/a/b")],
)
def test_base_path_is_normalised(raw: str, normalised: str) -> None:
    assert Settings.from_env({**COMPLETE_ENV, "KPIS_BASE_PATH": raw}).base_path == normalised


def test_relative_base_path_is_rejected() -> None:
    with pytest.raises(ConfigError, match="KPIS_BASE_PATH must be an absolute URL path"):
        Settings.from_env({**COMPLETE_ENV, "KPIS_BASE_PATH": "kpis"})


def test_all_missing_variables_are_named_in_one_message() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"KPIS_PG_DB": "analytics", "KPIS_PG_USER": "analytics"})

    assert str(raised.value) == (
        "missing required environment variable(s): KPIS_PG_HOST, KPIS_PG_PASSWORD"
    )


def test_serve_without_a_database_host_exits_2_naming_it(start_service: StartService) -> None:
    env = base_env(**{k: v for k, v in COMPLETE_ENV.items() if k != "KPIS_PG_HOST"})

    service = start_service(["-m", "kpis_api", "serve"], env)

    assert service.wait_exit(timeout=10) == 2
    service.stop()
    assert service.stderr == "error: missing required environment variable(s): KPIS_PG_HOST"


def test_bad_port_values_are_reported(start_service: StartService) -> None:
    service = start_service(
        ["-m", "kpis_api", "serve"], base_env(**COMPLETE_ENV, PORT="0", KPIS_PG_PORT="x")
    )

    assert service.wait_exit(timeout=10) == 2
    service.stop()
    assert service.stderr == (
        "error: KPIS_PG_PORT must be an integer between 1 and 65535 (got 'x'); "
        "PORT must be an integer between 1 and 65535 (got '0')"
    )
