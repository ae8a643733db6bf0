"""Scenario files for ``gitops simulate``: read, validate, and turn into model inputs.

A scenario names an HPA of the rendered repo (``hpa: {env, service}``) or inlines one
(``hpa: {manifest: ...}``), and gives the starting state, a load profile, pod timing, the
controller settings and a duration (docs/simulate.md documents every key)::

    hpa: {env: prod, service: healthz}
    start: {replicas: 2}
    load:
      totalCPU:
        - {at: 0, value: 70m}
        - {at: 60, value: 210m}
    durationSeconds: 1800

Every problem is one :class:`ScenarioError` line naming the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops import k8s_math
from gitops.config import DEFAULT_KUBERNETES_VERSION
from gitops.errors import GitopsError
from gitops.k8s import running_containers
from gitops.k8s.features import POD_LEVEL_RESOURCES, FeatureGateError, FeatureGates, known_gates
from gitops.simulate.hpa import (
    AVERAGE_VALUE,
    CONTAINER_RESOURCE,
    DEFAULT_METRICS,
    DEFAULT_SCALE_DOWN_RULES,
    DEFAULT_SCALE_UP_RULES,
    EXTERNAL,
    OBJECT,
    PODS,
    RESOURCE,
    UTILIZATION,
    VALUE,
    Behavior,
    HPASpec,
    MetricSpec,
    ScalingPolicy,
    ScalingRules,
    generate_rules,
)
from gitops.simulate.replicas import SINGLE_CONTAINER, ContainerState, ControllerSettings

# One sync per period, a day at most: 5,760 syncs at the default 15 s.
MAX_DURATION_SECONDS = 7 * 24 * 3600


class ScenarioError(GitopsError):
    """A scenario file (or the HPA it names) is not something we can simulate."""


@dataclass(frozen=True)
class LoadPoint:
    """From ``at`` on, the load is ``value`` (milli-CPU); with ``ramp_seconds`` it moves
    linearly from the previous value to ``value`` over that many seconds first."""

    at: float
    value: int
    ramp_seconds: float = 0.0


@dataclass(frozen=True)
class LoadProfile:
    """Total CPU demand shared by the Ready pods, or each Ready pod's own usage."""

    mode: str  # "total" | "perPod"
    points: tuple[LoadPoint, ...]

    def at(self, t: float) -> int:
        """The demand at ``t`` (milli-CPU), steps and ramps applied in order."""
        value = 0
        for point in self.points:
            if t < point.at:
                break
            if point.ramp_seconds > 0 and t < point.at + point.ramp_seconds:
                fraction = (t - point.at) / point.ramp_seconds
                return round(value + (point.value - value) * fraction)
            value = point.value
        return value

    def change_times(self) -> list[float]:
        """When the load starts to change (for "time to settle")."""
        return [p.at for p in self.points if p.at > 0]


@dataclass(frozen=True)
class PodTemplate:
    """How a new pod behaves: its CPU request, how long it takes to run and to be Ready."""

    cpu_request_milli: int | None
    startup_seconds: float = 10.0  # created -> Running (scheduling, image pull, start)
    readiness_seconds: float = 10.0  # Running -> Ready (the readiness probe passing)
    startup_cpu_milli: int = 0  # usage while not Ready (a JVM warming up burns CPU here)
    metric_window_seconds: float = 15.0  # metrics-server's window (its release manifests: 15 s)
    # metrics-server scrapes every --metric-resolution from its own start: with a resolution
    # (> 0) a new pod's first sample waits for the first scrape once it has run one window.
    # 0 (scenario files): a sample is there as soon as the pod has run one window.
    metric_resolution_seconds: float = 0.0
    metric_phase_seconds: float = 0.0  # a scrape happened at this time (mod the resolution)
    # Replays of a recorded run (not in scenario files): the n-th pod the simulation creates
    # takes the n-th of these as its startup, later ones ``startup_seconds``. A second of
    # start delay can move a pod's first sample a whole scrape later.
    startup_replay: tuple[float, ...] = ()
    # The container the HPA measures (a ContainerResource metric's, else "app"): new pods run
    # one container of this name, and the load is its usage.
    container_name: str = SINGLE_CONTAINER


