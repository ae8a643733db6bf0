"""``gitops probe``: run an overlay's rendered probes against the real processes, as kubelet would.

For one overlay, every container whose image is built from ``apps/<name>/`` is started locally
as a process: the Dockerfile's ENTRYPOINT/CMD (overridden by the container's ``command``/``args``)
with the Python of this environment, the rendered ``env`` (``$(VAR)`` expanded, Secret values from
a local source), and ``PORT`` moved to a free loopback port that stands in for the container port.
Then the startup, readiness and liveness probes run with kubelet's semantics
(pkg/kubelet/prober): handlers httpGet (path, port by name or number, scheme, headers, success =
200..399, timeoutSeconds) and tcpSocket; initialDelaySeconds, periodSeconds, failureThreshold and
successThreshold; the startup probe gates the other two.

Services configured with a ``postgres`` section in gitops.yaml (``probe.services.<service>``) get a
throwaway local PostgreSQL whose settings fill the Secret keys named there, set up by the
container's own commands (e.g. ``migrate``, ``seed-demo``), and a "database down" scenario:
readiness must go unready, liveness must keep passing, and readiness must come back.

    >>> result = probe_overlay(repo, config, "dev", "healthz")
    >>> [(p.kind, p.passed) for p in result.checks]
    [('startup', True), ('readiness', True), ('liveness', True)]

``speed`` divides every initialDelaySeconds and periodSeconds (never timeouts): tests run the real
schedule ten times faster; ``gitops probe`` uses kubelet's timing unless ``--speed`` is given.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops.config import RepoConfig
from gitops.discovery import Overlay, discover_overlays
from gitops.errors import CommandError, ConfigError, GitopsError, ToolNotFoundError
from gitops.k8s_math import probe_timings
from gitops.kustomize import find_kustomize
from gitops.model import image_name
from gitops.pglocal import LocalPostgres, free_port
from gitops.render import render_overlays, select_overlays
from gitops.runner import Command, Process, run, spawn

KUBELET_USER_AGENT = "kube-probe/{minor}"
PROBE_KINDS = ("startup", "readiness", "liveness")


class ProbeSetupError(GitopsError):
    """The overlay cannot be probed (no app source, missing Secret value, no PostgreSQL)."""


# --- probe specs and single attempts --------------------------------------------------------


@dataclass(frozen=True)
class ProbeSpec:
    kind: str  # startup | readiness | liveness
    container: str
    handler: str  # httpGet | tcpSocket | grpc | exec
    raw: dict[str, Any]
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @classmethod
    def parse(cls, kind: str, container: str, raw: dict[str, Any]) -> ProbeSpec:
        handlers = [h for h in ("httpGet", "tcpSocket", "grpc", "exec") if h in raw]
        values = probe_timings(raw)  # an explicit 0 means the API server's default
        return cls(
            kind=kind,
            container=container,
            handler=handlers[0] if len(handlers) == 1 else "invalid",
            raw=raw,
            initial_delay=float(values["initialDelaySeconds"]),
            period=float(values["periodSeconds"]),
            timeout=float(values["timeoutSeconds"]),
            success_threshold=int(values["successThreshold"]),
            failure_threshold=int(values["failureThreshold"]),
        )

    @property
    def budget(self) -> float:
        """Seconds until kubelet gives up: initialDelay + failureThreshold x period."""
        return self.initial_delay + self.failure_threshold * self.period


@dataclass(frozen=True)
class Attempt:
    at: float  # seconds since the process started
    success: bool
    detail: str  # "HTTP 200", "connection refused", "timeout after 1s"


def resolve_port(port: Any, container_ports: dict[str, int]) -> int:
    """A probe's port: a number, or a name the container must declare (else kubelet errors)."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    if port in container_ports:
        return container_ports[port]
    declared = ", ".join(sorted(container_ports)) or "none"
    raise ProbeSetupError(f"port {port!r} is not declared by the container (declared: {declared})")


