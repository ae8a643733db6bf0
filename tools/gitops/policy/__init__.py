"""The policy engine: a registry of rules, each a function over every rendered resource.

A rule is a generator decorated with :func:`rule`; its docstring says why it matters (the first
line becomes its entry in ``docs/rules.md``). It yields :class:`Hit` objects; the engine turns
them into :class:`~gitops.model.Finding` with the severity configured for the env.

    @rule("probe-missing")
    def probe_missing(ctx: CheckContext) -> Iterator[Hit]:
        \"\"\"A container behind a Service has no readiness or no liveness probe. ...\"\"\"
        for workload in ctx.workloads():
            ...
            yield Hit("container web has no readinessProbe", workload)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops.config import RepoConfig
from gitops.discovery import Overlay
from gitops.model import Finding, Resource, Severity

if TYPE_CHECKING:
    from gitops.argocd import Application

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
# Modules whose import registers rules; docs/rules.md lists them in this order.
RULE_MODULES = (
    "gitops.policy.pipeline",
    "gitops.policy.workloads",
    "gitops.policy.scaling",
    "gitops.policy.networking",
    "gitops.policy.platform",
)


@dataclass(frozen=True)
class Hit:
    """One violation found by a rule: about a resource, or about a file (``source``)."""

    message: str
    resource: Resource | None = None
    env: str = ""
    service: str = ""
    source: str | None = None


RuleFunc = Callable[["CheckContext"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    func: RuleFunc | None  # None for rules the pipeline itself emits (render-failed, schema...)
    doc: str
    module: str

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


_REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity = Severity.ERROR) -> Callable[[RuleFunc], RuleFunc]:
    def register(func: RuleFunc) -> RuleFunc:
        _register(rule_id, severity, func, func.__doc__ or "", func.__module__)
        return func

    return register


def pipeline_rule(rule_id: str, doc: str, severity: Severity = Severity.ERROR) -> None:
    """Declare a rule whose findings the check pipeline emits directly."""
    _register(rule_id, severity, None, doc, "gitops.policy.pipeline")


def _register(
    rule_id: str, severity: Severity, func: RuleFunc | None, doc: str, module: str
) -> None:
    if rule_id in _REGISTRY and _REGISTRY[rule_id].func is not func:
        raise ValueError(f"rule {rule_id} registered twice")
    if not doc.strip():
        raise ValueError(f"rule {rule_id} has no docstring saying why it matters")
    _REGISTRY[rule_id] = Rule(rule_id, severity, func, doc, module)


def all_rules() -> list[Rule]:
    for module in RULE_MODULES:
        importlib.import_module(module)
    order = {m: i for i, m in enumerate(RULE_MODULES)}
    return sorted(_REGISTRY.values(), key=lambda r: (order.get(r.module, 99), r.id))


def get_rule(rule_id: str) -> Rule:
    all_rules()
    return _REGISTRY[rule_id]


@dataclass
class CheckContext:
    """Everything a rule may look at, for the selected envs and services."""

    repo: Path
    config: RepoConfig
    overlays: tuple[Overlay, ...]
    resources: list[Resource]
    applications: tuple[Application, ...] = ()
    # Problems found while expanding argocd/ (paths without kustomization, uncovered overlays).
    application_problems: tuple[str, ...] = ()
    # Argo CD objects rendered from argocd/ (AppProjects, ApplicationSets, the root app).
    argocd_resources: list[Resource] = field(default_factory=list)
    service_filter: str | None = None  # --service: a partial env selection
    _by_env: dict[str, list[Resource]] = field(default_factory=dict, repr=False)

    def in_env(self, env: str) -> list[Resource]:
        if not self._by_env:
            for resource in self.resources:
                self._by_env.setdefault(resource.env, []).append(resource)
        return self._by_env.get(env, [])

    def envs(self) -> list[str]:
        """The selected envs that rendered anything, in gitops.yaml order."""
        present = {r.env for r in self.resources}
        return [e for e in self.config.envs if e in present]

    def of_kind(self, *kinds: str, env: str | None = None) -> list[Resource]:
        pool = self.resources if env is None else self.in_env(env)
        return [r for r in pool if r.kind in kinds]

    def workloads(self, env: str | None = None) -> list[Resource]:
        return self.of_kind(*WORKLOAD_KINDS, env=env)

    def application_for(self, resource: Resource) -> Application | None:
        for app in self.applications:
            if app.path == resource.overlay_path:
                return app
        return None


# --- helpers shared by rule modules -------------------------------------------------------


def pod_template(workload: Resource) -> dict[str, Any]:
    """The pod template of a workload (CronJob: through its jobTemplate; a bare Pod is its own
    template)."""
    if workload.kind == "Pod":
        return {"metadata": workload.metadata, "spec": workload.spec}
    spec = workload.spec
    if workload.kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    return template if isinstance(template, dict) else {}


def pod_spec(workload: Resource) -> dict[str, Any]:
    spec = pod_template(workload).get("spec")
    return spec if isinstance(spec, dict) else {}


# Rules run on documents the schema rule may reject: these helpers return "nothing" for a field
# of the wrong type instead of raising (the schema finding reports the document itself).


def pod_labels(workload: Resource) -> dict[str, str]:
    metadata = pod_template(workload).get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return labels if isinstance(labels, dict) else {}


def containers(workload: Resource, init: bool = False) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    fields = ("containers", "initContainers") if init else ("containers",)
    found: list[dict[str, Any]] = []
    for name in fields:
        entries = spec.get(name)
        if isinstance(entries, list):
            found += [c for c in entries if isinstance(c, dict)]
    return found


def valid_label_selector(selector: Any) -> bool:
    """Whether ``selector`` has the shape of a LabelSelector (so it can be evaluated)."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if match_labels is not None and not isinstance(match_labels, dict):
        return False
    return expressions is None or (
        isinstance(expressions, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("key"), str)
            and isinstance(e.get("values"), list | None)
            for e in expressions
        )
    )