@dataclass(frozen=True)
class ExplicitPod:
    """A pod of ``start.pods``: reproduces one upstream test's pod exactly. ``sample_only``:
    only its metrics sample is left (a deleted pod), it is not in the pod list."""

    name: str
    phase: str
    ready: bool | None
    ready_time: float
    start_time: float | None
    deleting: bool
    cpu_request_milli: int | None
    cpu_usage_milli: int | None
    metric_timestamp: float
    metric_window: float
    metrics: Mapping[str, int] = field(default_factory=dict)
    containers: tuple[ContainerState, ...] = ()
    pod_requests: Mapping[str, int] = field(default_factory=dict)
    sample_only: bool = False


@dataclass(frozen=True)
class Scenario:
    source: str
    hpa: HPASpec
    hpa_name: str
    start_replicas: int
    template: PodTemplate
    load: LoadProfile | None
    settings: ControllerSettings
    duration_seconds: float
    explicit_pods: tuple[ExplicitPod, ...] = ()
    metric_values: Mapping[str, int | tuple[int, ...]] = field(default_factory=dict)
    overlay: str | None = None  # "env/service" of a repository HPA

    @property
    def name(self) -> str:
        """The scenario file's name without its folder and suffix."""
        return Path(self.source.split(":", 1)[0]).stem

    @property
    def syncs(self) -> int:
        return int(self.duration_seconds // self.settings.sync_period) + 1


# --- reading ------------------------------------------------------------------------------


class _Reader:
    """Typed access to a mapping with errors that name the file and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {_kind(value)}")
        return value

    def known_keys(self, value: Mapping[str, Any], where: str, keys: Sequence[str]) -> None:
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise self.fail(
                where, f"unknown key {unknown[0]!r} (expected one of: {', '.join(keys)})"
            )

    def number(
        self, value: Any, where: str, *, minimum: float | None = None, integer: bool = False
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "an integer" if integer else "a number"
            raise self.fail(where, f"expected {kind}, got {value!r}")
        if integer and not isinstance(value, int):
            raise self.fail(where, f"expected an integer, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(where, f"expected a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"expected a number >= {minimum:g}, got {value!r}")
        return float(value)

    def integer(self, value: Any, where: str, *, minimum: int | None = None) -> int:
        return int(self.number(value, where, minimum=minimum, integer=True))

    def milli(self, value: Any, where: str) -> int:
        try:
            milli = k8s_math.milli_value(value)
        except k8s_math.InvalidValueError:
            raise self.fail(
                where, f'expected a CPU quantity like "250m" or 0.5, got {value!r}'
            ) from None
        if milli < 0:
            raise self.fail(where, f"expected a non-negative quantity, got {value!r}")
        return milli

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {value!r}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return repr(value)


SCENARIO_KEYS = ("hpa", "start", "pod", "load", "controller", "durationSeconds", "metrics")

# A resolver maps (env, service, name or None) to (HPA manifest, target pod CPU request or
# None, where it came from); the CLI's renders the overlay with kustomize.
HPAResolver = Callable[[str, str, str | None], tuple[Mapping[str, Any], int | None, str]]


def load_scenario(
    path: Path,
    resolve_hpa: HPAResolver | None = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
) -> Scenario:
    """Read and validate ``path``; raise :class:`ScenarioError` on the first problem. The
    controller's feature gates default to ``kubernetes_version`` (the repository's target)."""
    import yaml

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{source}{line}: invalid YAML: {problem}") from exc
    return parse_scenario(data, source, resolve_hpa, kubernetes_version)


def parse_scenario(
    data: Any,
    source: str,
    resolve_hpa: HPAResolver | None = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
) -> Scenario:
    r = _Reader(source)
    root = r.mapping(data, "top level")
    r.known_keys(root, "top level", SCENARIO_KEYS)
    manifest, target_request, origin = _hpa_manifest(r, root, source, resolve_hpa)
    spec, hpa_name = hpa_spec_from_manifest(manifest, origin)

    settings = _settings(r, root.get("controller", {}), kubernetes_version)
    template = _template(r, root.get("pod", {}), target_request)
    measured = next((m.container for m in spec.metrics if m.container), SINGLE_CONTAINER)
    template = dataclasses.replace(template, container_name=measured)
    start = r.mapping(root.get("start", {}), "start")
    r.known_keys(start, "start", ("replicas", "pods"))
    explicit = tuple(
        _explicit_pod(r, raw, f"start.pods[{i}]", template)
        for i, raw in enumerate(_list(r, start.get("pods", []), "start.pods"))
    )
    if "replicas" in start:
        replicas = r.integer(start["replicas"], "start.replicas", minimum=0)
    elif explicit:
        replicas = len(
            [p for p in explicit if p.phase not in ("Failed", "Succeeded") and not p.sample_only]
        )
    else:
        replicas = spec.min_replicas
    load = _load(r, root["load"]) if "load" in root else None
    if load is None and not explicit:
        raise r.fail("load", "missing: give load.totalCPU or load.perPodCPU (or start.pods)")
    if template.cpu_request_milli is None and not explicit:
        raise r.fail(
            "pod.cpuRequest",
            "missing: the HPA's target has no CPU request to read; set pod.cpuRequest",
        )
    duration = r.number(root.get("durationSeconds", 3600), "durationSeconds", minimum=0)
    if duration > MAX_DURATION_SECONDS:
        raise r.fail("durationSeconds", f"expected at most {MAX_DURATION_SECONDS} (a week)")
    metric_values = {
        str(k): _metric_value(r, v, f"metrics.{k}")
        for k, v in r.mapping(root.get("metrics", {}), "metrics").items()
    }
    return Scenario(
        source, spec, hpa_name, replicas, template, load, settings, duration, explicit,
        metric_values, _overlay(root),
    )  # fmt: skip


def _overlay(root: Mapping[str, Any]) -> str | None:
    hpa = root.get("hpa")
    if isinstance(hpa, Mapping) and "manifest" not in hpa:
        return f"{hpa.get('env')}/{hpa.get('service')}"
    return None


def _hpa_manifest(
    r: _Reader, root: Mapping[str, Any], source: str, resolve_hpa: HPAResolver | None
) -> tuple[Any, int | None, str]:
    """The scenario's HPA: inline (``hpa.manifest``) or rendered from the repository
    (``hpa.env``/``service``/``name``), with the target's CPU request and where it came from."""
    if "hpa" not in root:
        raise r.fail("hpa", "missing: name an HPA ({env, service}) or inline one ({manifest})")
    hpa_raw = r.mapping(root["hpa"], "hpa")
    r.known_keys(hpa_raw, "hpa", ("env", "service", "name", "manifest"))
    if "manifest" in hpa_raw:
        if "env" in hpa_raw or "service" in hpa_raw:
            raise r.fail("hpa", "give either manifest or env/service, not both")
        return r.mapping(hpa_raw["manifest"], "hpa.manifest"), None, source
    missing = [k for k in ("env", "service") if not isinstance(hpa_raw.get(k), str)]
    if missing:
        raise r.fail(f"hpa.{missing[0]}", "expected a name (or give hpa.manifest instead)")
    if resolve_hpa is None:
        raise r.fail("hpa", "names a repo HPA but no repository is available to render it")
    name = hpa_raw.get("name")
    if name is not None and not isinstance(name, str):
        raise r.fail("hpa.name", f"expected a name, got {name!r}")
    manifest, target_request, origin = resolve_hpa(hpa_raw["env"], hpa_raw["service"], name)
    return manifest, target_request, origin


