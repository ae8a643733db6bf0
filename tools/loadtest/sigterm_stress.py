"""`make sigterm-stress`: SIGTERM healthz many times under keep-alive load; count exit codes.

Every stop must end with exit code 0 (a clean drain) or -15 (SIGTERM before the handler was
installed). Anything else is what kubelet records as a crashed container. This found the
abort at interpreter exit that ``servicekit.serving.exit_process`` works around: with
granian 2.8.9, 1 of 30 stops ended with -6 before that change.

A stress run, not a test: the failure it looks for is rare (a few percent of stops), so a
short test would pass by luck; this runs N stops (default 60, ~1 min) on loopback and exits
1 when any stop ended otherwise.

    $ make sigterm-stress      # or: .venv/bin/python tools/loadtest/sigterm_stress.py --stops 100
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

CLEAN_EXIT_CODES = (0, -signal.SIGTERM)
CLIENT_THREADS = 4
REQUESTS_PER_CONNECTION = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hammer(port: int, stop: threading.Event) -> None:
    """Keep-alive GET /health until ``stop``; connection errors (the drain) are expected."""
    while not stop.is_set():
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            for _ in range(REQUESTS_PER_CONNECTION):
                connection.request("GET", "/health")
                connection.getresponse().read()
            connection.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)


def wait_listening(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.02)
    return False


def one_stop(rng: random.Random) -> tuple[int, str]:
    """Start healthz, load it, SIGTERM it after a random moment; its exit code and log tail."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "warning"}
    env["HEALTHZ_DRAIN_TIMEOUT_SECONDS"] = "3"
    process = subprocess.Popen(
        [sys.executable, "-m", "healthz"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    stop = threading.Event()
    clients = [threading.Thread(target=hammer, args=(port, stop)) for _ in range(CLIENT_THREADS)]
    try:
        if not wait_listening(port, time.monotonic() + 30):
            process.kill()
            return -1, "did not listen within 30 s"
        for client in clients:
            client.start()
        time.sleep(rng.choice((0.05, 0.2, 0.5)))
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        stop.set()
        for client in clients:
            if client.is_alive():
                client.join()
    return process.returncode, output.decode(errors="replace")[-600:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    codes: Counter[int] = Counter()
    for _ in range(args.stops):
        code, tail = one_stop(rng)
        codes[code] += 1
        if code not in CLEAN_EXIT_CODES:
            print(f"exit code {code}:\n{tail}", flush=True)
    bad = sum(n for code, n in codes.items() if code not in CLEAN_EXIT_CODES)
    summary = ", ".join(f"{code}: {n}" for code, n in sorted(codes.items()))
    print(f"sigterm-stress: {args.stops} stops under load; exit codes {summary}; unclean {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
