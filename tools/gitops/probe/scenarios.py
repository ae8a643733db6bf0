"""Orchestration: start the containers, run startup, readiness and liveness, and the
database-down scenario."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from gitops.config import RepoConfig
from gitops.discovery import select_overlays
from gitops.errors import CommandError, ConfigError
from gitops.k8s import pod_spec_of, spec_containers
from gitops.model import Resource
from gitops.pglocal import LocalPostgres, free_port
from gitops.probe.container import (
    AppSource,
    PostgresPlan,
    container_argv,
    container_env,
    find_app_source,
    load_secret_source,
    postgres_plan,
)
from gitops.probe.results import ContainerTiming, ProbeCheck, ProbeResult, seconds_text
from gitops.probe.schedule import Schedule, consecutive
from gitops.probe.spec import PROBE_KINDS, Attempt, ProbeSetupError, ProbeSpec, Target, build_target
from gitops.runner import Command, Process, run, spawn
from gitops.workspace import Workspace

# --- orchestration ------------------------------------------------------------------------


_T = TypeVar("_T")


@dataclass
class LocalContainer:
    name: str
    process: Process
    started: float  # monotonic time of spawn
    specs: dict[str, ProbeSpec]
    targets: dict[str, Target]


@dataclass(frozen=True)
class _ProbeRun:
    """What every container of one overlay's probe run shares."""

    config: RepoConfig
    secrets: dict[str, dict[str, str]]
    plan: PostgresPlan | None
    postgres: LocalPostgres | None
    speed: float
    workdir: Path


def probe_overlay(
    workspace: Workspace,
    env: str,
    service: str,
    secrets_file: str | None = None,
    speed: float = 1.0,
) -> ProbeResult:
    """Render ``overlays/<env>/<service>``, start its own-source containers, run the probes."""
    if speed <= 0:
        raise ConfigError("--speed must be positive")
    repo, config = workspace.repo, workspace.config
    (overlay,) = select_overlays(workspace.layout(), config, env, service)
    (rendered,) = workspace.render([overlay])
    if not rendered.ok:
        raise ProbeSetupError(f"{overlay.rel_path}: does not render: {rendered.error}")
    candidates = _candidates(repo, rendered.resources)
    if not candidates:
        raise ProbeSetupError(
            f"{overlay.rel_path}: no container's image is built from apps/<name>/ in this repo"
        )
    secrets = load_secret_source(secrets_file)
    plan = postgres_plan(config, service)
    notes: list[str] = []
    postgres: LocalPostgres | None = None
    workdir = Path(tempfile.mkdtemp(prefix="gitops-probe-"))
    try:
        if plan is not None:
            postgres = _start_postgres(plan, secrets, notes)
        run_ = _ProbeRun(config, secrets, plan, postgres, speed, workdir)
        checks: list[ProbeCheck] = []
        timings: list[ContainerTiming] = []
        for workload_name, container, source in candidates:
            where = f"{overlay.rel_path} {workload_name}/{container.get('name')}"
            c_checks, c_timing = _probe_container(run_, workload_name, container, source, where)
            checks.extend(c_checks)
            if c_timing is not None:
                timings.append(c_timing)
        return ProbeResult(env, service, tuple(checks), tuple(timings), tuple(notes))
    finally:
        if postgres is not None:
            postgres.close()


def _candidates(
    repo: Path, resources: tuple[Resource, ...]
) -> list[tuple[str, dict[str, Any], AppSource]]:
    """(workload name, container, app source) of every container built from ``apps/``."""
    workloads = [r.body for r in resources if r.kind in ("Deployment", "StatefulSet", "DaemonSet")]
    candidates: list[tuple[str, dict[str, Any], AppSource]] = []
    for workload in workloads:
        for container in spec_containers(pod_spec_of(workload)):
            source = find_app_source(repo, str(container.get("image", "")))
            if source is not None:
                candidates.append((str(workload["metadata"]["name"]), container, source))
    return candidates


def _start_postgres(
    plan: PostgresPlan, secrets: dict[str, dict[str, str]], notes: list[str]
) -> LocalPostgres:
    """A throwaway PostgreSQL whose settings fill the Secret keys the plan names."""
    postgres = LocalPostgres.create()
    settings = postgres.settings()
    secrets.setdefault(plan.secret, {}).update(
        {key: settings[field_name] for field_name, key in plan.keys.items()}
    )
    notes.append(
        f"Secret {plan.secret} filled from a throwaway PostgreSQL on 127.0.0.1:{postgres.port}"
    )
    return postgres


