"""`make loadtest`: healthz and kpis-api under wrk, side by side with nginx and the old server.

A benchmark, not a test: bounded (4 connection levels x a few seconds per target), loopback
only, and it prints numbers and verdicts rather than failing a build. Each server is pinned
to CPU 0 and wrk to CPU 1, so "requests/s per core" is requests divided by the CPU seconds
the server process (all its threads, plus its child processes) spent during the run.

Targets (issue "production HTTP stack"): healthz /health at 64 connections >= 5x the old
implementation's requests/s (aim 10x), p99 < 20 ms, zero errors; kpis-api /api/kpi/summary
on the demo data set against a real PostgreSQL with p99 < 50 ms at 64 connections; both
with zero errors at 256 connections. nginx returning the same body is the ceiling.

The "previous implementation" is the apps/ tree of the commit before the stdlib servers were
removed, read with `git archive` (the index and work tree are not touched); without that
history (a shallow clone) its rows are skipped.

    $ make loadtest            # or: .venv/bin/python tools/loadtest/loadtest.py --duration 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from gitops.pglocal import LocalPostgres, free_port  # noqa: E402

LEVELS = (1, 16, 64, 256)
SERVER_CPU = 0
CLIENT_CPU = 1
HEALTH_BODY = '{"status": "healthy", "timestamp": "2025-01-15T10:00:00Z"}'
# Measured by the issue with wrk on this machine class (64 connections, 2 threads); the
# in-run measurement of the old server is the one the ratio uses when history is present.
ISSUE_OLD_HEALTHZ_RPS = 1752.0
OLD_SERVER_MARKER = "apps/healthz/healthz/server.py"


@dataclass(frozen=True)
class WrkResult:
    target: str
    connections: int
    requests: int
    seconds: float
    rps: float
    cpu_seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def rps_per_core(self) -> float:
        return self.requests / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str, target: str, connections: int, cpu_seconds: float) -> WrkResult:
    """The numbers of one `wrk --latency` run."""
    latency = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    if not (latency and p50 and p99 and total):
        raise ValueError(f"cannot parse wrk output:\n{output}")
    seconds = _to_ms(total.group(2) + total.group(3)) / 1000
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    requests = int(total.group(1))
    return WrkResult(
        target=target,
        connections=connections,
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        cpu_seconds=cpu_seconds,
        p50_ms=_to_ms(p50.group(1)),
        p99_ms=_to_ms(p99.group(1)),
        max_ms=_to_ms(latency.group(3)),
        errors=errors,
    )


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its direct children (nginx workers), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        this_pid, parent = int(stat_path.parent.name), int(fields[1])
        if this_pid == pid or parent == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _pin(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})

    return pin


def run_wrk(url: str, target: str, connections: int, duration: float, pid: int) -> WrkResult:
    threads = 1 if connections < 2 else 2
    before = cpu_seconds(pid)
    completed = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        preexec_fn=_pin(CLIENT_CPU),
        check=True,
    )
    return parse_wrk(completed.stdout, target, connections, cpu_seconds(pid) - before)


def wait_ok(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:g}s")


@contextlib.contextmanager
def process(
    argv: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            argv, env=env, stdout=sink, stderr=subprocess.STDOUT, preexec_fn=_pin(SERVER_CPU)
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def nginx_config(root: Path, port: int) -> Path:
    config = root / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=2048;
    location / {{
      default_type application/json;
      return 200 '{HEALTH_BODY}';
    }}
  }}
}}
""",
        encoding="ascii",
    )
    return config


def extract_previous_apps(dest: Path) -> str | None:
    """apps/ as of the commit before the stdlib servers were deleted; its hash, or None."""
    deleted_in = subprocess.run(
        ["git", "-C", str(REPO), "log", "--diff-filter=D", "-1", "--format=%H", "--",
         OLD_SERVER_MARKER],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if not deleted_in:
        return None
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", f"{deleted_in}^", "apps"],
        capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return f"{deleted_in[:12]}^"


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "HEALTHZ_"))}
    env.update(LOG_LEVEL="warning", **extra)
    return env


