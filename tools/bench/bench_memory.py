"""Benchmark: peak memory of a cold `gitops check` on a large repository, GOGC=400 or Go's 100.

gitops runs kustomize with GOGC=400 (gitops.runner.GO_GC_PERCENT): Go collects less often,
which takes CPU off each build, and lets a build's heap grow further between collections. With
one kustomize process per env (gitops.batch) a large env's build holds much at once, so the
memory side of the trade shows on a large repository. This generates one (tools/bench/
generate_repo.py, N overlays over three envs) and runs `gitops check --no-cache` as a whole
process, alternating the default (GOGC=400) with GOGC=100 set in the environment (a caller's
value wins), median of N rounds. Printed per setting: wall seconds, the peak of the summed
resident memory of gitops and every process it started (sampled every 20 ms from /proc), and
the largest single kustomize process (its VmHWM). Linux only (/proc).

    $ .venv/bin/python tools/bench/bench_memory.py --overlays 600 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_repo import main as generate_main

SAMPLE_SECONDS = 0.02


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak summed RSS of the process tree, largest kustomize VmHWM), in KiB."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = 0
    peak_build = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_build
        while not done.is_set():
            tree = [process.pid]
            index = 0
            while index < len(tree):
                tree += _children(tree[index])
                index += 1
            peak_tree = max(peak_tree, sum(_status_kib(p, "VmRSS") for p in tree))
            for pid in tree[1:]:
                if _name(pid) in ("kubectl", "kustomize"):
                    peak_build = max(peak_build, _status_kib(pid, "VmHWM"))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}: {err.decode()[-500:]}")
    return seconds, peak_tree, peak_build


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlays", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gitops = str(Path(sys.executable).parent / "gitops")
    settings = {"GOGC=400 (default)": None, "GOGC=100 (Go's)": "100"}
    rows: dict[str, list[tuple[float, int, int]]] = {name: [] for name in settings}
    with tempfile.TemporaryDirectory(prefix="gitops-bench-memory-") as scratch:
        repo = Path(scratch) / "repo"
        generate_main([str(args.overlays), str(repo)])
        argv = [gitops, "check", "--repo", str(repo), "--no-cache", "--format", "json"]
        for _ in range(args.rounds):
            for name, gogc in settings.items():
                env = {k: v for k, v in os.environ.items() if k not in ("GOGC", "GOMEMLIMIT")}
                if gogc is not None:
                    env["GOGC"] = gogc
                rows[name].append(measure(argv, env))
    print(f"check --no-cache on {args.overlays} generated overlays, {args.rounds} rounds (median)")
    print(f"  {'setting':20} {'seconds':>8} {'peak tree MiB':>14} {'largest build MiB':>18}")
    for name, values in rows.items():
        seconds = statistics.median(v[0] for v in values)
        tree = statistics.median(v[1] for v in values) / 1024
        build = statistics.median(v[2] for v in values) / 1024
        print(f"  {name:20} {seconds:8.2f} {tree:14.0f} {build:18.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
