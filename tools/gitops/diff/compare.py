"""The whole comparison: two Snapshots (gitops.snapshot), one per side, compared object by object.

Each side is one Workspace (the caller's tools over that side's checkout) and one Snapshot:
the changed overlays and every overlay a change can reach through object relations (the rest
of the changed overlays' envs, the changed services in the other envs, every overlay when
argocd/ changes) rendered once, through the cache, parsed once. The changed overlays' objects
are compared; the findings of ``gitops check`` over the whole selection are compared, and each
finding added or fixed names the overlay it lands in and the changed overlay that caused it.
"""

from __future__ import annotations

import contextlib
import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.check import check_snapshot, locate_findings
from gitops.config import CONFIG_FILE
from gitops.diff.findings import compare_findings, landing_namespaces, lands_in
from gitops.diff.options import ARGOCD_SERVICE, DEFAULT_CONTEXT
from gitops.diff.resources import ResourceChange, ResourceMap, compare_resources
from gitops.diff.result import DiffResult
from gitops.diff.select import AffectedOverlay, SideRef, SideState, affected_overlays, load_side
from gitops.errors import GitopsError
from gitops.gitworktree import (
    changed_files,
    default_base,
    detached_checkout,
    git_toplevel,
    resolve_ref,
)
from gitops.model import Finding, ResourceKey
from gitops.render import RenderedOverlay
from gitops.snapshot import Snapshot, take_snapshot
from gitops.workspace import Workspace


def argocd_resources(snapshot: Snapshot) -> tuple[ResourceMap, str | None]:
    """The objects under argocd/ plus the Applications the ApplicationSets generate, keyed like
    overlay resources under service ``argocd``; or the error that stopped the expansion."""
    argo = snapshot.argocd
    if argo is None:
        return {}, None
    if argo.error is not None:
        return {}, str(argo.error)
    resources: ResourceMap = {}
    for obj in argo.objects:
        if obj.get("kind") != "Application":  # Applications come from the expansion below
            resources[("", ARGOCD_SERVICE, ResourceKey.of(obj))] = copy.deepcopy(obj)
    for app in argo.applications:
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": app.name},
            "spec": app.spec,
            "generatedBy": app.generated_by,
        }
        resources[("", ARGOCD_SERVICE, ResourceKey.of(body))] = body
    return resources, None


def run_diff(
    workspace: Workspace,
    base: str | None = None,
    head: str | None = None,
    context: int = DEFAULT_CONTEXT,
) -> DiffResult:
    """Compare ``base`` (default: merge-base with origin/main or main) with ``head`` (default:
    the working tree, uncommitted changes included) of the workspace's repository, with its
    tools (binary, runner, cache, validator) on both sides. Never writes to the repository."""
    repo = workspace.repo
    _toplevel, prefix = git_toplevel(repo)
    head_sha = resolve_ref(repo, head) if head is not None else None
    if base is None:
        label, base_sha = default_base(repo, head_sha or "HEAD")
        base_ref = SideRef(label, base_sha)
    else:
        base_ref = SideRef(base, resolve_ref(repo, base))
    head_ref = SideRef(head, head_sha) if head is not None else SideRef("working tree", None)
    changed = changed_files(repo, base_ref.sha or "", head_sha)
    with contextlib.ExitStack() as stack:
        base_root = stack.enter_context(detached_checkout(repo, base_ref.sha or "", prefix))
        head_root = (
            stack.enter_context(detached_checkout(repo, head_sha, prefix)) if head_sha else repo
        )
        sides = (load_side("base", base_root, workspace), load_side("head", head_root, workspace))
        return _compare((base_ref, head_ref), sides, changed, context)


# Over six parameters: the docstring says why (one per option, no hidden state).
def compare_trees(
    workspace: Workspace,
    base_root: Path,
    head_root: Path,
    changed: set[str],
    labels: tuple[str, str],
    context: int = DEFAULT_CONTEXT,
) -> DiffResult:
    """The same comparison as :func:`run_diff`, between two directory trees instead of git
    refs; ``changed`` lists the repo-relative files that differ (``gitops promote --dry-run``
    compares the repository with an edited copy of it). Six parameters: the tools, the two
    trees, what differs, their labels and the diff context."""
    sides = (load_side("base", base_root, workspace), load_side("head", head_root, workspace))
    refs = (SideRef(labels[0], None), SideRef(labels[1], None))
    return _compare(refs, sides, changed, context)


@dataclass(frozen=True)
class _Plan:
    """What both sides render and check, decided before either renders."""

    affected: tuple[AffectedOverlay, ...]  # the changed overlays: compared object by object
    reached: frozenset[str]  # every overlay whose findings are compared (affected included)
    whole_envs: frozenset[str] | None  # envs reached whole (None: all); the rest in part
    argocd_changed: bool
    notes: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.affected]