def measure(target: str, url: str, pid: int, duration: float) -> list[WrkResult]:
    wait_ok(url)
    results = []
    for connections in LEVELS:
        result = run_wrk(url, target, connections, duration, pid)
        results.append(result)
        print(
            f"  {target:<22} c={connections:<4} {result.rps:>9,.0f} req/s  "
            f"{result.rps_per_core:>9,.0f} /core  p50 {result.p50_ms:7.2f} ms  "
            f"p99 {result.p99_ms:8.2f} ms  max {result.max_ms:8.1f} ms  errors {result.errors}",
            flush=True,
        )
    return results


def measure_healthz(
    python: str, tmp: Path, previous: str | None, out: Path, duration: float
) -> list[WrkResult]:
    results: list[WrkResult] = []
    port = free_port()
    with process([python, "-m", "healthz"], base_env(PORT=str(port)),
                 out / "healthz.log") as proc:  # fmt: skip
        results += measure("healthz", f"http://127.0.0.1:{port}/health", proc.pid,
                           duration)  # fmt: skip
    if previous:
        port = free_port()
        env = base_env(PORT=str(port), PYTHONPATH=str(tmp / "previous/apps/healthz"))
        with process([python, "-m", "healthz"], env, out / "healthz-old.log") as proc:
            results += measure("healthz (previous)", f"http://127.0.0.1:{port}/health",
                               proc.pid, duration)  # fmt: skip

    return results


def measure_kpis(
    python: str, tmp: Path, previous: str | None, out: Path, duration: float
) -> list[WrkResult]:
    results: list[WrkResult] = []
    with LocalPostgres.create() as pg:
        settings = pg.settings()
        db_env = {
            "KPIS_PG_HOST": settings["host"],
            "KPIS_PG_PORT": settings["port"],
            "KPIS_PG_DB": settings["database"],
            "KPIS_PG_USER": settings["user"],
            "KPIS_PG_PASSWORD": settings["password"],
        }
        for command in ("migrate", "seed-demo"):
            subprocess.run([python, "-m", "kpis_api", command], env=base_env(**db_env),
                           check=True, capture_output=True)  # fmt: skip
        port = free_port()
        with process([python, "-m", "kpis_api", "serve"], base_env(PORT=str(port), **db_env),
                     out / "kpis-api.log") as proc:  # fmt: skip
            results += measure("kpis-api", f"http://127.0.0.1:{port}/api/kpi/summary",
                               proc.pid, duration)  # fmt: skip
        # The database path itself: every request runs the two KPI queries.
        port = free_port()
        env = base_env(PORT=str(port), KPIS_SUMMARY_CACHE_MS="0", **db_env)
        with process([python, "-m", "kpis_api", "serve"], env,
                     out / "kpis-api-nocache.log") as proc:  # fmt: skip
            results += measure("kpis-api (no cache)", f"http://127.0.0.1:{port}/api/kpi/summary",
                               proc.pid, duration)  # fmt: skip
        if previous:
            port = free_port()
            env = base_env(PORT=str(port), PYTHONPATH=str(tmp / "previous/apps/kpis-api"),
                           **db_env)  # fmt: skip
            with process([python, "-m", "kpis_api", "serve"], env,
                         out / "kpis-api-old.log") as proc:  # fmt: skip
                results += measure("kpis-api (previous)",
                                   f"http://127.0.0.1:{port}/api/kpi/summary", proc.pid,
                                   duration)  # fmt: skip
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "loadtest")
    parser.add_argument(
        "--only", choices=("all", "healthz", "kpis-api"), default="all", help="which services"
    )
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found: apt-get install wrk nginx-light", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    results: list[WrkResult] = []
    print(f"wrk on CPU {CLIENT_CPU}, each server on CPU {SERVER_CPU}; {args.duration:g}s per run")
    # Other work on the machine skews every number: say how busy it was.
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp_name:
        tmp = Path(tmp_name)
        previous = extract_previous_apps(tmp / "previous")
        print(f"previous implementation: {previous or 'not in this clone (skipped)'}")

        port = free_port()
        config = nginx_config(tmp, port)
        wanted = {args.only} if args.only != "all" else {"healthz", "kpis-api"}
        with process(["nginx", "-p", str(tmp), "-c", str(config), "-e", str(tmp / "error.log")],
                     base_env(), args.out / "nginx.log") as proc:  # fmt: skip
            results += measure("nginx static 200", f"http://127.0.0.1:{port}/", proc.pid,
                               args.duration)  # fmt: skip

        if "healthz" in wanted:
            results += measure_healthz(python, tmp, previous, args.out, args.duration)
        if "kpis-api" in wanted:
            results += measure_kpis(python, tmp, previous, args.out, args.duration)

    (args.out / "results.json").write_text(
        json.dumps([{**asdict(r), "rps_per_core": r.rps_per_core} for r in results], indent=2)
    )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print_summary(results)
    return 0


