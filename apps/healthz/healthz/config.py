"""Settings read from the environment, validated once at startup.

Example::

    settings = Settings.from_env({"PORT": "9000", "LOG_LEVEL": "debug"})
    assert settings.port == 9000
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from healthz.errors import ConfigError

LOG_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

DEFAULT_PORT = 8080
# Below Kubernetes' default terminationGracePeriodSeconds (30 s) so we exit on our own
# terms before the kubelet sends SIGKILL.
DEFAULT_DRAIN_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start, already validated."""

    port: int = DEFAULT_PORT
    log_level: int = logging.INFO
    drain_timeout_seconds: float = DEFAULT_DRAIN_TIMEOUT_SECONDS
    debug_routes: bool = False
    bind_address: str = "0.0.0.0"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``environ``; raise ConfigError naming every bad variable."""
        problems: list[str] = []
        port = _parse_port(environ.get("PORT", ""), problems)
        log_level = _parse_log_level(environ.get("LOG_LEVEL", ""), problems)
        drain_timeout = _parse_positive_seconds(
            "HEALTHZ_DRAIN_TIMEOUT_SECONDS",
            environ.get("HEALTHZ_DRAIN_TIMEOUT_SECONDS", ""),
            DEFAULT_DRAIN_TIMEOUT_SECONDS,
            problems,
        )
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(
            port=port,
            log_level=log_level,
            drain_timeout_seconds=drain_timeout,
            # Off unless explicitly enabled: /debug/sleep exists only so tests can hold a
            # request in flight while the process drains.
            debug_routes=environ.get("HEALTHZ_DEBUG_ROUTES", "") == "1",
            bind_address=environ.get("HEALTHZ_BIND_ADDRESS", "0.0.0.0") or "0.0.0.0",
        )


def _parse_port(raw: str, problems: list[str]) -> int:
    if raw == "":
        return DEFAULT_PORT
    if raw.isdigit() and 1 <= int(raw) <= 65535:
        return int(raw)
    problems.append(f"PORT must be an integer between 1 and 65535 (got {raw!r})")
    return DEFAULT_PORT


def _parse_log_level(raw: str, problems: list[str]) -> int:
    if raw == "":
        return logging.INFO
    level = LOG_LEVELS.get(raw.strip().lower())
    if level is None:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {raw!r})")
        return logging.INFO
    return level


def _parse_positive_seconds(name: str, raw: str, default: float, problems: list[str]) -> float:
    if raw == "":
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        problems.append(f"{name} must be a positive number of seconds (got {raw!r})")
        return default
    return seconds