@dataclass(frozen=True)
class _SideWork:
    """One side rendered (one Snapshot) and checked."""

    rendered: tuple[tuple[str, RenderedOverlay | None], ...] = ()  # affected overlay -> render
    argo: ResourceMap = field(default_factory=dict)
    argo_error: str | None = None
    findings: tuple[Finding, ...] = ()
    namespaces: dict[str, frozenset[str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    snapshot: Snapshot | None = None  # to locate the findings the comparison reports

    def located(self, findings: list[Finding]) -> list[Finding]:
        if self.snapshot is None or not findings:
            return findings
        return sorted(locate_findings(self.snapshot, findings))


def _compare(
    refs: tuple[SideRef, SideRef],
    sides: tuple[SideState, SideState],
    changed: set[str],
    context: int,
) -> DiffResult:
    base, head = sides
    if base.config is None or head.config is None:
        errors = [
            ResourceChange("", "", "render-error", None, side=s.name, message=s.error or "")
            for s in sides
            if s.error
        ]
        note = "gitops.yaml does not load on one side: nothing was compared"
        return DiffResult(*refs, (), (), tuple(errors), (), (), notes=(note,))
    plan = _plan(base, head, changed)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="diff-side") as pool:
        base_work, head_work = pool.map(lambda s: _side_work(s, plan), sides)
    notes = [*plan.notes, *base_work.notes, *head_work.notes]
    changes, objects = _overlay_changes(plan.names, base_work, head_work, context)
    if plan.argocd_changed:
        changes += _argocd_changes(base_work, head_work, context)
    base_findings, head_findings = list(base_work.findings), list(head_work.findings)
    broken = {c.overlay for c in changes if c.action == "render-error"}
    if broken:
        # An overlay that does not render on one side has no findings there: its other findings
        # would read as "fixed" (or "added") when they are only unknown.
        base_findings = _without_unrendered(base_findings, broken)
        head_findings = _without_unrendered(head_findings, broken)
        notes.append(
            "findings other than render-failed are not compared for "
            f"{', '.join(sorted(broken))}: it does not render on one side"
        )
    added, fixed = compare_findings(base_findings, head_findings)
    added, fixed = head_work.located(added), base_work.located(fixed)
    namespaces = {**base_work.namespaces}
    for name, found in head_work.namespaces.items():
        namespaces[name] = namespaces.get(name, frozenset()) | found
    causes = Causes(tuple(plan.names), plan.argocd_changed, CONFIG_FILE in changed, namespaces)
    order = sorted(set(base.overlays.values()) | set(head.overlays.values()))
    return DiffResult(
        base=refs[0],
        head=refs[1],
        rendered_base=tuple(name for name, _ in base_work.rendered),
        rendered_head=tuple(name for name, _ in head_work.rendered),
        changes=tuple(_sorted_changes(changes, [o.name for o in order])),
        findings_added=tuple(added),
        findings_fixed=tuple(fixed),
        caused_by={f: causes.cause_of(f) for f in (*added, *fixed)},
        affected=plan.affected,
        argocd_compared=plan.argocd_changed,
        notes=tuple(notes),
        overlay_order=tuple(dict.fromkeys(o.name for o in order)),
        checked=tuple(n for n in dict.fromkeys(o.name for o in order) if n in plan.reached),
        objects=objects,
    )


def _plan(base: SideState, head: SideState, changed: set[str]) -> _Plan:
    assert head.config is not None
    affected = affected_overlays(base, head, changed)
    names = [a.name for a in affected]
    argocd_path = head.config.argocd_path.rstrip("/") + "/"
    argocd_changed = any(p.startswith(argocd_path) or p == CONFIG_FILE for p in changed) or set(
        base.overlays
    ) != set(head.overlays)
    notes = []
    remote = sorted(set().union(*(head.inputs[n].remote for n in names if n in head.inputs)))
    if remote:
        notes.append(
            "remote bases are not compared for changes (only re-rendered with the "
            f"overlays that use them): {', '.join(remote)}"
        )
    reached = _reached(base, head, names, argocd_changed)
    whole = None if argocd_changed else frozenset(n.split("/", 1)[0] for n in names)
    return _Plan(tuple(affected), reached, whole, argocd_changed, tuple(notes))


def _reached(
    base: SideState, head: SideState, names: list[str], argocd_changed: bool
) -> frozenset[str]:
    """The overlays a change can affect through object relations: the changed ones, every
    overlay of their envs (a rule relates objects of one env and namespace: Ingress backends,
    ServiceMonitor ports, NetworkPolicy peers, PDB and HPA targets), their services in the other
    envs (rules comparing envs, env-regression) and, when argocd/ changed, every overlay (the
    Argo CD app set: projects, destinations, coverage)."""
    every = set(base.overlays) | set(head.overlays)
    if argocd_changed:
        return frozenset(every)
    envs = {n.split("/", 1)[0] for n in names}
    services = {n.split("/", 1)[1] for n in names}
    return frozenset(
        n for n in every if n.split("/", 1)[0] in envs or n.split("/", 1)[1] in services
    )


def _side_work(side: SideState, plan: _Plan) -> _SideWork:
    """One Snapshot of the side: each reached overlay rendered once (traced), argocd/ built
    once; the changed overlays' objects, its Argo CD objects and its check findings all come
    from it."""
    assert side.workspace is not None
    overlays = [side.overlays[n] for n in plan.names if n in side.overlays]
    if not plan.reached and not plan.argocd_changed:
        return _SideWork()
    snapshot = take_snapshot(side.workspace, keep=lambda o: o.name in plan.reached, also=overlays)
    argo, argo_error = argocd_resources(snapshot) if plan.argocd_changed else ({}, None)
    findings: list[Finding] = []
    notes: list[str] = []
    try:
        report = check_snapshot(snapshot, whole_envs=plan.whole_envs, locate=False)
        findings = list(report.findings)
    except GitopsError as exc:
        notes.append(f"{side.name}: findings could not be computed: {exc}")
    return _SideWork(
        tuple((o.name, snapshot.render_of(o.key)) for o in overlays),
        argo,
        argo_error,
        tuple(findings),
        landing_namespaces(snapshot),
        tuple(notes),
        snapshot,
    )


@dataclass(frozen=True)
class Causes:
    """Which changed overlay caused a finding that lands in another overlay."""

    changed: tuple[str, ...]
    argocd_changed: bool
    config_changed: bool
    namespaces: dict[str, frozenset[str]]  # overlay -> namespaces its objects land in

    def cause_of(self, finding: Finding) -> tuple[str, ...]:
        """The changed overlay in the finding's own overlay, else those sharing a namespace
        with it in its env, else any of its env, else its service's in other envs, else argocd/
        (or gitops.yaml, which changes everything)."""
        lands = lands_in(finding)
        if lands in self.changed:
            return (lands,)
        if self.config_changed:
            return (CONFIG_FILE,)
        same_env = [c for c in self.changed if finding.env and c.split("/", 1)[0] == finding.env]
        mine = self.namespaces.get(lands, frozenset())
        shared = [c for c in same_env if self.namespaces.get(c, frozenset()) & mine]
        same_service = [c for c in self.changed if c.split("/", 1)[1] == finding.service]
        for candidates in (shared, same_env, same_service):
            if candidates:
                return tuple(candidates)
        if self.argocd_changed:
            return (ARGOCD_SERVICE,)
        return self.changed


Objects = dict[str, tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]]