def _parse_specs(
    name: str, container: dict[str, Any]
) -> tuple[dict[str, ProbeSpec], list[ProbeCheck]]:
    """The container's probe specs, and a failed check when readiness or liveness is missing."""
    specs = {
        kind: ProbeSpec.parse(kind, name, container[f"{kind}Probe"])
        for kind in PROBE_KINDS
        if isinstance(container.get(f"{kind}Probe"), dict)
    }
    checks: list[ProbeCheck] = []
    if "readiness" not in specs or "liveness" not in specs:
        missing = [k for k in ("readiness", "liveness") if k not in specs]
        checks.append(
            ProbeCheck(
                name,
                "/".join(missing),
                "",
                False,
                f"container {name} has no {' or '.join(missing)} probe",
            )
        )
    return specs, checks


def _served_port(container: dict[str, Any], env: dict[str, str]) -> int:
    """The container port the app serves: the one PORT names, or the only declared one (the app
    binds $PORT, so exactly one port is served locally); 0 when neither."""
    numbers = {
        int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("containerPort")
    }
    return int(env.get("PORT", 0) or 0) or (min(numbers) if len(numbers) == 1 else 0)


def _probe_container(
    run_: _ProbeRun, workload: str, container: dict[str, Any], source: AppSource, where: str
) -> tuple[list[ProbeCheck], ContainerTiming | None]:
    name = str(container.get("name"))
    container_ports = {
        str(p["name"]): int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("name") and p.get("containerPort")
    }
    env = container_env(container, run_.secrets, where)
    entrypoint, args = container_argv(container, source)
    specs, checks = _parse_specs(name, container)
    # One local port stands in for the served container port.
    served = _served_port(container, env)
    local_ports = {served: free_port()} if served else {}
    targets: dict[str, Target] = {}
    for kind, spec in specs.items():
        try:
            targets[kind] = build_target(
                spec, container_ports, local_ports, run_.config.minor_version
            )
        except ProbeSetupError as exc:
            checks.append(
                ProbeCheck(name, kind, "", False, f"{kind}Probe of container {name}: {exc}")
            )
    process_env = _base_env() | env
    if served:
        process_env["PORT"] = str(local_ports[served])
    if run_.plan is not None:
        for step in run_.plan.setup:
            _run_setup(entrypoint, step, process_env, run_.workdir, where)
    log_path = run_.workdir / f"{workload}-{name}.log"
    started = time.monotonic()
    process = spawn(Command((*entrypoint, *args), cwd=run_.workdir, env=process_env), log_path)
    local = LocalContainer(name, process, started, specs, targets)
    try:
        timing = _measure_and_run(local, checks, run_.speed)
        if run_.postgres is not None and not any(not c.passed for c in checks):
            checks.extend(_database_down(local, run_.postgres, run_.speed))
    finally:
        checks.extend(_stop(local))
    return checks, timing


TERMINATION_GRACE_SECONDS = 30.0


def _stop(local: LocalContainer) -> list[ProbeCheck]:
    """Stop the process as kubelet does (SIGTERM, then SIGKILL); a failed check when it does
    not exit cleanly. The grace is the API server's default terminationGracePeriodSeconds (30),
    which our Deployments keep: the apps drain for up to 20 s, and a loaded machine must not
    turn a slow but clean drain into a SIGKILL."""
    code = local.process.stop(grace=TERMINATION_GRACE_SECONDS)
    if code in (0, -15, None):
        return []
    return [
        ProbeCheck(
            local.name,
            "shutdown",
            "",
            False,
            f"container {local.name} exited {code} on SIGTERM (log: {local.process.log_tail()})",
        )
    ]


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run_setup(
    entrypoint: tuple[str, ...], step: tuple[str, ...], env: dict[str, str], cwd: Path, where: str
) -> None:
    """A setup step is the container's entrypoint with other args (e.g. ``migrate``)."""
    try:
        run(Command((*entrypoint, *step), cwd=cwd, env=env, timeout=120))
    except CommandError as exc:
        raise ProbeSetupError(f"{where}: setup step {' '.join(step)!r} failed: {exc}") from exc


class _StartupPoller:
    """Polls the gate probe's target quickly in the background to measure when the process
    really answers, next to the budget kubelet gives it."""

    def __init__(self, local: LocalContainer, kind: str) -> None:
        self.local = local
        self.target = local.targets.get(kind)
        self.measured: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.target is not None:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        assert self.target is not None
        while not self._stop.is_set():
            ok, _ = self.target.attempt(0.5)
            if ok:
                self.measured.append(time.monotonic() - self.local.started)
                return
            if not self.local.process.alive():
                return
            self._stop.wait(0.05)

    def finish(self, wait: float) -> float | None:
        """Wait up to ``wait`` seconds for an answer, then stop; the measured startup time."""
        if self._thread is not None:
            # Even when kubelet would already have given up, measure when the process would
            # have answered, so the report can set the real startup time next to the budget.
            self._thread.join(timeout=wait)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.measured[0] if self.measured else None


