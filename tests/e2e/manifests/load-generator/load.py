"""Keep healthz busy: THREADS workers GET TARGET_URL in a loop until the pod is stopped.

Each worker has one request in flight at a time (closed loop): the load on healthz's accept
queue is at most THREADS connections, however slow healthz gets at its CPU limit.
"""

import os
import threading
import urllib.request

TARGET_URL = os.environ["TARGET_URL"]
THREADS = int(os.environ.get("THREADS", "1"))


def hammer() -> None:
    while True:
        try:
            with urllib.request.urlopen(TARGET_URL, timeout=2) as response:
                response.read()
        except OSError:
            pass  # a pod going away mid-request is expected while the HPA scales


workers = [threading.Thread(target=hammer, daemon=True) for _ in range(THREADS)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