# A label's possible values on a controller's pods: a set, or None for "some value we cannot
# know" (a hash).
GeneratedLabels = Mapping[str, frozenset[str] | None]


def controller_labels(workload: Resource) -> dict[str, frozenset[str] | None]:
    """Labels the controller adds to the pods it creates, beyond the template's, so that a
    selector on them (a per-pod Service on ``statefulset.kubernetes.io/pod-name``) matches.
    From the controllers' code: pod-template-hash (Deployment's ReplicaSets),
    controller-revision-hash (StatefulSet, DaemonSet), the StatefulSet pod name and index, the
    Job's name and controller-uid labels."""
    name = workload.name
    if workload.kind == "Deployment":
        return {"pod-template-hash": None}
    if workload.kind == "StatefulSet":
        try:
            count = int(workload.spec.get("replicas", 1))
        except (TypeError, ValueError):
            count = 1
        ordinals = range(max(count, 0))
        return {
            "controller-revision-hash": None,
            "statefulset.kubernetes.io/pod-name": frozenset(f"{name}-{i}" for i in ordinals),
            "apps.kubernetes.io/pod-index": frozenset(str(i) for i in ordinals),
        }
    if workload.kind == "DaemonSet":
        return {"controller-revision-hash": None, "pod-template-generation": None}
    if workload.kind in ("Job", "CronJob"):
        job_name = frozenset({name}) if workload.kind == "Job" else None
        return {
            "controller-uid": None,
            "batch.kubernetes.io/controller-uid": None,
            "job-name": job_name,
            "batch.kubernetes.io/job-name": job_name,
        }
    return {}


def selector_matches(
    selector: Any, labels: dict[str, str], generated: GeneratedLabels | None = None
) -> bool:
    """A Kubernetes LabelSelector (matchLabels + matchExpressions) against labels.

    policy/v1 semantics for PDBs: an empty selector ``{}`` matches everything; ``None`` (or a
    selector of the wrong shape) nothing. ``generated``: labels the pods' controller adds (see
    :func:`controller_labels`); a selector on one matches some of those pods.
    """
    if not valid_label_selector(selector):
        return False
    extra = {k: v for k, v in (generated or {}).items() if k not in labels}

    def has(key: Any, value: Any) -> bool:
        if key in labels:
            return bool(labels[key] == value)
        if key in extra:
            values = extra[key]
            return values is None or value in values
        return False

    for key, value in (selector.get("matchLabels") or {}).items():
        if not has(key, value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        present = key in labels or key in extra
        if operator == "In" and not any(has(key, v) for v in values):
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def run_rules(ctx: CheckContext, rules: Iterable[Rule]) -> Iterator[tuple[Rule, Hit]]:
    for registered in rules:
        if registered.func is None:
            continue
        for hit in registered.func(ctx):
            yield registered, hit


def to_finding(registered: Rule, hit: Hit, severity: Severity) -> Finding:
    resource = hit.resource
    return Finding(
        env=resource.env if resource else hit.env,
        service=resource.service if resource else hit.service,
        rule=registered.id,
        resource=str(resource.key) if resource else "",
        message=hit.message,
        severity=severity,
        source=(resource.source if resource else None) or hit.source,
        patches=resource.patches if resource else (),
    )