def _measure_and_run(
    local: LocalContainer, checks: list[ProbeCheck], speed: float
) -> ContainerTiming | None:
    """Startup gates readiness and liveness, as in kubelet; a fast poller measures the real
    startup time next to the budget."""
    gate_kind = "startup" if "startup" in local.targets else "liveness"
    gate_spec = local.specs.get(gate_kind)
    poller = _StartupPoller(local, gate_kind)
    startup_done_at = 0.0
    failed = False
    if "startup" in local.targets:
        attempts, passed = _run_gate(local, "startup", 0.0, speed)
        startup_done_at = attempts[-1].at if passed and attempts else 0.0
        checks.append(
            _gate_check(local, "startup", local.specs["startup"], attempts, passed, speed)
        )
        failed = not passed
    time_to_ready = None if failed else _run_after_startup(local, checks, startup_done_at, speed)
    measured_startup = poller.finish(max(10.0, 2 * (gate_spec.budget if gate_spec else 0) / speed))
    if gate_spec is None:
        return None
    timing = ContainerTiming(local.name, measured_startup, gate_spec.budget, time_to_ready, speed)
    if measured_startup is not None and measured_startup > gate_spec.budget / speed:
        checks.append(
            ProbeCheck(
                local.name,
                f"{gate_kind}-budget",
                local.targets[gate_kind].description,
                False,
                f"container {local.name} needs {measured_startup:.2f}s to answer its {gate_kind} "
                f"probe but the budget (initialDelay + failureThreshold x period) is "
                f"{seconds_text(gate_spec.budget, speed)}: kubelet would restart it before it "
                "is up",
            )
        )
    return timing


def _run_after_startup(
    local: LocalContainer, checks: list[ProbeCheck], startup_done_at: float, speed: float
) -> float | None:
    """Readiness and liveness, side by side once startup passed; when the pod became Ready."""
    results = _in_parallel(
        {
            kind: partial(_run_gate, local, kind, startup_done_at, speed)
            for kind in ("readiness", "liveness")
            if kind in local.targets
        }
    )
    time_to_ready: float | None = None
    for kind in ("readiness", "liveness"):
        if kind in results:
            attempts, passed = results[kind]
            checks.append(_gate_check(local, kind, local.specs[kind], attempts, passed, speed))
            if kind == "readiness" and passed and attempts:
                time_to_ready = attempts[-1].at
    return time_to_ready


