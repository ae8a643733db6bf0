"""Errors healthz reports to the operator before it starts serving.

Example::

    raise ConfigError("PORT must be an integer between 1 and 65535 (got 'http')")
"""


class HealthzError(Exception):
    """Base class for every error healthz reports as ``error: ...`` and a non-zero exit."""

    exit_code = 1


class ConfigError(HealthzError):
    """The environment does not describe a runnable service (exit code 2)."""

    exit_code = 2
