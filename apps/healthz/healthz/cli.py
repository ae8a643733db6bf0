"""Process entry point: read settings, serve, drain on SIGTERM, exit.

Exit codes: 0 after a graceful stop, 1 when the port cannot be bound, 2 for a bad
environment (for example ``LOG_LEVEL=verbose``). Errors are one ``error: ...`` line on
stderr, never a traceback.

Example::

    $ PORT=9000 LOG_LEVEL=debug python -m healthz
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from healthz.config import Settings
from healthz.errors import HealthzError
from healthz.logs import configure_logging
from healthz.server import HealthzServer

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
        server = HealthzServer((settings.bind_address, settings.port), settings)
    except OSError as error:
        print(
            f"error: cannot listen on {settings.bind_address}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    return serve_until_signalled(server, settings.drain_timeout_seconds)


def serve_until_signalled(server: HealthzServer, drain_timeout_seconds: float) -> int:
    """Serve on a worker thread; on SIGTERM/SIGINT stop accepting and drain."""
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
