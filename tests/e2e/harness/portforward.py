"""``kubectl port-forward`` to a Service on a free local port, for probing /health from the
test process exactly as a person would (`kubectl port-forward service/healthz 8080:8080`).

The one long-lived subprocess of the harness, so it cannot use gitops.runner.run: it is
started with an argv list, waited for with a deadline, and always terminated on exit.

    >>> with port_forward(kubectl, env, "integration", "service/healthz", 8080) as port:
    ...     urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(?P<port>\d+) -> (?P<remote>\d+)")


def port_forward_argv(
    kubectl: str, namespace: str, target: str, remote_port: int
) -> tuple[str, ...]:
    # ":<remote>" lets kubectl pick a free local port; it prints which one.
    return (
        kubectl,
        "port-forward",
        "--namespace",
        namespace,
        "--address",
        "127.0.0.1",
        target,
        f":{remote_port}",
    )


def parse_local_port(line: str) -> int | None:
    """The local port from kubectl's ``Forwarding from 127.0.0.1:54321 -> 8080`` line."""
    match = _FORWARDING.search(line)
    return int(match.group("port")) if match else None


@contextmanager
def port_forward(
    kubectl: str,
    env: Mapping[str, str],
    namespace: str,
    target: str,
    remote_port: int,
    timeout: float = 30.0,
) -> Iterator[int]:
    argv = port_forward_argv(kubectl, namespace, target, remote_port)
    with forwarding(argv, env, target, timeout) as port:
        yield port


@contextmanager
def forwarding(
    argv: tuple[str, ...], env: Mapping[str, str], target: str, timeout: float = 30.0
) -> Iterator[int]:
    """Run a `kubectl port-forward` argv (any form, e.g. a runbook's verbatim ``8080:8080``)
    until the block ends; yields the local port kubectl reports."""
    process = subprocess.Popen(  # argv list, never a shell
        list(argv), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    found: list[int] = []
    seen: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line.rstrip())
            port = parse_local_port(line)
            if port is not None and not found:
                found.append(port)

    reader = threading.Thread(target=read, name="port-forward-reader", daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not found:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"kubectl port-forward {target} did not start within {timeout:g}s: "
                    + (" | ".join(seen[-5:]) or "no output")
                )
            time.sleep(0.1)
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
