"""Process entry point: read settings, serve with Granian, drain on SIGTERM, exit.

Exit codes: 0 after a graceful stop, 1 when the port cannot be bound, 2 for a bad
environment (for example ``LOG_LEVEL=verbose``). Errors are one ``error: ...`` line on
stderr, never a traceback.

Example::

    $ PORT=9000 LOG_LEVEL=debug python -m healthz
"""

from __future__ import annotations

import logging
import os
import sys

from healthz.app import HealthzApp
from healthz.config import Settings
from healthz.errors import HealthzError
from servicekit.logs import configure_logging
from servicekit.serving import DrainState, ServeOptions, check_port_free, serve

logger = logging.getLogger("healthz")


def main() -> int:
    """Run the service until SIGTERM or SIGINT; return the process exit code."""
    try:
        settings = Settings.from_env(os.environ)
    except HealthzError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    configure_logging(settings.log_level)
    try:
        check_port_free(settings.bind_address, settings.port)
    except OSError as error:
        print(
            f"error: cannot listen on {settings.bind_address}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    state = DrainState()
    options = ServeOptions(
        port=settings.port,
        bind_address=settings.bind_address,
        drain_timeout_seconds=settings.drain_timeout_seconds,
    )
    return serve(HealthzApp(settings, state), state, options)