def _metric_value(r: _Reader, value: Any, where: str) -> int | tuple[int, ...]:
    """An Object metric's value, or an External metric's value or list of values (one per
    series the external metrics API returns), in milli-units; no upper bound, so that the
    controller's int64 saturation can be exercised."""
    if isinstance(value, list):
        if not value:
            raise r.fail(where, "expected at least one value")
        return tuple(_signed_milli(r, v, f"{where}[{i}]") for i, v in enumerate(value))
    return _signed_milli(r, value, where)


def _signed_milli(r: _Reader, value: Any, where: str) -> int:
    try:
        return k8s_math.milli_value(value)
    except k8s_math.InvalidValueError:
        raise r.fail(where, f'expected a quantity like "250m" or 3, got {value!r}') from None


def _list(r: _Reader, value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise r.fail(where, f"expected a list, got {_kind(value)}")
    return value


SETTINGS_KEYS = {
    "syncPeriodSeconds": "sync_period",
    "tolerance": "tolerance",
    "cpuInitializationPeriodSeconds": "cpu_initialization_period",
    "initialReadinessDelaySeconds": "initial_readiness_delay",
    "downscaleStabilizationWindowSeconds": "downscale_stabilization_window",
}


def _settings(r: _Reader, raw: Any, kubernetes_version: str) -> ControllerSettings:
    controller = r.mapping(raw, "controller")
    r.known_keys(controller, "controller", (*SETTINGS_KEYS, "kubernetesVersion", "featureGates"))
    values = {
        SETTINGS_KEYS[key]: r.number(value, f"controller.{key}", minimum=0)
        for key, value in controller.items()
        if key in SETTINGS_KEYS
    }
    if values.get("sync_period", 15.0) <= 0:
        raise r.fail("controller.syncPeriodSeconds", "expected a number > 0")
    version = str(controller.get("kubernetesVersion", kubernetes_version))
    match = re.fullmatch(r"v?1\.(\d+)(\.\d+)?", version)
    if match is None:
        raise r.fail(
            "controller.kubernetesVersion", f'expected a version like "1.36", got {version!r}'
        )
    overrides = []
    for name, value in r.mapping(
        controller.get("featureGates", {}), "controller.featureGates"
    ).items():
        if str(name) not in known_gates():
            raise r.fail(
                f"controller.featureGates.{name}",
                f"unknown gate (expected one of: {', '.join(known_gates())})",
            )
        overrides.append((str(name), r.boolean(value, f"controller.featureGates.{name}")))
    try:
        gates = FeatureGates(int(match.group(1)), tuple(overrides))
    except FeatureGateError as exc:  # pragma: no cover - names are checked above
        raise r.fail("controller.featureGates", str(exc)) from exc
    return ControllerSettings(**values, gates=gates)


def _template(r: _Reader, raw: Any, target_request: int | None) -> PodTemplate:
    pod = r.mapping(raw, "pod")
    keys = (
        "cpuRequest", "startupSeconds", "readinessSeconds", "startupCPU", "metricWindowSeconds",
    )  # fmt: skip
    r.known_keys(pod, "pod", keys)
    request = r.milli(pod["cpuRequest"], "pod.cpuRequest") if "cpuRequest" in pod else None
    return PodTemplate(
        cpu_request_milli=request if request is not None else target_request,
        startup_seconds=r.number(pod.get("startupSeconds", 10), "pod.startupSeconds", minimum=0),
        readiness_seconds=r.number(
            pod.get("readinessSeconds", 10), "pod.readinessSeconds", minimum=0
        ),
        startup_cpu_milli=r.milli(pod.get("startupCPU", 0), "pod.startupCPU"),
        metric_window_seconds=r.number(
            pod.get("metricWindowSeconds", 15), "pod.metricWindowSeconds", minimum=0
        ),
    )


def _load(r: _Reader, raw: Any) -> LoadProfile:
    load = r.mapping(raw, "load")
    r.known_keys(load, "load", ("totalCPU", "perPodCPU"))
    if len(load) != 1:
        raise r.fail("load", "expected exactly one of totalCPU or perPodCPU")
    key = next(iter(load))
    points: list[LoadPoint] = []
    for i, item in enumerate(_list(r, load[key], f"load.{key}")):
        where = f"load.{key}[{i}]"
        point = r.mapping(item, where)
        r.known_keys(point, where, ("at", "value", "rampSeconds"))
        if "value" not in point:
            raise r.fail(f"{where}.value", 'missing: expected a CPU quantity like "250m"')
        at = r.number(point.get("at", 0), f"{where}.at", minimum=0)
        if points and at < points[-1].at:
            raise r.fail(f"{where}.at", f"expected times in order, {at:g} < {points[-1].at:g}")
        points.append(
            LoadPoint(
                at,
                r.milli(point["value"], f"{where}.value"),
                r.number(point.get("rampSeconds", 0), f"{where}.rampSeconds", minimum=0),
            )
        )
    if not points:
        raise r.fail(f"load.{key}", "expected at least one {at, value} point")
    return LoadProfile("total" if key == "totalCPU" else "perPod", tuple(points))


POD_KEYS = (
    "name", "phase", "ready", "readyTime", "startTime", "deleting", "containers",
    "metricTimestamp", "metricWindowSeconds", "metrics", "resources", "sampleOnly",
)  # fmt: skip
CONTAINER_KEYS = ("name", "cpuRequest", "cpuUsage", "sidecar")
PHASES = ("Pending", "Running", "Succeeded", "Failed")


def _explicit_pod(r: _Reader, raw: Any, where: str, template: PodTemplate) -> ExplicitPod:
    pod = r.mapping(raw, where)
    r.known_keys(pod, where, POD_KEYS)
    name = pod.get("name", where)
    phase = pod.get("phase", "Running")
    if phase not in PHASES:
        raise r.fail(f"{where}.phase", f"expected one of {', '.join(PHASES)}, got {phase!r}")
    ready = pod.get("ready", True)
    if ready is not None:
        ready = r.boolean(ready, f"{where}.ready")
    start = pod.get("startTime", -3600)
    start_time = None if start is None else r.number(start, f"{where}.startTime")
    containers = _containers(r, pod.get("containers", []), where)
    request: int | None = template.cpu_request_milli
    usage: int | None = None
    if containers:  # the totals, for the pod's summary; the HPA reads the containers
        requests = [c.cpu_request_milli for c in containers]
        usages = [c.cpu_usage_milli for c in containers]
        request = None if None in requests else sum(q or 0 for q in requests)
        usage = None if None in usages else sum(u or 0 for u in usages)
    pod_requests = _pod_requests(r, pod.get("resources"), f"{where}.resources")
    metrics = {
        str(k): r.milli(v, f"{where}.metrics.{k}")
        for k, v in r.mapping(pod.get("metrics", {}), f"{where}.metrics").items()
    }
    return ExplicitPod(
        name=str(name),
        phase=phase,
        ready=ready,
        ready_time=r.number(pod.get("readyTime", -3600), f"{where}.readyTime"),
        start_time=start_time,
        deleting=r.boolean(pod.get("deleting", False), f"{where}.deleting"),
        cpu_request_milli=request,
        cpu_usage_milli=usage,
        metric_timestamp=r.number(pod.get("metricTimestamp", 0), f"{where}.metricTimestamp"),
        metric_window=r.number(
            pod.get("metricWindowSeconds", 60), f"{where}.metricWindowSeconds", minimum=0
        ),
        metrics=metrics,
        containers=containers,
        pod_requests=pod_requests,
        sample_only=r.boolean(pod.get("sampleOnly", False), f"{where}.sampleOnly"),
    )


def _containers(r: _Reader, raw: Any, where: str) -> tuple[ContainerState, ...]:
    """``containers: [{name, cpuRequest, cpuUsage, sidecar}]``: no ``cpuRequest``, the container
    has none (the HPA then cannot sum the pod's); no ``cpuUsage``, metrics-server has no sample
    of it; ``sidecar: true``, a restartable init container."""
    out = []
    for i, item in enumerate(_list(r, raw, f"{where}.containers")):
        cwhere = f"{where}.containers[{i}]"
        container = r.mapping(item, cwhere)
        r.known_keys(container, cwhere, CONTAINER_KEYS)
        name = container.get("name", f"container{i + 1}")
        if not isinstance(name, str) or not name:
            raise r.fail(f"{cwhere}.name", f"expected a container name, got {name!r}")
        out.append(
            ContainerState(
                name,
                r.milli(container["cpuRequest"], f"{cwhere}.cpuRequest")
                if "cpuRequest" in container
                else None,
                r.milli(container["cpuUsage"], f"{cwhere}.cpuUsage")
                if "cpuUsage" in container
                else None,
                r.boolean(container.get("sidecar", False), f"{cwhere}.sidecar"),
            )
        )
    names = [c.name for c in out]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise r.fail(f"{where}.containers", f"container name {duplicate!r} is used twice")
    return tuple(out)


def _pod_requests(r: _Reader, raw: Any, where: str) -> dict[str, int]:
    """Pod-level ``resources: {requests: {cpu, memory}}`` (milli-units; memory only matters
    for whether pod-level requests are set)."""
    if raw is None:
        return {}
    resources = r.mapping(raw, where)
    r.known_keys(resources, where, ("requests",))
    requests = r.mapping(resources.get("requests", {}), f"{where}.requests")
    r.known_keys(requests, f"{where}.requests", ("cpu", "memory"))
    out = {}
    if "cpu" in requests:
        out["cpu"] = r.milli(requests["cpu"], f"{where}.requests.cpu")
    if "memory" in requests:
        try:
            out["memory"] = k8s_math.milli_value(requests["memory"])
        except k8s_math.InvalidValueError:
            raise r.fail(
                f"{where}.requests.memory",
                f"expected a quantity like 64Mi, got {requests['memory']!r}",
            ) from None
    return out


# --- HorizontalPodAutoscaler manifests -> HPASpec -------------------------------------------


def hpa_spec_from_manifest(manifest: Mapping[str, Any], source: str) -> tuple[HPASpec, str]:
    """An autoscaling/v2 HPA (a whole object, or just its ``spec``) as the model's spec, with
    the API server's defaults applied (minReplicas 1, CPU 80 %, behavior rules)."""
    r = _Reader(source)
    if "kind" in manifest and manifest.get("kind") != "HorizontalPodAutoscaler":
        raise r.fail("kind", f"expected HorizontalPodAutoscaler, got {manifest.get('kind')!r}")
    api_version = manifest.get("apiVersion", "autoscaling/v2")
    if api_version != "autoscaling/v2":
        raise r.fail("apiVersion", f"expected autoscaling/v2, got {api_version!r}")
    name = str(r.mapping(manifest.get("metadata", {}), "metadata").get("name", "hpa"))
    spec = r.mapping(manifest["spec"], "spec") if "spec" in manifest else manifest
    if "maxReplicas" not in spec:
        raise r.fail("spec.maxReplicas", "missing: expected an integer >= 1")
    max_replicas = r.integer(spec["maxReplicas"], "spec.maxReplicas", minimum=1)
    min_replicas = r.integer(spec.get("minReplicas", 1), "spec.minReplicas", minimum=0)
    if min_replicas > max_replicas:
        raise r.fail("spec.minReplicas", f"{min_replicas} is above maxReplicas {max_replicas}")
    metrics = tuple(
        _metric(r, m, f"spec.metrics[{i}]")
        for i, m in enumerate(_list(r, spec.get("metrics", []), "spec.metrics"))
    )
    behavior = _behavior(r, spec["behavior"]) if spec.get("behavior") is not None else None
    return HPASpec(min_replicas, max_replicas, metrics or DEFAULT_METRICS, behavior), name


def _metric(r: _Reader, raw: Any, where: str) -> MetricSpec:
    metric = r.mapping(raw, where)
    kind = metric.get("type")
    field_name = {
        RESOURCE: "resource", CONTAINER_RESOURCE: "containerResource", PODS: "pods",
        OBJECT: "object", EXTERNAL: "external",
    }.get(str(kind))  # fmt: skip
    if field_name is None:
        raise r.fail(f"{where}.type", f"expected Resource, Pods, Object or External, got {kind!r}")
    source = r.mapping(metric.get(field_name), f"{where}.{field_name}")
    target = r.mapping(source.get("target"), f"{where}.{field_name}.target")
    container = ""
    if kind in (RESOURCE, CONTAINER_RESOURCE):
        name = str(source.get("name"))
        if kind == CONTAINER_RESOURCE:
            named = source.get("container")
            if not isinstance(named, str) or not named:
                raise r.fail(f"{where}.containerResource.container", "expected a container name")
            container = named
    else:
        name = str(r.mapping(source.get("metric"), f"{where}.{field_name}.metric").get("name"))
    target_type = target.get("type")
    twhere = f"{where}.{field_name}.target"
    if target_type == UTILIZATION:
        value = r.integer(
            target.get("averageUtilization"), f"{twhere}.averageUtilization", minimum=1
        )
    elif target_type == AVERAGE_VALUE:
        value = r.milli(target.get("averageValue"), f"{twhere}.averageValue")
    elif target_type == VALUE:
        value = r.milli(target.get("value"), f"{twhere}.value")
    else:
        raise r.fail(
            f"{twhere}.type", f"expected Utilization, AverageValue or Value, got {target_type!r}"
        )
    return MetricSpec(str(kind), name, str(target_type), value, container)


def _behavior(r: _Reader, raw: Any) -> Behavior:
    behavior = r.mapping(raw, "spec.behavior")
    return Behavior(
        _rules(r, behavior.get("scaleUp"), "spec.behavior.scaleUp", DEFAULT_SCALE_UP_RULES),
        _rules(r, behavior.get("scaleDown"), "spec.behavior.scaleDown", DEFAULT_SCALE_DOWN_RULES),
    )


def _rules(r: _Reader, raw: Any, where: str, default: ScalingRules) -> ScalingRules:
    if raw is None:
        return default
    rules = r.mapping(raw, where)
    window = rules.get("stabilizationWindowSeconds")
    select = rules.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        raise r.fail(f"{where}.selectPolicy", f"expected Max, Min or Disabled, got {select!r}")
    policies: tuple[ScalingPolicy, ...] | None = None
    if rules.get("policies") is not None:
        items = []
        for i, item in enumerate(_list(r, rules["policies"], f"{where}.policies")):
            pwhere = f"{where}.policies[{i}]"
            policy = r.mapping(item, pwhere)
            if policy.get("type") not in ("Pods", "Percent"):
                raise r.fail(
                    f"{pwhere}.type", f"expected Pods or Percent, got {policy.get('type')!r}"
                )
            items.append(
                ScalingPolicy(
                    str(policy["type"]),
                    r.integer(policy.get("value"), f"{pwhere}.value", minimum=1),
                    r.integer(policy.get("periodSeconds"), f"{pwhere}.periodSeconds", minimum=1),
                )
            )
        policies = tuple(items)
    tolerance = None
    if rules.get("tolerance") is not None:
        try:
            tolerance = float(k8s_math.parse_quantity(rules["tolerance"]))
        except k8s_math.InvalidValueError:
            raise r.fail(  # noqa: B904 -- the quantity error adds nothing to the message
                f"{where}.tolerance", f"expected a quantity like 0.05, got {rules['tolerance']!r}"
            )
    return generate_rules(
        default,
        stabilization_window_seconds=(
            None
            if window is None
            else r.integer(window, f"{where}.stabilizationWindowSeconds", minimum=0)
        ),
        select_policy=select,
        policies=policies,
        tolerance=tolerance,
    )


def pod_cpu_request_milli(
    pod_spec: Mapping[str, Any], container: str = "", gates: FeatureGates | None = None
) -> int | None:
    """The HPA's per-pod CPU request (``calculateRequests``): the pod-level
    ``spec.resources.requests.cpu`` when the PodLevelResources gate is on (``gates``, default:
    the default target version's) and no ``container`` is named; else the named container's,
    or the containers plus restartable init containers summed. None when one of them has no
    CPU request or the named container is not there."""
    gates = gates or FeatureGates(int(DEFAULT_KUBERNETES_VERSION.split(".")[1]))
    pod_level = (pod_spec.get("resources") or {}).get("requests") or {}
    if not container and gates.enabled(POD_LEVEL_RESOURCES) and "cpu" in pod_level:
        try:
            return k8s_math.milli_value(pod_level["cpu"])
        except k8s_math.InvalidValueError:
            return None
    containers = running_containers(pod_spec)
    if container:
        containers = [c for c in containers if c.get("name") == container][:1]
    total = 0
    for item in containers:
        requests = (item.get("resources") or {}).get("requests") or {}
        if "cpu" not in requests:
            return None
        try:
            total += k8s_math.milli_value(requests["cpu"])
        except k8s_math.InvalidValueError:
            return None
    return total if containers else None
