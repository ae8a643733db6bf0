"""Serve an ASGI app with Granian (embedded, one process) and drain it on SIGTERM.

Why embedded Granian: the HTTP/1.1 parsing, keep-alive, header limits and the slow-client
timeout live in Granian's Rust core (measured ~3.5x the requests/s of uvicorn+httptools on
one core, see the app README), while the app, its metrics and the drain logic stay in this
one Python process: readiness can flip to 503 the moment SIGTERM arrives, and Prometheus
counters need no multi-process mode.

Drain on SIGTERM/SIGINT, bounded by ``drain_timeout_seconds``:

1. ``DrainState.draining`` becomes true: ``/ready`` answers 503 and every response carries
   ``Connection: close``, so keep-alive clients (an Ingress's upstream pool) move away
   after their current request instead of racing a closing socket;
2. after ``linger_seconds`` the listener closes (new connections are refused) and idle
   connections are closed; in-flight requests run to completion;
3. the process exits once no request is in flight, or when the drain timeout runs out
   (the abandoned requests are logged).

Example::

    state = DrainState()
    exit_code = serve(app, state, ServeOptions(port=8080))

Both services (healthz, kpis-api) serve through this module; their images are built with
apps/ as the context so that each installs this package next to its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, NoReturn

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server.embed import Server

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)

# Capped by the kernel's net.core.somaxconn (4096 on current kernels): a burst of new
# connections waits in the accept queue instead of being dropped (the old server had 5).
DEFAULT_BACKLOG = 2048
# A client must send its complete request head within this time (slowloris protection).
DEFAULT_HEADER_READ_TIMEOUT_MS = 10_000
# Request line + headers larger than this get 431; our routes need a few hundred bytes.
DEFAULT_MAX_HEADER_BYTES = 16_384
DEFAULT_LINGER_SECONDS = 1.0
_STARTUP_TIMEOUT_SECONDS = 10.0


class DrainState:
    """Shared between the app and the runner: draining flag and in-flight request count."""

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to listen, and how long the drain may take."""

    port: int
    bind_address: str = "0.0.0.0"
    drain_timeout_seconds: float = 20.0
    linger_seconds: float = DEFAULT_LINGER_SECONDS
    backlog: int = DEFAULT_BACKLOG
    header_read_timeout_ms: int = DEFAULT_HEADER_READ_TIMEOUT_MS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES


@dataclass(frozen=True)
class ServeResult:
    """How serving ended: ``abandoned`` requests were still running at the drain timeout."""

    exit_code: int
    abandoned: int = 0


def _granian_log_config() -> dict[str, Any]:
    # Granian's records go through our root handler (JSON lines on stderr) instead of its
    # own plain-text stdout handlers.
    return {
        "handlers": {},
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": True},
        },
    }


def build_server(app: AsgiApp, options: ServeOptions) -> Server:
    """A Granian embedded server for ``app`` (nothing is bound until it serves)."""
    return Server(
        app,
        address=options.bind_address,
        port=options.port,
        interface=Interfaces.ASGINL,
        http=HTTPModes.http1,
        websockets=False,
        runtime_threads=1,
        backlog=options.backlog,
        http1_settings=HTTP1Settings(
            header_read_timeout=options.header_read_timeout_ms,
            keep_alive=True,
            max_buffer_size=options.max_header_bytes,
        ),
        log_enabled=True,
        log_level=LogLevels.warning,
        log_dictconfig=_granian_log_config(),
        log_access=False,
    )


async def _wait_listening(port: int, bind_address: str, serving: asyncio.Task[None]) -> bool:
    """True once a TCP connect succeeds; False if serving ended first (e.g. bind failed)."""
    host = "127.0.0.1" if bind_address in ("0.0.0.0", "") else bind_address
    if bind_address == "::":
        host = "::1"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT_SECONDS
    while loop.time() < deadline and not serving.done():
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


def check_port_free(bind_address: str, port: int) -> None:
    """Raise OSError now if the port cannot be bound (Granian would only log it)."""
    family = socket.AF_INET6 if ":" in bind_address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((bind_address, port))


