"""The policy engine: the rule decorator, the context rules see, and how hits become findings.

A rule is a generator decorated with :func:`rule`; its docstring says why it matters (the first
line becomes its entry in ``docs/rules.md``), and the decorator declares the kinds it applies
to, how to fix a finding and the ``gitops.yaml`` keys that tune it. A function of ``(ctx,
resource)`` is a single-resource rule: the engine hands it only resources of its kinds. A
function of ``(ctx)`` relates resources to each other (through ``ctx.relations``). It yields
:class:`Hit` objects; the engine turns them into :class:`~gitops.model.Finding` with the
severity configured for the env.

    @rule("probe-port-unknown", kinds=POD_KINDS, remediation="Declare the port name ...")
    def probe_port_unknown(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
        \"\"\"A probe uses a named port that its container does not declare. ...\"\"\"
        for container in containers(workload):
            ...
            yield Hit('container web: readinessProbe port "http" is not declared', workload)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from gitops.argocd import Application
from gitops.config import RepoConfig
from gitops.k8s import (
    WORKLOAD_KINDS,
    GeneratedLabels,
    Relations,
    generated_labels,
    selector_matches,
    spec_containers,
    template_of,
    valid_label_selector,
)
from gitops.k8s.operators import operator_objects
from gitops.model import FieldPath, Finding, Overlay, Resource, Severity

__all__ = [
    "COMMON_PARAMS",
    "WORKLOAD_KINDS",
    "CheckContext",
    "GeneratedLabels",
    "Hit",
    "Param",
    "Rule",
    "containers",
    "controller_labels",
    "field_path",
    "pipeline_rule",
    "pod_labels",
    "pod_spec",
    "pod_template",
    "rule",
    "run_rule",
    "run_rules",
    "selector_matches",
    "to_finding",
    "valid_label_selector",
]


@dataclass(frozen=True)
class Hit:
    """One violation found by a rule: about a resource, or about a file (``source``)."""

    message: str
    resource: Resource | None = None
    env: str = ""
    service: str = ""
    source: str | None = None
    # The value of ``resource`` the rule read (gitops.model.FieldPath; see field_path): the
    # finding is shown on the line that set it.
    field: FieldPath = ()


def field_path(resource: Resource, node: object, *rest: str | int) -> FieldPath:
    """The path from the resource's body to ``node`` (an object inside it, found by
    identity), then ``rest``: ``field_path(workload, container, "image")`` ->
    ``("spec", "template", "spec", "containers", 0, "image")``. Empty when ``node`` is not in
    the body."""
    stack: list[tuple[object, FieldPath]] = [(resource.body, ())]
    while stack:
        current, path = stack.pop()
        if current is node:
            return (*path, *rest)
        if isinstance(current, dict):
            stack.extend((v, (*path, k)) for k, v in current.items() if isinstance(k, str))
        elif isinstance(current, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(current))
    return ()


RuleFunc = Callable[["CheckContext"], Iterable[Hit]]
# A single-resource rule: called once per resource of its declared kinds.
ResourceRuleFunc = Callable[["CheckContext", Resource], Iterable[Hit]]
AnyRuleFunc = RuleFunc | ResourceRuleFunc


@dataclass(frozen=True)
class Param:
    """A ``gitops.yaml`` key that tunes a rule (listed in docs/rules.md)."""

    key: str  # "policy.pdbRequiredEnvs"
    doc: str


# Keys that tune every rule; each rule's entry lists them after its own.
COMMON_PARAMS = (
    Param("policy.severity.<rule>", "error, warning or off, for all envs or per env"),
    Param("policy/waivers.yaml", "waives one finding, with an owner and an expiry date"),
)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    func: AnyRuleFunc | None  # None for rules the pipeline itself emits (render-failed, schema...)
    doc: str
    module: str
    # The kinds the rule looks at (documentation; for single-resource rules also the filter
    # the engine applies). Empty: not about particular kinds (files, whole envs).
    kinds: tuple[str, ...] = ()
    remediation: str = ""  # how to fix a finding
    params: tuple[Param, ...] = ()  # its own tuning keys (beyond COMMON_PARAMS)
    per_resource: bool = False  # func takes (ctx, resource) and sees only resources of kinds

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


_REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    severity: Severity = Severity.ERROR,
    *,
    kinds: tuple[str, ...] = (),
    remediation: str = "",
    params: tuple[Param, ...] = (),
) -> Callable[[Any], Any]:
    """Register a rule. A function of ``(ctx)`` sees the whole check; a function of
    ``(ctx, resource)`` is a single-resource rule, which the engine calls once for each
    rendered resource of ``kinds`` (those are required then)."""

    def register(func: Any) -> Any:
        per_resource = len(inspect.signature(func).parameters) == 2
        if per_resource and not kinds:
            raise ValueError(f"rule {rule_id}: a single-resource rule must declare its kinds")
        _register(
            Rule(
                rule_id,
                severity,
                func,
                func.__doc__ or "",
                func.__module__,
                kinds=tuple(kinds),
                remediation=remediation,
                params=tuple(params),
                per_resource=per_resource,
            )
        )
        return func

    return register


def pipeline_rule(
    rule_id: str,
    doc: str,
    severity: Severity = Severity.ERROR,
    *,
    remediation: str = "",
    params: tuple[Param, ...] = (),
) -> None:
    """Declare a rule whose findings the check pipeline emits directly."""
    _register(
        Rule(
            rule_id,
            severity,
            None,
            doc,
            "gitops.policy.pipeline",
            remediation=remediation,
            params=tuple(params),
        )
    )


def _register(registered: Rule) -> None:
    rule_id = registered.id
    if rule_id in _REGISTRY and _REGISTRY[rule_id].func is not registered.func:
        raise ValueError(f"rule {rule_id} registered twice")
    if not registered.doc.strip():
        raise ValueError(f"rule {rule_id} has no docstring saying why it matters")
    _REGISTRY[rule_id] = registered


def registered_rules() -> list[Rule]:
    """Every rule registered so far, in registration order (gitops.policy imports the rule
    modules and orders them)."""
    return list(_REGISTRY.values())


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
    # The envs selected whole (not narrowed to some services by --service or by diff's
    # reach); None: every selected env is whole.
    whole_envs: frozenset[str] | None = None
    # kube-apiserver's own code judged the objects (gitops.upstream): its verdicts are the
    # schema-api findings, so rules that restate API-server validation (hpa-bounds,
    # probe-invalid) leave it to them.
    api_judged_upstream: bool = False
    # Notes for the report's header (not findings): what a rule could not judge and why.
    notes: list[str] = field(default_factory=list)
    _by_env: dict[str, list[Resource]] = field(default_factory=dict, repr=False)
    _relations: Relations | None = field(default=None, repr=False)
    _operator_made: list[Resource] | None = field(default=None, repr=False)

    @property
    def relations(self) -> Relations:
        """The relation index over :attr:`resources` and :attr:`operator_made`, built on first
        use: a selector that matches an operator's pods matches something that will exist."""
        if self._relations is None:
            self._relations = Relations(
                [*self.resources, *self.operator_made], self._destination_namespace
            )
        return self._relations

    @property
    def operator_made(self) -> list[Resource]:
        """What known operators create from the rendered resources (the Prometheus Operator's
        StatefulSets and Services, :mod:`gitops.k8s.operators`); rules relate to them but never
        check them."""
        if self._operator_made is None:
            self._operator_made = operator_objects(self.resources)
        return self._operator_made

    def note(self, text: str) -> None:
        """Add a note for the report's header, once."""
        if text not in self.notes:
            self.notes.append(text)

    def _destination_namespace(self, resource: Resource) -> str:
        app = self.application_for(resource)
        return str(app.destination.get("namespace") or "") if app is not None else ""

    def namespace_of(self, resource: Resource) -> str:
        """Where the resource lands: its own namespace, else its Application's destination."""
        return self.relations.namespace_of(resource)

    def in_env(self, env: str) -> list[Resource]:
        if not self._by_env:
            for resource in self.resources:
                self._by_env.setdefault(resource.env, []).append(resource)
        return self._by_env.get(env, [])

    def env_selected(self, env: str) -> bool:
        """Whether ``env`` was selected whole, so that an object "not found" in it does not
        exist rather than was not looked at."""
        whole = self.whole_envs is None or env in self.whole_envs
        return whole and any(o.env == env for o in self.overlays)

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
        """The Application that syncs the resource's unit: its path, or for a chart source
        (one chart may serve several Applications) its path and name."""
        for app in self.applications:
            if resource.overlay_path in (app.path, f"{app.path}@{app.name}"):
                return app
        return None