def _overlay_changes(
    names: list[str], base: _SideWork, head: _SideWork, context: int
) -> tuple[list[ResourceChange], Objects]:
    """Each affected overlay compared, or its render errors; and the objects of each compared
    overlay (base, head): input to the Behaviour section."""
    changes: list[ResourceChange] = []
    objects: Objects = {}
    by_name = {"base": dict(base.rendered), "head": dict(head.rendered)}
    for name in names:
        env, service = name.split("/", 1)
        maps: dict[str, ResourceMap] = {}
        for side_name, renders in by_name.items():
            parsed = _resource_map(env, service, side_name, renders.get(name))
            if isinstance(parsed, ResourceChange):
                changes.append(parsed)
            else:
                maps[side_name] = parsed
        if len(maps) == 2:
            changes.extend(compare_resources(maps["base"], maps["head"], context))
            objects[name] = (tuple(maps["base"].values()), tuple(maps["head"].values()))
    return changes, objects


def _resource_map(
    env: str, service: str, side_name: str, result: RenderedOverlay | None
) -> ResourceMap | ResourceChange:
    """The overlay's objects on one side, as the snapshot parsed them (none when it does not
    exist there), or the render error that stands in for them."""
    if result is None:
        return {}
    if not result.ok:
        message = result.error or "render failed"
        return ResourceChange(env, service, "render-error", None, side=side_name, message=message)
    if result.problems:
        message = f"unparseable output: {result.problems[0]}"
        return ResourceChange(env, service, "render-error", None, side=side_name, message=message)
    return {(env, service, r.key): r.body for r in result.resources}


def _argocd_changes(base: _SideWork, head: _SideWork, context: int) -> list[ResourceChange]:
    changes = [
        ResourceChange("", ARGOCD_SERVICE, "render-error", None, side=side_name, message=error)
        for side_name, error in (("base", base.argo_error), ("head", head.argo_error))
        if error
    ]
    if not changes:
        changes.extend(compare_resources(base.argo, head.argo, context))
    return changes


def _without_unrendered(findings: list[Finding], overlays: set[str]) -> list[Finding]:
    return [
        f for f in findings if f.rule == "render-failed" or f"{f.env}/{f.service}" not in overlays
    ]


_ACTION_ORDER = {"render-error": 0, "removed": 1, "changed": 2, "added": 3}


def _sorted_changes(
    changes: list[ResourceChange], overlay_order: list[str]
) -> list[ResourceChange]:
    order = {name: i for i, name in enumerate(overlay_order)}
    return sorted(
        changes,
        key=lambda c: (
            order.get(c.overlay, len(order)),
            c.overlay,
            _ACTION_ORDER[c.action],
            c.key or ResourceKey("", "", "", ""),
            c.side,
        ),
    )