Hook = Callable[[], Awaitable[None]]


async def _no_hook() -> None:
    """Default start/stop hook: nothing to open or close."""


async def serve_until(
    app: AsgiApp,
    state: DrainState,
    options: ServeOptions,
    stop: asyncio.Event,
    on_start: Hook = _no_hook,
    on_stop: Hook = _no_hook,
) -> ServeResult:
    """Serve until ``stop`` is set, then drain; see the module docstring.

    ``on_start`` runs before the listener opens (e.g. open a connection pool, without
    waiting for the database); ``on_stop`` after the last request finished, and not at all
    when the drain timed out (the process exits at once; peers see the sockets close).
    """
    await on_start()
    result = ServeResult(exit_code=1)
    try:
        result = await _serve_and_drain(app, state, options, stop)
        return result
    finally:
        if not result.abandoned:
            await on_stop()


async def _serve_and_drain(
    app: AsgiApp, state: DrainState, options: ServeOptions, stop: asyncio.Event
) -> ServeResult:
    server = build_server(app, options)
    serving = asyncio.create_task(server.serve())
    if not await _wait_listening(options.port, options.bind_address, serving):
        server.stop()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, timeout=2)
        logger.error("server did not start listening", extra={"port": options.port})
        return ServeResult(exit_code=1)
    logger.info("listening", extra={"address": options.bind_address, "port": options.port})
    stop_waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({stop_waiter, serving}, return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        stop_waiter.cancel()
        logger.error("server stopped unexpectedly")
        return ServeResult(exit_code=1)

    state.draining = True
    logger.info("draining", extra={"in_flight": state.in_flight})
    linger = min(options.linger_seconds, options.drain_timeout_seconds / 2)
    await asyncio.sleep(linger)
    server.stop()  # type: ignore[no-untyped-call]
    remaining = options.drain_timeout_seconds - linger
    try:
        await asyncio.wait_for(asyncio.shield(serving), timeout=remaining)
    except TimeoutError:
        logger.warning(
            "drain timeout reached; abandoning requests",
            extra={
                "abandoned": state.in_flight,
                "drain_timeout_seconds": options.drain_timeout_seconds,
            },
        )
        return ServeResult(exit_code=0, abandoned=max(state.in_flight, 1))
    logger.info("stopped")
    return ServeResult(exit_code=0)


def serve(
    app: AsgiApp,
    state: DrainState,
    options: ServeOptions,
    on_start: Hook = _no_hook,
    on_stop: Hook = _no_hook,
) -> NoReturn:
    """Run until SIGTERM/SIGINT in this (main) thread, then end the process with its exit
    code (see ``exit_process``: it never returns)."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _request_stop, stop, signum)
        result = await serve_until(app, state, options, stop, on_start, on_stop)
        if result.abandoned:
            logger.info("stopped")
            # The abandoned requests belong to Granian's runtime thread, and cancelling them
            # would only log tracebacks: leave now, within the drain timeout, logs flushed.
            exit_process(result.exit_code)
        return result.exit_code

    exit_process(asyncio.run(main()))


def exit_process(code: int) -> NoReturn:
    """Flush the logs and standard streams, then end the process without the interpreter's
    finalization.

    Why: Granian's Rust runtime threads outlive ``Server.serve()`` (the embedded server does
    not join them). When the interpreter finalizes while one of them still calls into
    Python, Rust panics in a function that cannot unwind and the process aborts: exit code
    -6 (134 in a container) after a clean drain. Measured with granian 2.8.9 (the newest
    release): 1 of 30 SIGTERMs under keep-alive load (tools/loadtest/sigterm_stress.py), and
    twice in full test runs. By the time we get here every request has finished (or was
    abandoned at the drain timeout) and the stop hook has closed the database pool, so
    there is nothing left that finalization would do for us.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    logger.info("stop requested", extra={"signal": signal.Signals(signum).name})
    stop.set()
