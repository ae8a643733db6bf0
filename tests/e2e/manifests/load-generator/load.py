"""Keep healthz busy: THREADS workers GET TARGET_URL in a loop until the pod is stopped.

Each worker has one request in flight at a time (closed loop): the load on healthz's accept
queue is at most THREADS connections, however slow healthz gets at its CPU limit.

Every REPORT_SECONDS one JSON line goes to stdout with the totals since the start: answered
(HTTP 200), failed (no answer, a connection refused or reset, a timeout, any other status) and
the first few distinct failures. The rollout and graceful-shutdown tests read the last line
(`kubectl logs`) to count the requests a rollout or a pod deletion lost.
"""

import json
import os
import threading
import time
import urllib.error
import urllib.request

TARGET_URL = os.environ["TARGET_URL"]
THREADS = int(os.environ.get("THREADS", "1"))
REPORT_SECONDS = float(os.environ.get("REPORT_SECONDS", "1"))
KEPT_ERRORS = 5

lock = threading.Lock()
totals = {"ok": 0, "failed": 0}
errors: list[str] = []


def count(ok: bool, error: str = "") -> None:
    with lock:
        totals["ok" if ok else "failed"] += 1
        if not ok and len(errors) < KEPT_ERRORS and error not in errors:
            errors.append(error)


def hammer() -> None:
    while True:
        try:
            with urllib.request.urlopen(TARGET_URL, timeout=2) as response:
                response.read()
                count(response.status == 200, f"HTTP {response.status}")
        except urllib.error.HTTPError as error:
            count(False, f"HTTP {error.code}")
        except OSError as error:
            count(False, f"{type(error).__name__}: {error}")


def report() -> None:
    while True:
        time.sleep(REPORT_SECONDS)
        with lock:
            line = {"t": round(time.time(), 1), **totals, "errors": list(errors)}
        print(json.dumps(line), flush=True)


workers = [threading.Thread(target=hammer, daemon=True) for _ in range(THREADS)]
for worker in [*workers, threading.Thread(target=report, daemon=True)]:
    worker.start()
for worker in workers:
    worker.join()
