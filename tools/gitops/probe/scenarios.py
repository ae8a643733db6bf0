"""Orchestration: start the containers, run startup, readiness and liveness, and the
database-down scenario."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops.config import RepoConfig
from gitops.discovery import discover_overlays
from gitops.errors import CommandError, ConfigError
from gitops.k8s import pod_spec_of, spec_containers
from gitops.kustomize import find_kustomize
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
from gitops.render import render_overlays, select_overlays
from gitops.runner import Command, Process, run, spawn

# --- orchestration ------------------------------------------------------------------------


@dataclass
class LocalContainer:
    name: str
    process: Process
    started: float  # monotonic time of spawn
    specs: dict[str, ProbeSpec]
    targets: dict[str, Target]


def probe_overlay(
    repo: Path,
    config: RepoConfig,
    env: str,
    service: str,
    secrets_file: str | None = None,
    speed: float = 1.0,
) -> ProbeResult:
    """Render ``overlays/<env>/<service>``, start its own-source containers, run the probes."""
    if speed <= 0:
        raise ConfigError("--speed must be positive")
    discovery = discover_overlays(repo, config)
    (overlay,) = select_overlays(discovery, config, env, service)
    (rendered,) = render_overlays(repo, [overlay], config, find_kustomize(config))
    if not rendered.ok or rendered.manifest is None:
        raise ProbeSetupError(f"{overlay.rel_path}: does not render: {rendered.error}")
    workloads = [
        doc
        for doc in yaml.safe_load_all(rendered.manifest)
        if isinstance(doc, dict) and doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet")
    ]
    candidates: list[tuple[str, dict[str, Any], AppSource]] = []
    for workload in workloads:
        for container in spec_containers(pod_spec_of(workload)):
            source = find_app_source(repo, str(container.get("image", "")))
            if source is not None:
                candidates.append((str(workload["metadata"]["name"]), container, source))
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
            postgres = LocalPostgres.create()
            settings = postgres.settings()
            secrets.setdefault(plan.secret, {}).update(
                {key: settings[field_name] for field_name, key in plan.keys.items()}
            )
            notes.append(
                f"Secret {plan.secret} filled from a throwaway PostgreSQL on 127.0.0.1:"
                f"{postgres.port}"
            )
        checks: list[ProbeCheck] = []
        timings: list[ContainerTiming] = []
        for workload_name, container, source in candidates:
            where = f"{overlay.rel_path} {workload_name}/{container.get('name')}"
            c_checks, c_timing = _probe_container(
                workload_name,
                container,
                source,
                secrets,
                plan,
                postgres,
                config,
                speed,
                workdir,
                where,
            )
            checks.extend(c_checks)
            if c_timing is not None:
                timings.append(c_timing)
        return ProbeResult(env, service, tuple(checks), tuple(timings), tuple(notes))
    finally:
        if postgres is not None:
            postgres.close()


def _probe_container(
    workload: str,
    container: dict[str, Any],
    source: AppSource,
    secrets: dict[str, dict[str, str]],
    plan: PostgresPlan | None,
    postgres: LocalPostgres | None,
    config: RepoConfig,
    speed: float,
    workdir: Path,
    where: str,
) -> tuple[list[ProbeCheck], ContainerTiming | None]:
    name = str(container.get("name"))
    container_ports = {
        str(p["name"]): int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("name") and p.get("containerPort")
    }
    numbers = {
        int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("containerPort")
    }
    env = container_env(container, secrets, where)
    entrypoint, args = container_argv(container, source)
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
    # One local port per declared container port; the app binds $PORT, so exactly one port is
    # served locally (the one PORT names, or the only declared one).
    local_ports: dict[int, int] = {}
    served = int(env.get("PORT", 0) or 0) or (min(numbers) if len(numbers) == 1 else 0)
    if served:
        local_ports[served] = free_port()
    targets: dict[str, Target] = {}
    for kind, spec in specs.items():
        try:
            targets[kind] = build_target(spec, container_ports, local_ports, config.minor_version)
        except ProbeSetupError as exc:
            checks.append(
                ProbeCheck(name, kind, "", False, f"{kind}Probe of container {name}: {exc}")
            )
    process_env = _base_env() | env
    if served:
        process_env["PORT"] = str(local_ports[served])
    if plan is not None:
        for step in plan.setup:
            _run_setup(entrypoint, step, process_env, workdir, where)
    log_path = workdir / f"{workload}-{name}.log"
    started = time.monotonic()
    process = spawn(Command((*entrypoint, *args), cwd=workdir, env=process_env), log_path)
    local = LocalContainer(name, process, started, specs, targets)
    try:
        timing = _measure_and_run(local, checks, speed)
        if postgres is not None and not any(not c.passed for c in checks):
            checks.extend(_database_down(local, postgres, speed))
    finally:
        code = process.stop(grace=10.0)
        if code not in (0, -15, None):
            checks.append(
                ProbeCheck(
                    name,
                    "shutdown",
                    "",
                    False,
                    f"container {name} exited {code} on SIGTERM (log: {process.log_tail()})",
                )
            )
    return checks, timing


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


def _measure_and_run(
    local: LocalContainer, checks: list[ProbeCheck], speed: float
) -> ContainerTiming | None:
    """Startup gates readiness and liveness, as in kubelet; a fast poller measures the real
    startup time next to the budget."""
    gate_kind = "startup" if "startup" in local.targets else "liveness"
    gate_spec = local.specs.get(gate_kind)
    measured: list[float] = []
    stop_polling = threading.Event()
    if gate_kind in local.targets:

        def poll() -> None:
            target = local.targets[gate_kind]
            while not stop_polling.is_set():
                ok, _ = target.attempt(0.5)
                if ok:
                    measured.append(time.monotonic() - local.started)
                    return
                if not local.process.alive():
                    return
                stop_polling.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
    else:
        poller = None
    startup_done_at = 0.0
    failed = False
    if "startup" in local.targets:
        attempts, passed = _run_gate(local, "startup", 0.0, speed)
        startup_done_at = attempts[-1].at if passed and attempts else 0.0
        checks.append(
            _gate_check(local, "startup", local.specs["startup"], attempts, passed, speed)
        )
        failed = not passed
    time_to_ready: float | None = None
    if not failed:
        results: dict[str, tuple[list[Attempt], bool]] = {}

        def observe(kind: str) -> None:
            results[kind] = _run_gate(local, kind, startup_done_at, speed)

        threads = [
            threading.Thread(target=observe, args=(kind,), daemon=True)
            for kind in ("readiness", "liveness")
            if kind in local.targets
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for kind in ("readiness", "liveness"):
            if kind in results:
                attempts, passed = results[kind]
                checks.append(_gate_check(local, kind, local.specs[kind], attempts, passed, speed))
                if kind == "readiness" and passed and attempts:
                    time_to_ready = attempts[-1].at
    if poller is not None:
        # Even when kubelet would already have given up, measure when the process would have
        # answered, so the report can set the real startup time next to the budget.
        poller.join(timeout=max(10.0, 2 * (gate_spec.budget if gate_spec else 0) / speed))
    stop_polling.set()
    if poller is not None:
        poller.join(timeout=5)
    if gate_spec is None:
        return None
    measured_startup = measured[0] if measured else None
    timing = ContainerTiming(local.name, measured_startup, gate_spec.budget, time_to_ready, speed)
    scaled_budget = gate_spec.budget / speed
    if measured_startup is not None and measured_startup > scaled_budget:
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
    checks: list[ProbeCheck] = []
    readiness = local.specs.get("readiness")
    liveness = local.specs.get("liveness")
    if readiness is None or liveness is None:
        return checks
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
    results: dict[str, list[Attempt]] = {}

    def observe(kind: str, spec: ProbeSpec) -> None:
        schedule = Schedule(spec, local.targets[kind], local.started, speed)
        results[kind] = schedule.run(
            start=base,
            deadline=base + window,
            done=lambda a: kind == "readiness" and consecutive(a, False) >= spec.failure_threshold,
        )

    threads = [
        threading.Thread(target=observe, args=(k, s), daemon=True)
        for k, s in (("readiness", readiness), ("liveness", liveness))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    r_attempts = results.get("readiness", [])
    went_unready = consecutive(r_attempts, False) >= readiness.failure_threshold
    checks.append(
        ProbeCheck(
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
            tuple(r_attempts),
        )
    )
    l_attempts = results.get("liveness", [])
    streak = _longest_failure_streak(l_attempts)
    live_ok = streak < liveness.failure_threshold and any(a.success for a in l_attempts)
    checks.append(
        ProbeCheck(
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
            tuple(l_attempts),
        )
    )
    postgres.start()
    base = time.monotonic() - local.started
    schedule = Schedule(readiness, local.targets["readiness"], local.started, speed)
    recovery = (readiness.success_threshold + readiness.failure_threshold) * readiness.period
    attempts = schedule.run(
        start=base,
        deadline=base + recovery / speed + readiness.timeout + 5,
        done=lambda a: consecutive(a, True) >= readiness.success_threshold,
    )
    recovered = consecutive(attempts, True) >= readiness.success_threshold and local.process.alive()
    checks.append(
        ProbeCheck(
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
    )
    return checks


def _longest_failure_streak(attempts: list[Attempt]) -> int:
    longest = current = 0
    for attempt in attempts:
        current = 0 if attempt.success else current + 1
        longest = max(longest, current)
    return longest