@dataclass(frozen=True)
class Target:
    """Where one probe's requests go on this machine."""

    description: str  # "GET http://127.0.0.1:40123/health"
    attempt: Callable[[float], tuple[bool, str]]  # timeout -> (success, detail)


def build_target(
    spec: ProbeSpec, container_ports: dict[str, int], local_ports: dict[int, int], minor: int
) -> Target:
    """Translate a rendered probe into a callable; container ports map to local ports."""
    handler = spec.raw.get(spec.handler) if spec.handler in spec.raw else None
    if spec.handler == "httpGet" and isinstance(handler, dict):
        container_port = resolve_port(handler.get("port"), container_ports)
        port = local_ports.get(container_port, container_port)
        scheme = str(handler.get("scheme", "HTTP")).upper()
        path = str(handler.get("path") or "/")
        if not path.startswith("/"):
            path = "/" + path
        headers = {"User-Agent": KUBELET_USER_AGENT.format(minor=minor), "Accept": "*/*"}
        for header in handler.get("httpHeaders") or []:
            headers[str(header.get("name"))] = str(header.get("value", ""))
        url = f"{scheme.lower()}://127.0.0.1:{port}{path}"
        return Target(
            f"GET {url}", lambda timeout: _http_attempt(scheme, port, path, headers, timeout)
        )
    if spec.handler == "tcpSocket" and isinstance(handler, dict):
        container_port = resolve_port(handler.get("port"), container_ports)
        port = local_ports.get(container_port, container_port)
        return Target(f"TCP 127.0.0.1:{port}", lambda timeout: _tcp_attempt(port, timeout))
    if spec.handler in ("exec", "grpc"):
        raise ProbeSetupError(f"{spec.handler} probes cannot be executed outside the container")
    raise ProbeSetupError("the probe must have exactly one handler (httpGet, tcpSocket, ...)")


def _http_attempt(
    scheme: str, port: int, path: str, headers: dict[str, str], timeout: float
) -> tuple[bool, str]:
    if scheme == "HTTPS":
        # kubelet does not verify the certificate of an HTTPS probe.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read(10 * 1024)  # kubelet reads at most 10 KiB of the body
        status = response.status
    except TimeoutError:
        return False, f"timeout after {timeout:g}s"
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        return False, _describe_error(exc)
    finally:
        connection.close()
    return 200 <= status < 400, f"HTTP {status}"


def _tcp_attempt(port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True, "connected"
    except TimeoutError:
        return False, f"timeout after {timeout:g}s"
    except OSError as exc:
        return False, _describe_error(exc)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return f"{type(exc).__name__}: {exc}"


# --- kubelet's schedule ------------------------------------------------------------------


@dataclass
class Schedule:
    """Runs one probe every period from ``start`` (seconds since process start), counting
    consecutive results like kubelet's worker, until ``done`` says stop or ``deadline``."""

    spec: ProbeSpec
    target: Target
    clock_start: float
    speed: float = 1.0
    attempts: list[Attempt] = field(default_factory=list)

    def run(
        self,
        start: float,
        deadline: float,
        done: Callable[[list[Attempt]], bool],
        stop: threading.Event | None = None,
    ) -> list[Attempt]:
        period = self.spec.period / self.speed
        next_at = start
        while True:
            now = self._elapsed()
            if next_at > deadline:
                return self.attempts
            if now < next_at:
                if stop is not None and stop.wait(next_at - now):
                    return self.attempts
                if stop is None:
                    time.sleep(next_at - now)
            if stop is not None and stop.is_set():
                return self.attempts
            at = self._elapsed()
            success, detail = self.target.attempt(self.spec.timeout)
            self.attempts.append(Attempt(round(at, 3), success, detail))
            if done(self.attempts):
                return self.attempts
            next_at += period

    def _elapsed(self) -> float:
        return time.monotonic() - self.clock_start


def consecutive(attempts: list[Attempt], success: bool) -> int:
    count = 0
    for attempt in reversed(attempts):
        if attempt.success is not success:
            break
        count += 1
    return count


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeCheck:
    container: str
    kind: str  # startup | readiness | liveness | readiness-db-down | liveness-db-down | ...
    url: str
    passed: bool
    message: str
    attempts: tuple[Attempt, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "probe": self.kind,
            "url": self.url,
            "passed": self.passed,
            "message": self.message,
            "attempts": [
                {"at": a.at, "success": a.success, "detail": a.detail} for a in self.attempts
            ],
        }


@dataclass(frozen=True)
class ContainerTiming:
    container: str
    measured_startup: float | None  # seconds until the process first answered its probe
    startup_budget: float  # kubelet seconds (unscaled)
    time_to_ready: float | None  # seconds until readiness passed, on kubelet's schedule
    speed: float

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "measuredStartupSeconds": self.measured_startup,
            "startupBudgetSeconds": self.startup_budget,
            "timeToReadySeconds": self.time_to_ready,
            "speed": self.speed,
        }