def _in_parallel(jobs: dict[str, Callable[[], _T]]) -> dict[str, _T]:
    """Run each job on its own thread (probes of one container run concurrently in kubelet)
    and wait for all."""
    results: dict[str, _T] = {}

    def work(key: str) -> None:
        results[key] = jobs[key]()

    threads = [threading.Thread(target=work, args=(key,), daemon=True) for key in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _run_gate(
    local: LocalContainer, kind: str, not_before: float, speed: float
) -> tuple[list[Attempt], bool]:
    """One probe from its first run until kubelet would have decided: readiness is Ready after
    successThreshold successes in a row; startup and liveness pass on a success (the process
    answers) and fail after failureThreshold failures in a row (kubelet restarts it)."""
    spec = local.specs[kind]
    needed = spec.success_threshold if kind == "readiness" else 1
    schedule = Schedule(spec, local.targets[kind], local.started, speed)
    start = max(not_before, spec.initial_delay / speed)

    def decided(attempts: list[Attempt]) -> bool:
        if consecutive(attempts, True) >= needed:
            return True
        return kind != "readiness" and consecutive(attempts, False) >= spec.failure_threshold

    attempts = schedule.run(
        start=start, deadline=start + spec.budget / speed + spec.timeout, done=decided
    )
    return attempts, consecutive(attempts, True) >= needed


def _gate_check(
    local: LocalContainer,
    kind: str,
    spec: ProbeSpec,
    attempts: list[Attempt],
    passed: bool,
    speed: float,
) -> ProbeCheck:
    url = local.targets[kind].description
    if passed:
        last = attempts[-1]
        message = (
            f"{kind}Probe of container {local.name} passed at {last.at:.2f}s ({url}: {last.detail})"
        )
    elif not attempts:
        message = f"{kind}Probe of container {local.name} never ran ({url})"
    else:
        details = sorted({a.detail for a in attempts if not a.success})
        consequence = {
            "startup": "kubelet would kill and restart the container",
            "liveness": "kubelet would restart the container",
            "readiness": "the pod would never become Ready",
        }[kind]
        if not local.process.alive():
            details.append(
                f"process exited {local.process.popen.returncode}: {local.process.log_tail()}"
            )
        message = (
            f"{kind}Probe of container {local.name} failed {len(attempts)} time(s) within "
            f"{seconds_text(spec.budget, speed)} ({url}: {'; '.join(details)}): {consequence}"
        )
    return ProbeCheck(local.name, kind, url, passed, message, tuple(attempts))


def _database_down(
    local: LocalContainer, postgres: LocalPostgres, speed: float
) -> list[ProbeCheck]:
    """Stop the database: readiness must fail (pod out of the Service), liveness must keep
    passing (no restart storm); start it again: readiness must recover without a restart."""
    readiness = local.specs.get("readiness")
    liveness = local.specs.get("liveness")
    if readiness is None or liveness is None:
        return []
    base = time.monotonic() - local.started
    window = (
        max(
            readiness.failure_threshold * readiness.period,
            liveness.failure_threshold * liveness.period,
        )
        / speed
    )
    window += max(readiness.timeout, liveness.timeout)
    postgres.stop()

    def observe(kind: str, spec: ProbeSpec) -> list[Attempt]:
        schedule = Schedule(spec, local.targets[kind], local.started, speed)
        return schedule.run(
            start=base,
            deadline=base + window,
            done=lambda a: kind == "readiness" and consecutive(a, False) >= spec.failure_threshold,
        )

    results = _in_parallel(
        {
            "readiness": lambda: observe("readiness", readiness),
            "liveness": lambda: observe("liveness", liveness),
        }
    )
    checks = [
        _unready_check(local, readiness, results.get("readiness", []), window),
        _alive_check(local, liveness, results.get("liveness", [])),
    ]
    postgres.start()
    checks.append(_recovery_check(local, readiness, speed))
    return checks


def _unready_check(
    local: LocalContainer, readiness: ProbeSpec, attempts: list[Attempt], window: float
) -> ProbeCheck:
    went_unready = consecutive(attempts, False) >= readiness.failure_threshold
    return ProbeCheck(
        local.name,
        "readiness-db-down",
        local.targets["readiness"].description,
        went_unready,
        f"readinessProbe of container {local.name} "
        + (
            "went unready while the database was down"
            if went_unready
            else f"kept passing for {window:.1f}s while the database was down: "
            "traffic would keep reaching a pod that cannot answer"
        ),
        tuple(attempts),
    )


def _alive_check(local: LocalContainer, liveness: ProbeSpec, attempts: list[Attempt]) -> ProbeCheck:
    streak = _longest_failure_streak(attempts)
    live_ok = streak < liveness.failure_threshold and any(a.success for a in attempts)
    return ProbeCheck(
        local.name,
        "liveness-db-down",
        local.targets["liveness"].description,
        live_ok,
        f"livenessProbe of container {local.name} "
        + (
            "kept passing while the database was down"
            if live_ok
            else f"failed {streak} time(s) in a row while the database was down "
            f"({local.targets['liveness'].description}): kubelet would restart every pod on a "
            "database outage; liveness must check the process only"
        ),
        tuple(attempts),
    )


def _recovery_check(local: LocalContainer, readiness: ProbeSpec, speed: float) -> ProbeCheck:
    """After the database is back, readiness must pass again without a restart."""
    base = time.monotonic() - local.started
    schedule = Schedule(readiness, local.targets["readiness"], local.started, speed)
    recovery = (readiness.success_threshold + readiness.failure_threshold) * readiness.period
    attempts = schedule.run(
        start=base,
        deadline=base + recovery / speed + readiness.timeout + 5,
        done=lambda a: consecutive(a, True) >= readiness.success_threshold,
    )
    recovered = consecutive(attempts, True) >= readiness.success_threshold and local.process.alive()
    return ProbeCheck(
        local.name,
        "readiness-db-back",
        local.targets["readiness"].description,
        recovered,
        f"readinessProbe of container {local.name} "
        + (
            "passed again after the database came back, without a restart"
            if recovered
            else "did not recover after the database came back"
        ),
        tuple(attempts),
    )


def _longest_failure_streak(attempts: list[Attempt]) -> int:
    longest = current = 0
    for attempt in attempts:
        current = 0 if attempt.success else current + 1
        longest = max(longest, current)
    return longest
