"""Helpers shared by the apps' tests (imported by the test modules and conftest).

- ``http_get``: GET that returns 4xx/5xx instead of raising, with a short timeout;
- ``ServiceProcess``: a real ``python -m <app>`` subprocess with its stderr captured;
- ``prepare_postgres_layout``/``make_postgres_executor``: a throwaway PostgreSQL cluster
  driven by pytest-postgresql's executor, run as ``postgres`` when the tests run as root
  (PostgreSQL refuses to start as root, and CI runs as root).

The module name is unique on purpose: test directories are not packages, so it must not
collide with another directory's helpers on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# With trust authentication the password is never checked, but kpis-api insists on one.
UNCHECKED_PASSWORD = "unused-with-trust-auth"


# ---------------------------------------------------------------------------- HTTP helpers


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def _headers(message: Any) -> dict[str, str]:
    # Header names are case-insensitive (Granian sends them lower-case): one spelling here.
    return {str(name).title(): str(value) for name, value in message.items()}


def http_get(url: str, timeout: float = 5.0) -> HttpResponse:
    """GET ``url``; 4xx/5xx are returned, not raised. Connection errors do raise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return HttpResponse(response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, _headers(error.headers), error.read())


def http_request(method: str, url: str, timeout: float = 5.0) -> HttpResponse:
    request = urllib.request.Request(url, method=method, data=b"" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResponse(response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, _headers(error.headers), error.read())


def free_tcp_port() -> int:
    """A port nothing listens on right now (the kernel picks it, so no collisions)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")


def metric_value(metrics_text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """Value of one sample in Prometheus text output; 0.0 if the series does not exist."""
    for line in metrics_text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        sample_labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if sample_labels == dict(labels or {}):
            return float(match.group(4))
    return 0.0


@contextlib.contextmanager
def serving_in_thread(
    serve_until: Callable[..., Any], app: Any, state: Any, options: Any
) -> Iterator[str]:
    """Run ``serve_until(app, state, options, stop)`` on a thread; yield its base URL.

    The app is the real one under the real server, in this process, so tests can pin its
    clock; leaving the block drains it like SIGTERM would.
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    outcome: list[Any] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        outcome.append(loop.run_until_complete(serve_until(app, state, options, stop)))

    thread = threading.Thread(target=run, name="asgi-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{options.port}"
    wait_until(lambda: _accepts(options.port) or not thread.is_alive(), timeout=10, what=url)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=options.drain_timeout_seconds + 5)
        loop.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------- subprocesses


class ServiceProcess:
    """A service started as ``python -m <module> ...`` whose stderr lines are collected."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr_lines: list[str] = []
        self._stderr_changed = threading.Condition()
        self._reader = threading.Thread(target=self._collect_stderr, daemon=True)
        self._reader.start()

    def _collect_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._stderr_changed:
                self._stderr_lines.append(line.rstrip("\n"))
                self._stderr_changed.notify_all()

    @property
    def stderr(self) -> str:
        with self._stderr_changed:
            return "\n".join(self._stderr_lines)

    def wait_for_log(self, fragment: str, timeout: float = 10.0) -> str:
        """Block until a stderr line contains ``fragment``; return that line."""
        deadline = time.monotonic() + timeout
        with self._stderr_changed:
            while True:
                for line in self._stderr_lines:
                    if fragment in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    pytest.fail(f"no log line containing {fragment!r}; stderr:\n{self.stderr}")
                self._stderr_changed.wait(remaining)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"process still running after {timeout}s; stderr:\n{self.stderr}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def base_env(**overrides: str) -> dict[str, str]:
    """The test process environment minus anything that would configure the services."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KPIS_", "HEALTHZ_")) and key not in {"PORT", "LOG_LEVEL"}
    }
    env.update(overrides)
    return env


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresLayout:
    """Where one throwaway cluster lives and which pg_ctl command drives it."""

    pg_ctl: str
    workdir: Path


def prepare_postgres_layout(real_pg_ctl: str) -> PostgresLayout:
    """A private directory for one cluster; as root, owned by and run as ``postgres``."""
    workdir = Path(tempfile.mkdtemp(prefix="kpis-tests-pg-"))
    if os.geteuid() != 0:
        return PostgresLayout(pg_ctl=real_pg_ctl, workdir=workdir)
    try:
        postgres_user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "tests run as root and PostgreSQL refuses to: create an unprivileged 'postgres' "
            "user (Debian's postgresql package does) or run the tests as a normal user"
        )
    os.chown(workdir, postgres_user.pw_uid, postgres_user.pw_gid)
    wrapper = workdir / "pg_ctl-as-postgres"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u postgres -- "{real_pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return PostgresLayout(pg_ctl=str(wrapper), workdir=workdir)


def make_postgres_executor(layout: PostgresLayout) -> Any:
    """A pytest-postgresql executor for ``layout`` on a free port (not started)."""
    from pytest_postgresql.executors import PostgreSQLExecutor

    return PostgreSQLExecutor(
        executable=layout.pg_ctl,
        host="127.0.0.1",
        port=free_tcp_port(),
        datadir=str(layout.workdir / "data"),
        unixsocketdir=str(layout.workdir),
        logfile=str(layout.workdir / "postgresql.log"),
        startparams="-w",
        dbname="tests",
        # Durability is irrelevant for a throwaway cluster; skipping fsync keeps it fast.
        postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    )


def kpis_env_for(executor: Any, dbname: str | None = None, **overrides: str) -> dict[str, str]:
    """Environment that points kpis-api at ``executor``'s database."""
    env = base_env(
        KPIS_PG_HOST=str(executor.host),
        KPIS_PG_PORT=str(executor.port),
        KPIS_PG_DB=dbname or str(executor.dbname),
        KPIS_PG_USER=str(executor.user),
        KPIS_PG_PASSWORD=UNCHECKED_PASSWORD,
    )
    env.update(overrides)
    return env
