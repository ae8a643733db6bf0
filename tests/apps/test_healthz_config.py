"""healthz settings: defaults and the errors an operator sees for a bad environment."""

from __future__ import annotations

import logging

import pytest

from healthz.config import Settings
from healthz.errors import ConfigError


def test_defaults_serve_on_8080_at_info_with_debug_routes_off() -> None:
    settings = Settings.from_env({})

    assert (settings.port, settings.log_level, settings.debug_routes) == (8080, logging.INFO, False)


@pytest.mark.parametrize(
    ("raw", "level"),
    [("debug", logging.DEBUG), ("INFO", logging.INFO), ("warning", logging.WARNING),
     ("error", logging.ERROR)],
)  # fmt: skip
def test_log_level_names_are_case_insensitive(raw: str, level: int) -> None:
    assert Settings.from_env({"LOG_LEVEL": raw}).log_level == level


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"PORT": "http", "LOG_LEVEL": "verbose"})

    assert str(raised.value) == (
        "PORT must be an integer between 1 and 65535 (got 'http'); "
        "LOG_LEVEL must be one of debug, info, warning, error (got 'verbose')"
    )
    assert raised.value.exit_code == 2


def test_debug_routes_need_exactly_one() -> None:
    assert Settings.from_env({"HEALTHZ_DEBUG_ROUTES": "1"}).debug_routes is True
    assert Settings.from_env({"HEALTHZ_DEBUG_ROUTES": "true"}).debug_routes is False
