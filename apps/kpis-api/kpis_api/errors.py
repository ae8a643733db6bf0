"""Errors kpis_api reports as one ``error: ...`` line and a documented exit code.

Example::

    raise ConfigError("missing required environment variable(s): KPIS_PG_HOST")
"""


class KpisError(Exception):
    """Base class for every error the CLI reports; ``exit_code`` is the process status."""

    exit_code = 1


class ConfigError(KpisError):
    """The environment does not describe a runnable service (exit code 2)."""

    exit_code = 2


class DatabaseUnavailable(KpisError):
    """PostgreSQL could not be reached or did not answer in time (exit code 3)."""

    exit_code = 3