def _at(results: list[WrkResult], target: str, connections: int) -> WrkResult | None:
    return next((r for r in results if r.target == target and r.connections == connections), None)


def print_summary(results: list[WrkResult]) -> None:
    print("\nratios at each level (requests per CPU second):")
    for connections in LEVELS:
        nginx = _at(results, "nginx static 200", connections)
        parts = []
        for target in ("healthz", "healthz (previous)", "kpis-api", "kpis-api (no cache)",
                       "kpis-api (previous)"):  # fmt: skip
            result = _at(results, target, connections)
            if result and nginx and nginx.rps_per_core:
                parts.append(f"{target} {result.rps_per_core / nginx.rps_per_core:.2f}x nginx")
        new, old = _at(results, "healthz", connections), _at(results, "healthz (previous)",
                                                               connections)  # fmt: skip
        if new and old and old.rps_per_core:
            parts.append(f"healthz new/old {new.rps_per_core / old.rps_per_core:.1f}x")
        print(f"  c={connections:<4} " + "; ".join(parts))

    print("\ntargets:")
    healthz64 = _at(results, "healthz", 64)
    old64 = _at(results, "healthz (previous)", 64)
    baseline = old64.rps if old64 else ISSUE_OLD_HEALTHZ_RPS
    kpis64 = _at(results, "kpis-api", 64)
    checks = []
    if healthz64:
        # Judged per core: on a shared machine the wall-clock rate also measures how much
        # of CPU 0 the neighbours left us; CPU seconds spent by the server do not.
        per_core_old = old64.rps_per_core if old64 else 0.0
        ratio = healthz64.rps_per_core / per_core_old if per_core_old else healthz64.rps / baseline
        wall = healthz64.rps / baseline
        checks += [
            (
                f"healthz c=64 throughput {ratio:.1f}x the old server per core "
                f"({wall:.1f}x wall clock) (>= 5x, aim 10x)",
                ratio >= 5,
            ),
            (f"healthz c=64 p99 {healthz64.p99_ms:.2f} ms (< 20 ms)", healthz64.p99_ms < 20),
            (f"healthz c=64 errors {healthz64.errors} (0)", healthz64.errors == 0),
        ]
    if kpis64:
        checks.append((f"kpis-api c=64 p99 {kpis64.p99_ms:.2f} ms (< 50 ms)", kpis64.p99_ms < 50))
    for target in ("healthz", "kpis-api"):
        at256 = _at(results, target, 256)
        if at256:
            checks.append((f"{target} c=256 errors {at256.errors} (0)", at256.errors == 0))
    for text, ok in checks:
        print(f"  {'MET   ' if ok else 'MISSED'} {text}")


if __name__ == "__main__":
    raise SystemExit(main())