# --- helpers shared by rule modules -------------------------------------------------------
# Thin Resource-taking wrappers over the object layer (gitops.k8s), which owns the semantics.


def pod_template(workload: Resource) -> dict[str, Any]:
    """The pod template of a workload (CronJob: through its jobTemplate; a bare Pod is its own
    template)."""
    return template_of(workload.kind, workload.spec, workload.metadata)


def pod_spec(workload: Resource) -> dict[str, Any]:
    spec = pod_template(workload).get("spec")
    return spec if isinstance(spec, dict) else {}


def pod_labels(workload: Resource) -> dict[str, str]:
    metadata = pod_template(workload).get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return labels if isinstance(labels, dict) else {}


def containers(workload: Resource, init: bool = False) -> list[dict[str, Any]]:
    """The app containers (``init``: then the init containers, sidecars included)."""
    lists = ("containers", "initContainers") if init else ("containers",)
    return spec_containers(pod_spec(workload), lists)


def controller_labels(workload: Resource) -> dict[str, frozenset[str] | None]:
    """Labels the workload's controller adds to its pods (see
    :func:`gitops.k8s.generated_labels`)."""
    return generated_labels(workload.body)


def run_rules(ctx: CheckContext, rules: Iterable[Rule]) -> Iterator[tuple[Rule, Hit]]:
    for registered in rules:
        for hit in run_rule(ctx, registered):
            yield registered, hit


def run_rule(ctx: CheckContext, registered: Rule) -> Iterator[Hit]:
    """The rule's hits: a single-resource rule only sees the rendered resources (and the Argo
    CD objects) of its kinds."""
    func = registered.func
    if func is None:
        return
    if not registered.per_resource:
        yield from cast(RuleFunc, func)(ctx)
        return
    per_resource = cast(ResourceRuleFunc, func)
    for resource in ctx.of_kind(*registered.kinds):
        yield from per_resource(ctx, resource)
    for resource in ctx.argocd_resources:
        if resource.kind in registered.kinds:
            yield from per_resource(ctx, resource)


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
        field=hit.field,
    )