@dataclass(frozen=True)
class ProbeResult:
    env: str
    service: str
    checks: tuple[ProbeCheck, ...]
    timings: tuple[ContainerTiming, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "service": self.service,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "timings": [t.to_json() for t in self.timings],
            "notes": list(self.notes),
        }


# --- the local "container" ----------------------------------------------------------------


@dataclass(frozen=True)
class AppSource:
    name: str
    directory: Path
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


def find_app_source(repo: Path, image: str) -> AppSource | None:
    """The ``apps/<name>/`` whose name is the image's repository basename."""
    name = image_name(image).rsplit("/", 1)[-1]
    directory = repo / "apps" / name
    dockerfile = directory / "Dockerfile"
    if not dockerfile.is_file():
        return None
    entrypoint, cmd = parse_dockerfile_command(dockerfile.read_text(encoding="utf-8"))
    return AppSource(name, directory, entrypoint, cmd)


def parse_dockerfile_command(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The last ENTRYPOINT and CMD in exec (JSON) form; shell form is refused."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        match = re.match(r"^\s*(ENTRYPOINT|CMD)\s+(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        try:
            value = json.loads(match.group(2))
        except json.JSONDecodeError as exc:
            raise ProbeSetupError(
                f'Dockerfile {match.group(1)} must use the exec form ["..."]: {line.strip()}'
            ) from exc
        if match.group(1).upper() == "ENTRYPOINT":
            entrypoint, cmd = tuple(map(str, value)), ()  # a new ENTRYPOINT resets CMD
        else:
            cmd = tuple(map(str, value))
    return entrypoint, cmd


def container_argv(
    container: dict[str, Any], source: AppSource
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entrypoint, args) with Kubernetes semantics: ``command`` replaces ENTRYPOINT (and drops
    CMD), ``args`` replaces CMD. ``python``/``python3`` becomes this interpreter, where the apps
    are installed."""
    command = container.get("command")
    args = container.get("args")
    if command:
        entry = [str(c) for c in command]
        rest = [str(a) for a in args or []]
    else:
        entry = list(source.entrypoint)
        rest = [str(a) for a in args] if args is not None else list(source.cmd)
    if not entry and rest:
        entry, rest = rest, []
    if not entry:
        raise ProbeSetupError(f"apps/{source.name}/Dockerfile has no ENTRYPOINT or CMD")
    if Path(entry[0]).name in ("python", "python3"):
        entry[0] = sys.executable
    return tuple(entry), tuple(rest)


_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def container_env(
    container: dict[str, Any], secrets: dict[str, dict[str, str]], where: str
) -> dict[str, str]:
    """The container's ``env`` as kubelet builds it: ``$(VAR)`` refers to earlier variables,
    ``secretKeyRef`` reads the local Secret source, optional refs may be absent."""
    env: dict[str, str] = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if "value" in entry:
            env[name] = _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            value = secrets.get(str(ref.get("name")), {}).get(str(ref.get("key")))
            if value is None:
                if ref.get("optional"):
                    continue
                raise ProbeSetupError(
                    f"{where}: env {name} needs key {ref.get('key')!r} of Secret "
                    f"{ref.get('name')!r}: give it with --secrets FILE (YAML: "
                    "<secret>: {<key>: <value>}) or a postgres section in gitops.yaml probe"
                )
            env[name] = value
            continue
        if entry.get("valueFrom"):
            raise ProbeSetupError(
                f"{where}: env {name} uses {sorted(entry['valueFrom'])[0]}, which gitops probe "
                "cannot provide outside a cluster"
            )
    return env


@dataclass(frozen=True)
class PostgresPlan:
    secret: str
    keys: dict[str, str]  # host/port/database/user/password -> Secret key
    setup: tuple[tuple[str, ...], ...]  # container args run (with the entrypoint) before start


def postgres_plan(config: RepoConfig, service: str) -> PostgresPlan | None:
    probe = config.probe.get("services") if isinstance(config.probe, dict) else None
    section = (probe or {}).get(service) or {}
    raw = section.get("postgres")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("secret") or not isinstance(raw.get("keys"), dict):
        raise ConfigError(
            f"gitops.yaml: probe.services.{service}.postgres needs `secret` and `keys`"
        )
    unknown = set(raw["keys"]) - {"host", "port", "database", "user", "password"}
    if unknown:
        raise ConfigError(
            f"gitops.yaml: probe.services.{service}.postgres.keys: unknown {sorted(unknown)}; "
            "expected host, port, database, user, password"
        )
    setup = tuple(tuple(map(str, step)) for step in raw.get("setup") or [])
    return PostgresPlan(str(raw["secret"]), {str(k): str(v) for k, v in raw["keys"].items()}, setup)


def load_secret_source(path: str | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--secrets {path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError(f"--secrets {path}: expected <secret name>: {{<key>: <value>}}")
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in raw.items()}


def probeable_overlays(repo: Path, overlays: list[Overlay]) -> list[Overlay]:
    """Overlays whose service has source under apps/ (by the base's image names, cheaply: the
    service's rendered images are checked again by probe_overlay)."""
    apps = {p.name for p in (repo / "apps").glob("*") if (p / "Dockerfile").is_file()}
    return [o for o in overlays if o.service in apps]


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
        pod = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
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
                f"{_seconds(gate_spec.budget, speed)}: kubelet would restart it before it is up",
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


def _seconds(value: float, speed: float) -> str:
    return f"{value:g}s" if speed == 1 else f"{value:g}s ({value / speed:g}s at x{speed:g})"


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
            f"{_seconds(spec.budget, speed)} ({url}: {'; '.join(details)}): {consequence}"
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


# --- output -------------------------------------------------------------------------------


def format_text(results: list[ProbeResult]) -> str:
    lines: list[str] = []
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        lines.append(f"{result.env}/{result.service}: {status}")
        for note in result.notes:
            lines.append(f"  note: {note}")
        for timing in result.timings:
            measured = (
                f"{timing.measured_startup:.2f}s"
                if timing.measured_startup is not None
                else "never"
            )
            ready = f"{timing.time_to_ready:.2f}s" if timing.time_to_ready is not None else "never"
            lines.append(
                f"  {timing.container}: started in {measured} "
                f"(budget {_seconds(timing.startup_budget, timing.speed)}), ready at {ready}"
            )
        for check in result.checks:
            mark = "ok  " if check.passed else "FAIL"
            lines.append(f"  {mark} {check.kind:18} {check.message}")
    return "\n".join(lines) + "\n"


def format_json(results: list[ProbeResult]) -> str:
    return json.dumps({"results": [r.to_json() for r in results]}, indent=2) + "\n"


__all__ = [
    "ProbeResult",
    "ProbeSetupError",
    "ToolNotFoundError",
    "format_json",
    "format_text",
    "probe_overlay",
]
