"""``gitops diff``: what a change does to the rendered manifests and to the policy findings.

The base side is checked out in a temporary git worktree; the head side is the working tree (or
a second worktree). Only overlays whose kustomize inputs changed are rendered, on both sides;
their resources are matched by (env, service, apiVersion/kind, namespace, name) and compared as
normalised YAML; ``gitops check`` runs on the services involved and its findings are reported as
added or fixed by the change. Secret values never reach any output: they are compared by hash.

    >>> result = run_diff(repo, base="origin/main")
    >>> [(c.action, c.overlay, c.key.short()) for c in result.changes if c.key]
    [('changed', 'prod/web', 'ConfigMap/web')]
    >>> print(format_markdown(result, max_bytes=60_000))
"""

from __future__ import annotations

import base64
import contextlib
import copy
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from gitops.config import CONFIG_FILE, RepoConfig, load_config
from gitops.discovery import Overlay, discover_overlays
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, GitopsError
from gitops.gitworktree import (
    changed_files,
    default_base,
    detached_checkout,
    git_toplevel,
    resolve_ref,
)
from gitops.inputs import InputResolver, InputSet
from gitops.kustomize import Kustomize
from gitops.model import Finding, ResourceKey
from gitops.snapshot import Snapshot, take_snapshot
from gitops.tracing import ORIGIN, TRANSFORMATIONS
from gitops.workspace import Workspace

FORMATS = ("text", "markdown", "json")
DEFAULT_CONTEXT = 3
DEFAULT_MAX_BYTES = 60_000  # GitHub rejects comments above 65,536 characters
MIN_MAX_BYTES = 2_000
# Hidden first line of the markdown report: the PR workflow finds its previous comment by it.
MARKDOWN_MARKER = "<!-- gitops-diff -->"
ARGOCD_SERVICE = "argocd"

DocumentValidator = Callable[[dict[str, Any]], list[str]]


# --- one side of the comparison -----------------------------------------------------------------


@dataclass(frozen=True)
class SideRef:
    label: str  # what the user asked for: "origin/main", "merge-base(HEAD, origin/main)", ...
    sha: str | None  # None: the working tree

    def describe(self) -> str:
        return f"{self.label} ({self.sha[:12]})" if self.sha else self.label


@dataclass
class SideState:
    """What one side knows before rendering: its config, overlays and their inputs."""

    name: str  # "base" or "head"
    root: Path
    config: RepoConfig | None
    overlays: dict[str, Overlay] = field(default_factory=dict)  # "<env>/<service>" -> overlay
    inputs: dict[str, InputSet] = field(default_factory=dict)
    error: str | None = None  # gitops.yaml unreadable on this side


def load_side(name: str, root: Path) -> SideState:
    try:
        config = load_config(root)
    except GitopsError as exc:
        return SideState(name, root, None, error=str(exc))
    side = SideState(name, root, config)
    resolver = InputResolver(root)
    for overlay in discover_overlays(root, config).overlays:
        side.overlays[overlay.name] = overlay
        side.inputs[overlay.name] = resolver.overlay_inputs(overlay.rel_path)
    return side


@dataclass(frozen=True)
class AffectedOverlay:
    name: str  # "<env>/<service>"
    reason: str  # why it is rendered: the first changed input, "added", "unresolved input"...


def affected_overlays(base: SideState, head: SideState, changed: set[str]) -> list[AffectedOverlay]:
    """Overlays to render: one of their inputs (on either side) changed, they exist on one side
    only, their inputs cannot be resolved, or ``gitops.yaml`` (envs, build options) changed."""
    config_changed = CONFIG_FILE in changed
    names = sorted(
        set(base.overlays) | set(head.overlays),
        key=lambda n: head.overlays.get(n) or base.overlays[n],
    )
    affected = []
    for name in names:
        if name not in base.overlays:
            affected.append(AffectedOverlay(name, "overlay added"))
            continue
        if name not in head.overlays:
            affected.append(AffectedOverlay(name, "overlay removed"))
            continue
        if config_changed:
            affected.append(AffectedOverlay(name, f"{CONFIG_FILE} changed"))
            continue
        inputs = base.inputs[name].union(head.inputs[name])
        if inputs.unresolved:
            affected.append(AffectedOverlay(name, f"input not resolvable: {inputs.unresolved[0]}"))
            continue
        hits = inputs.touched_by(changed)
        if hits:
            more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
            affected.append(AffectedOverlay(name, f"{hits[0]} changed{more}"))
    return affected


# --- resources: parse, normalise, redact Secrets, compare ----------------------------------------

REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted, value changed>"
_SECRET_FIELDS = ("data", "stringData")
# kustomize's name suffix for generated ConfigMaps/Secrets: a 10-char hash in its own alphabet.
_GENERATED_SUFFIX = re.compile(r"-[bcdfghkmt2-9]{10}$")


@dataclass(frozen=True)
class SecretKeyChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
        }

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(keys)}"
            for label, keys in (
                ("keys added", self.added),
                ("keys removed", self.removed),
                ("values changed", self.changed),
            )
            if keys
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class ResourceChange:
    """One line of the diff: a resource added/removed/changed, or an overlay that failed to
    render on one side (``action == "render-error"``, ``key`` None)."""

    env: str
    service: str
    action: str  # "added" | "removed" | "changed" | "render-error"
    key: ResourceKey | None
    diff: str = ""  # unified diff of the normalised, redacted YAML
    secret: SecretKeyChanges | None = None
    side: str = ""  # render-error: "base" or "head"
    message: str = ""  # render-error: the one-line error

    @property
    def overlay(self) -> str:
        return f"{self.env}/{self.service}" if self.env else self.service

    def title(self) -> str:
        if self.key is None:
            return f"{self.overlay}: render error on {self.side}"
        return f"{self.overlay}: {self.action} {self.key.short()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "service": self.service,
            "action": self.action,
            "apiVersion": self.key.api_version if self.key else None,
            "kind": self.key.kind if self.key else None,
            "namespace": self.key.namespace if self.key else None,
            "name": self.key.name if self.key else None,
            "diff": self.diff,
            "secretKeys": self.secret.to_json() if self.secret else None,
            "side": self.side or None,
            "message": self.message or None,
        }


ResourceMap = dict[tuple[str, str, ResourceKey], dict[str, Any]]


def parse_manifest(env: str, service: str, manifest: str) -> ResourceMap:
    resources: ResourceMap = {}
    for body in yaml.safe_load_all(manifest):
        if isinstance(body, dict):
            resources[(env, service, resource_key(body))] = body
    return resources


def strip_build_metadata(resources: ResourceMap) -> ResourceMap:
    """Resources of a traced render (gitops.snapshot) as the plain build prints them: kustomize's
    build-metadata annotations removed (and the annotations map, when they were all it had)."""
    for body in resources.values():
        metadata = body.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if isinstance(metadata, dict) and isinstance(annotations, dict):
            annotations.pop(ORIGIN, None)
            annotations.pop(TRANSFORMATIONS, None)
            if not annotations:
                del metadata["annotations"]
    return resources


def resource_key(body: dict[str, Any]) -> ResourceKey:
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    return ResourceKey(
        str(body.get("apiVersion", "")),
        str(body.get("kind", "")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name") or ""),
    )


def _is_secret(body: dict[str, Any]) -> bool:
    return body.get("kind") == "Secret" and str(body.get("apiVersion", "")) == "v1"


def secret_value_hashes(body: dict[str, Any]) -> dict[str, str]:
    """``"data.KEY"`` / ``"stringData.KEY"`` -> sha256 of the decoded value. Hashes are only ever
    compared, never printed: an unsalted hash of a short password is as good as the password."""
    hashes: dict[str, str] = {}
    for section in _SECRET_FIELDS:
        values = body.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            raw = str(value if value is not None else "").encode()
            if section == "data":
                with contextlib.suppress(ValueError):
                    raw = base64.b64decode(raw, validate=True)
            hashes[f"{section}.{key}"] = hashlib.sha256(raw).hexdigest()
    return hashes


def redact_secret(body: dict[str, Any], changed: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of a Secret whose values are placeholders; the ``changed`` keys read differently so
    the unified diff still shows which value changed."""
    if not _is_secret(body):
        return body
    changed = set(changed)
    redacted = copy.deepcopy(body)
    for section in _SECRET_FIELDS:
        values = redacted.get(section)
        if isinstance(values, dict):
            for key in values:
                values[key] = REDACTED_CHANGED if f"{section}.{key}" in changed else REDACTED
    annotations = (redacted.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for name in list(annotations):
            if name == "kubectl.kubernetes.io/last-applied-configuration":
                annotations[name] = REDACTED
    return redacted


class _NormalDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def normalise(body: dict[str, Any]) -> str:
    """Stable YAML: sorted keys, block style, no anchors, no line folding."""
    return yaml.dump(
        body,
        Dumper=_NormalDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )


def _unified(before: str, after: str, label: str, context: int) -> str:
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=f"base/{label}",
        tofile=f"head/{label}",
        n=context,
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def compare_resources(base: ResourceMap, head: ResourceMap, context: int) -> list[ResourceChange]:
    """Added, removed and changed resources between two maps (Secrets redacted)."""
    removed_keys = [k for k in base if k not in head]
    added_keys = [k for k in head if k not in base]
    pairs = [(k, k) for k in base if k in head]
    # A generated ConfigMap/Secret whose content changed also changed its hash suffix: pair it
    # with its predecessor so the reader sees one change, not an unrelated add and remove.
    by_stem = {(_stem(k)): k for k in removed_keys}
    for added in list(added_keys):
        predecessor = by_stem.pop(_stem(added), None)
        if predecessor is not None and predecessor in removed_keys:
            removed_keys.remove(predecessor)
            added_keys.remove(added)
            pairs.append((predecessor, added))
    changes = []
    for base_key, head_key in pairs:
        change = _changed(base[base_key], head_key, head[head_key], context)
        if change is not None:
            changes.append(change)
    for key in removed_keys:
        body = redact_secret(base[key])
        changes.append(
            _whole("removed", key, normalise(body), "", context, _keys_of(base[key], False))
        )
    for key in added_keys:
        body = redact_secret(head[key])
        changes.append(
            _whole("added", key, "", normalise(body), context, _keys_of(head[key], True))
        )
    return changes


def _stem(key: tuple[str, str, ResourceKey]) -> tuple[str, str, str, str, str, str]:
    env, service, rk = key
    return (env, service, rk.api_version, rk.kind, rk.namespace, _GENERATED_SUFFIX.sub("", rk.name))


def _keys_of(body: dict[str, Any], added: bool) -> SecretKeyChanges | None:
    if not _is_secret(body):
        return None
    keys = tuple(sorted(k.split(".", 1)[1] for k in secret_value_hashes(body)))
    return SecretKeyChanges(added=keys) if added else SecretKeyChanges(removed=keys)


def _whole(
    action: str,
    key: tuple[str, str, ResourceKey],
    before: str,
    after: str,
    context: int,
    secret: SecretKeyChanges | None,
) -> ResourceChange:
    env, service, rk = key
    label = f"{env}/{service}/{rk.kind}/{rk.name}" if env else f"{service}/{rk.kind}/{rk.name}"
    return ResourceChange(env, service, action, rk, _unified(before, after, label, context), secret)


def _changed(
    base_body: dict[str, Any],
    head_key: tuple[str, str, ResourceKey],
    head_body: dict[str, Any],
    context: int,
) -> ResourceChange | None:
    secret = None
    if _is_secret(base_body) or _is_secret(head_body):
        before_hashes, after_hashes = secret_value_hashes(base_body), secret_value_hashes(head_body)
        changed = {
            k
            for k in before_hashes.keys() & after_hashes.keys()
            if before_hashes[k] != after_hashes[k]
        }
        secret = SecretKeyChanges(
            added=tuple(
                sorted(k.split(".", 1)[1] for k in after_hashes.keys() - before_hashes.keys())
            ),
            removed=tuple(
                sorted(k.split(".", 1)[1] for k in before_hashes.keys() - after_hashes.keys())
            ),
            changed=tuple(sorted(k.split(".", 1)[1] for k in changed)),
        )
        before, after = (
            normalise(redact_secret(base_body)),
            normalise(redact_secret(head_body, changed)),
        )
    else:
        before, after = normalise(base_body), normalise(head_body)
    if before == after:
        return None
    # Reported under the head name; the diff shows a re-hashed generated name changing.
    return _whole("changed", head_key, before, after, context, secret)


# --- findings ------------------------------------------------------------------------------------


def _finding_identity(finding: Finding) -> tuple[str, ...]:
    # source/patches are where a finding points, not what it is: they may move with a refactor.
    return (
        finding.env,
        finding.service,
        finding.rule,
        finding.resource,
        finding.message,
        str(finding.severity),
    )


def compare_findings(
    base: Iterable[Finding], head: Iterable[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """(added by the change, fixed by the change)."""
    base_ids = {_finding_identity(f): f for f in base}
    head_ids = {_finding_identity(f): f for f in head}
    added = [f for i, f in head_ids.items() if i not in base_ids]
    fixed = [f for i, f in base_ids.items() if i not in head_ids]
    return sorted(added), sorted(fixed)


def check_services(side: SideState, services: Iterable[str]) -> list[str | None]:
    """The services whose ``gitops check`` findings are compared: every env of each (rules may
    compare envs with each other, so a one-env change is checked against its siblings); one
    ``None`` when that is every service (Argo CD is then checked once, not per service)."""
    all_services = {o.service for o in side.overlays.values()}
    present: list[str | None] = [*sorted(all_services & set(services))]
    if len(present) > 1 and len(present) == len(all_services):
        present = [None]
    return present


def side_findings(
    side: SideState, snapshot: Snapshot, present: list[str | None]
) -> tuple[list[Finding], list[str]]:
    """The check findings of each of ``present`` out of one snapshot (nothing is rendered
    here); a check that cannot run becomes a note."""
    from gitops.check import check_snapshot
    from gitops.render import select_overlays

    findings: list[Finding] = []
    notes: list[str] = []
    for service in present:
        try:
            # An unknown service is reported as `gitops check --service` reports it.
            select_overlays(snapshot.discovery, snapshot.workspace.config, None, service)
            report = check_snapshot(snapshot, None, service, copy_bodies=len(present) > 1)
        except GitopsError as exc:
            scope = service or "all services"
            notes.append(f"{side.name}: findings for {scope} could not be computed: {exc}")
            continue
        findings.extend(report.findings)
    return findings, notes


# --- Argo CD ------------------------------------------------------------------------------------


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
            resources[("", ARGOCD_SERVICE, resource_key(obj))] = copy.deepcopy(obj)
    for app in argo.applications:
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": app.name},
            "spec": app.spec,
            "generatedBy": app.generated_by,
        }
        resources[("", ARGOCD_SERVICE, resource_key(body))] = body
    return resources, None


# --- the whole comparison -----------------------------------------------------------------------


@dataclass(frozen=True)
class DiffResult:
    base: SideRef
    head: SideRef
    rendered_base: tuple[str, ...]
    rendered_head: tuple[str, ...]
    changes: tuple[ResourceChange, ...]
    findings_added: tuple[Finding, ...]
    findings_fixed: tuple[Finding, ...]
    affected: tuple[AffectedOverlay, ...] = ()
    argocd_compared: bool = False
    notes: tuple[str, ...] = ()
    overlay_order: tuple[str, ...] = ()  # every overlay name, in env then service order
    # Parsed objects of each compared overlay (base, head): input to the Behaviour section.
    objects: dict[str, tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def has_differences(self) -> bool:
        return bool(self.changes or self.findings_added or self.findings_fixed)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per (env, service) with anything to report, in overlay order."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}

        def row(env: str, service: str) -> dict[str, Any]:
            return rows.setdefault(
                (env, service),
                {
                    "env": env,
                    "service": service,
                    "added": 0,
                    "changed": 0,
                    "removed": 0,
                    "renderErrors": 0,
                    "findingsAdded": 0,
                    "findingsFixed": 0,
                },
            )

        for change in self.changes:
            bucket = "renderErrors" if change.action == "render-error" else change.action
            row(change.env, change.service)[bucket] += 1
        for finding in self.findings_added:
            row(finding.env, finding.service)["findingsAdded"] += 1
        for finding in self.findings_fixed:
            row(finding.env, finding.service)["findingsFixed"] += 1
        order = {name: i for i, name in enumerate(self.overlay_order)}
        return sorted(
            rows.values(),
            key=lambda r: (
                order.get(f"{r['env']}/{r['service']}", len(order)),
                r["env"],
                r["service"],
            ),
        )


def run_diff(
    repo: Path,
    base: str | None = None,
    head: str | None = None,
    context: int = DEFAULT_CONTEXT,
    validator: DocumentValidator | None = None,
    kustomize: Kustomize | None = None,
    workspace: Workspace | None = None,
) -> DiffResult:
    """Compare ``base`` (default: merge-base with origin/main or main) with ``head`` (default:
    the working tree, uncommitted changes included). Never writes to ``repo``. ``workspace``
    (the CLI's) supplies kustomize, runner, cache setting and validator for both sides;
    without it one is opened from ``kustomize`` and ``validator``."""
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
        return _compare(
            base_ref,
            head_ref,
            base_root,
            head_root,
            changed,
            context,
            _opener(workspace, validator, kustomize),
        )


def _compare(
    base_ref: SideRef,
    head_ref: SideRef,
    base_root: Path,
    head_root: Path,
    changed: set[str],
    context: int,
    open_workspace: WorkspaceOpener,
) -> DiffResult:
    """Seven parameters: the two sides (ref and tree each), what changed, and the options."""
    base, head = load_side("base", base_root), load_side("head", head_root)
    notes: list[str] = []
    if base.config is None or head.config is None:
        errors = [
            ResourceChange("", "", "render-error", None, side=s.name, message=s.error or "")
            for s in (base, head)
            if s.error
        ]
        return DiffResult(
            base_ref,
            head_ref,
            (),
            (),
            tuple(errors),
            (),
            (),
            notes=("gitops.yaml does not load on one side: nothing was compared",),
        )
    workspace = open_workspace(head.root, head.config)
    affected = affected_overlays(base, head, changed)
    names = [a.name for a in affected]
    argocd_path = head.config.argocd_path.rstrip("/") + "/"
    argocd_changed = any(p.startswith(argocd_path) or p == CONFIG_FILE for p in changed) or set(
        base.overlays
    ) != set(head.overlays)
    remote = sorted(set().union(*(head.inputs[n].remote for n in names if n in head.inputs)))
    if remote:
        notes.append(
            "remote bases are not compared for changes (only re-rendered with the "
            f"overlays that use them): {', '.join(remote)}"
        )
    services = {name.split("/", 1)[1] for name in names}
    if argocd_changed and not services:
        # Argo CD findings come with any check run; one service keeps the cost constant.
        services = {o.service for o in list(head.overlays.values())[:1]}

    def side_work(side: SideState) -> tuple[Any, ...]:
        assert side.config is not None
        overlays = [side.overlays[n] for n in names if n in side.overlays]
        present = check_services(side, services)
        if not overlays and not present and not argocd_changed:
            return [], ({}, None), [], []
        # One snapshot per side: each overlay rendered once (traced), argocd/ built once.
        snapshot = take_snapshot(
            workspace.for_tree(side.root, side.config),
            None,
            None if present == [None] else [s for s in present if s is not None],
            also=overlays,
        )
        rendered = [(o.name, snapshot.render_of(o.rel_path)) for o in overlays]
        argo = argocd_resources(snapshot) if argocd_changed else ({}, None)
        findings, check_notes = side_findings(side, snapshot, present)
        return rendered, argo, findings, check_notes

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="diff-side") as pool:
        base_work, head_work = pool.map(side_work, (base, head))
    base_rendered, (base_argo, base_argo_error), base_findings, base_notes = base_work
    head_rendered, (head_argo, head_argo_error), head_findings, head_notes = head_work
    notes.extend(base_notes + head_notes)

    changes: list[ResourceChange] = []
    objects: dict[str, tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]] = {}
    by_name_base = dict(base_rendered)
    by_name_head = dict(head_rendered)
    for name in names:
        env, service = name.split("/", 1)
        sides = {"base": by_name_base.get(name), "head": by_name_head.get(name)}
        maps: dict[str, ResourceMap] = {}
        failed = False
        for side_name, result in sides.items():
            if result is None:
                maps[side_name] = {}
                continue
            if result.manifest is None:
                changes.append(
                    ResourceChange(
                        env,
                        service,
                        "render-error",
                        None,
                        side=side_name,
                        message=result.error or "render failed",
                    )
                )
                failed = True
                continue
            try:
                maps[side_name] = strip_build_metadata(
                    parse_manifest(env, service, result.manifest)
                )
            except yaml.YAMLError as exc:
                changes.append(
                    ResourceChange(
                        env,
                        service,
                        "render-error",
                        None,
                        side=side_name,
                        message=f"unparseable output: {exc}",
                    )
                )
                failed = True
        if not failed:
            changes.extend(compare_resources(maps["base"], maps["head"], context))
            objects[name] = (tuple(maps["base"].values()), tuple(maps["head"].values()))
    if argocd_changed:
        for side_name, error in (("base", base_argo_error), ("head", head_argo_error)):
            if error:
                changes.append(
                    ResourceChange(
                        "", ARGOCD_SERVICE, "render-error", None, side=side_name, message=error
                    )
                )
        if not (base_argo_error or head_argo_error):
            changes.extend(compare_resources(base_argo, head_argo, context))
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
    order = sorted(set(base.overlays.values()) | set(head.overlays.values()))
    return DiffResult(
        base=base_ref,
        head=head_ref,
        rendered_base=tuple(name for name, _ in base_rendered),
        rendered_head=tuple(name for name, _ in head_rendered),
        changes=tuple(_sorted_changes(changes, [o.name for o in order])),
        findings_added=tuple(added),
        findings_fixed=tuple(fixed),
        affected=tuple(affected),
        argocd_compared=argocd_changed,
        notes=tuple(notes),
        overlay_order=tuple(dict.fromkeys(o.name for o in order)),
        objects=objects,
    )


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


# --- output formats -----------------------------------------------------------------------------


def format_json(result: DiffResult) -> str:
    document = {
        "base": {"ref": result.base.label, "sha": result.base.sha},
        "head": {"ref": result.head.label, "sha": result.head.sha},
        "rendered": {"base": list(result.rendered_base), "head": list(result.rendered_head)},
        "changes": [c.to_json() for c in result.changes],
        "findings": {
            "added": [f.to_json() for f in result.findings_added],
            "fixed": [f.to_json() for f in result.findings_fixed],
        },
        "summary": result.summary_rows(),
        "affected": [{"overlay": a.name, "reason": a.reason} for a in result.affected],
        "argocdCompared": result.argocd_compared,
        "notes": list(result.notes),
    }
    return json.dumps(document, indent=2) + "\n"


_RED, _GREEN, _CYAN, _YELLOW, _BOLD, _RESET = (
    "\033[31m",
    "\033[32m",
    "\033[36m",
    "\033[33m",
    "\033[1m",
    "\033[0m",
)


def _finding_line(finding: Finding) -> str:
    where = "/".join(p for p in (finding.env, finding.service) if p) or "repository"
    subject = finding.resource.split("/")
    short = f"{subject[-3]}/{subject[-1]}: " if len(subject) >= 4 else ""
    return f"{finding.severity} {finding.rule} {where} {short}{finding.message}"


def format_text(result: DiffResult, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines = [
        paint(f"gitops diff: {result.base.describe()} -> {result.head.describe()}", _BOLD),
        f"rendered: {len(result.rendered_base)} overlay(s) on base, "
        f"{len(result.rendered_head)} on head (of {len(result.overlay_order)})",
    ]
    lines += [f"note: {note}" for note in result.notes]
    if not result.has_differences:
        lines.append("no differences in rendered resources or findings")
        return "\n".join(lines) + "\n"
    rows = [("ENV", "SERVICE", "ADDED", "CHANGED", "REMOVED", "ERRORS", "FINDINGS+", "FIXED")]
    rows += [
        (
            r["env"] or "-",
            r["service"],
            *(
                str(r[k])
                for k in (
                    "added",
                    "changed",
                    "removed",
                    "renderErrors",
                    "findingsAdded",
                    "findingsFixed",
                )
            ),
        )
        for r in result.summary_rows()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines.append("")
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    for title, findings, code in (
        ("findings added by this change", result.findings_added, _RED),
        ("findings fixed by this change", result.findings_fixed, _GREEN),
    ):
        if findings:
            lines += ["", paint(f"{title}:", _BOLD)]
            lines += [paint(f"  {_finding_line(f)}", code) for f in findings]
    for change in result.changes:
        lines += ["", paint(f"=== {change.title()}", _BOLD)]
        if change.key is None:
            lines.append(paint(f"  {change.message}", _RED))
            continue
        if change.secret and change.secret.describe():
            lines.append(f"  Secret {change.secret.describe()} (values hidden)")
        for line in change.diff.rstrip("\n").splitlines():
            if line.startswith(("+++", "---")):
                lines.append(paint(line, _BOLD))
            elif line.startswith("+"):
                lines.append(paint(line, _GREEN))
            elif line.startswith("-"):
                lines.append(paint(line, _RED))
            elif line.startswith("@@"):
                lines.append(paint(line, _CYAN))
            else:
                lines.append(line)
    return "\n".join(lines) + "\n"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _md_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("`", "'")
    )


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _details(change: ResourceChange, diff_text: str | None = None) -> str:
    summary = f"<details><summary><code>{_md_escape(change.title())}</code></summary>\n\n"
    if change.key is None:
        return (
            summary
            + f"Render error on **{change.side}**: {_md_escape(change.message)}\n\n</details>\n"
        )
    note = ""
    if change.secret and change.secret.describe():
        note = f"Secret {_md_escape(change.secret.describe())} (values hidden)\n\n"
    body = change.diff if diff_text is None else diff_text
    fence = _fence(body)
    return f"{summary}{note}{fence}diff\n{body.rstrip()}\n{fence}\n\n</details>\n"


def format_markdown(
    result: DiffResult, max_bytes: int = DEFAULT_MAX_BYTES, full_command: str = "gitops diff"
) -> str:
    """A pull-request comment: summary table, findings added/fixed, one collapsible diff per
    changed resource; never more than ``max_bytes`` UTF-8 bytes (what is cut is said)."""
    head = [
        MARKDOWN_MARKER,
        "### gitops diff",
        "",
        f"Base `{result.base.describe()}` → head `{result.head.describe()}`. Rendered "
        f"{len(result.rendered_base)} overlay(s) on base and {len(result.rendered_head)} on head "
        f"(of {len(result.overlay_order)}): only overlays whose kustomize inputs changed.",
        "",
    ]
    head += [f"> {_md_escape(note)}" for note in result.notes]
    if result.notes:
        head.append("")
    if not result.has_differences:
        head.append("No differences in rendered resources or policy findings.")
        return _cap("\n".join(head) + "\n", max_bytes)
    table = [
        "| Env | Service | Added | Changed | Removed | Render errors | Findings added | "
        "Findings fixed |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result.summary_rows():
        table.append(
            f"| {r['env'] or '—'} | {r['service']} | {r['added']} | {r['changed']} | "
            f"{r['removed']} | {r['renderErrors']} | {r['findingsAdded']} | "
            f"{r['findingsFixed']} |"
        )
    blocks: list[str] = ["\n".join([*head, *table]) + "\n"]
    for title, findings in (
        ("Findings added by this change", result.findings_added),
        ("Findings fixed by this change", result.findings_fixed),
    ):
        if findings:
            items = [
                f"- `{_md_escape(f.rule)}` {f.severity} "
                f"{_md_escape(_finding_line(f).split(' ', 2)[2])}"
                for f in findings
            ]
            blocks.append(f"\n#### {title}\n\n" + "\n".join(items) + "\n")
    if result.changes:
        blocks.append("\n#### Resources\n\n")
    blocks += [_details(c) for c in result.changes]
    return _assemble(blocks, result, max_bytes, full_command)


def _truncation_note(cut_blocks: int, cut_bytes: int, max_bytes: int, full_command: str) -> str:
    return (
        f"\n> **Cut to fit {max_bytes:,} bytes:** {cut_blocks} more section(s) "
        f"({cut_bytes:,} bytes) are not shown. See all of it with `{full_command}` "
        "(or `--format text`) locally, or in this job's log.\n"
    )


def _assemble(blocks: list[str], result: DiffResult, max_bytes: int, full_command: str) -> str:
    out = ""
    for index, block in enumerate(blocks):
        remaining = blocks[index + 1 :]
        if (
            _size(out + block) + (_reserve(remaining, max_bytes, full_command) if remaining else 0)
            <= max_bytes
        ):
            out += block
            continue
        # The first block that does not fit: a diff is cut at a line boundary if a useful part
        # fits; everything after it is summarised in the note.
        note = _truncation_note(
            len(blocks) - index, sum(_size(b) for b in blocks[index:]), max_bytes, full_command
        )
        room = max_bytes - _size(out) - _size(note)
        partial = _partial_details(block, result, index, blocks, room)
        if partial is not None:
            out += partial
            note = (
                _truncation_note(
                    len(blocks) - index - 1,
                    sum(_size(b) for b in remaining),
                    max_bytes,
                    full_command,
                )
                if remaining
                else (
                    f"\n> **Cut to fit {max_bytes:,} bytes:** the last diff is shortened. "
                    f"See all of it with `{full_command}` locally, or in this job's log.\n"
                )
            )
        return _cap(out + note, max_bytes)
    return out


def _reserve(remaining: list[str], max_bytes: int, full_command: str) -> int:
    return _size(
        _truncation_note(len(remaining), sum(_size(b) for b in remaining), max_bytes, full_command)
    )


def _partial_details(
    block: str, result: DiffResult, index: int, blocks: list[str], room: int
) -> str | None:
    if room < 400 or "<details>" not in block:
        return None
    change = next((c for c in result.changes if _details(c) == block), None)
    if change is None or change.key is None:
        return None
    marker = "\n… (diff cut here)\n"
    lines = change.diff.splitlines(keepends=True)
    kept: list[str] = []
    for line in lines:
        candidate = "".join([*kept, line]) + marker
        if _size(_details(change, candidate)) > room:
            break
        kept.append(line)
    if len(kept) < 3:
        return None
    return _details(change, "".join(kept) + marker)


def _cap(text: str, max_bytes: int) -> str:
    """Last resort (a tiny --max-bytes): cut at a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 4].decode("utf-8", errors="ignore") + "\n…\n"


# --- the command ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffOptions:
    base: str | None = None
    head: str | None = None
    format: str = "text"
    context: int = DEFAULT_CONTEXT
    max_bytes: int = DEFAULT_MAX_BYTES
    exit_code: bool = False
    color: bool = False
    plot_dir: Path | None = None  # Behaviour section: write its plots here


def diff_command(
    repo: Path,
    options: DiffOptions,
    out: TextIO,
    validator: DocumentValidator | None = None,
    workspace: Workspace | None = None,
) -> int:
    """What ``gitops diff`` does after parsing: run, print, and return the exit code
    (0; 1 with ``--exit-code`` when there are differences; errors raise GitopsError -> 2)."""
    if options.format not in FORMATS:
        raise GitopsError(f"--format {options.format}: expected one of {', '.join(FORMATS)}")
    if options.context < 0:
        raise GitopsError(f"--context {options.context}: expected a number of lines >= 0")
    if options.max_bytes < MIN_MAX_BYTES:
        raise GitopsError(f"--max-bytes {options.max_bytes}: expected at least {MIN_MAX_BYTES}")
    result = run_diff(
        repo, options.base, options.head, options.context, validator, workspace=workspace
    )
    behaviour = _behaviour_hook(result, options)
    if options.format == "json":
        document = json.loads(format_json(result))
        document["behaviour"] = behaviour.to_json() if behaviour else []
        out.write(json.dumps(document, indent=2) + "\n")
    elif options.format == "markdown":
        command = "gitops diff" + (f" --base {result.base.sha[:12]}" if result.base.sha else "")
        if options.head:
            command += f" --head {options.head}"
        out.write(format_markdown(result, options.max_bytes, command))
        out.write(behaviour.markdown() if behaviour else "")
    else:
        out.write(format_text(result, options.color))
        out.write(behaviour.text() if behaviour else "")
    if options.exit_code and result.has_differences:
        return EXIT_PROBLEMS
    return EXIT_OK


def compare_trees(
    base_root: Path,
    head_root: Path,
    changed: set[str],
    base_label: str,
    head_label: str,
    context: int = DEFAULT_CONTEXT,
    validator: DocumentValidator | None = None,
    kustomize: Kustomize | None = None,
    workspace: Workspace | None = None,
) -> DiffResult:
    """The same comparison as :func:`run_diff`, between two directory trees instead of git
    refs; ``changed`` lists the repo-relative files that differ (``gitops promote --dry-run``
    compares the repository with an edited copy of it). Nine parameters: run_diff's plus the
    two labels."""
    return _compare(
        SideRef(base_label, None),
        SideRef(head_label, None),
        base_root,
        head_root,
        changed,
        context,
        _opener(workspace, validator, kustomize),
    )


WorkspaceOpener = Callable[[Path, RepoConfig], Workspace]


def _opener(
    workspace: Workspace | None, validator: DocumentValidator | None, kustomize: Kustomize | None
) -> WorkspaceOpener:
    """The head side's Workspace: the caller's, else one opened once from head's config."""

    def open_workspace(root: Path, config: RepoConfig) -> Workspace:
        if workspace is not None:
            return workspace
        return Workspace.open(root, config, kustomize=kustomize, validator=validator)

    return open_workspace


class _Behaviour:
    """The Behaviour section (gitops.simulate.behaviour), kept apart from the diff proper."""

    def __init__(self, sections: list[Any]) -> None:
        self.sections = sections

    def to_json(self) -> list[dict[str, object]]:
        from gitops.simulate.behaviour import to_json

        return to_json(self.sections)

    def markdown(self) -> str:
        from gitops.simulate.behaviour import format_markdown as behaviour_markdown

        return "\n" + behaviour_markdown(self.sections) if self.sections else ""

    def text(self) -> str:
        from gitops.simulate.behaviour import format_text as behaviour_text

        return behaviour_text(self.sections)


def _behaviour_hook(result: DiffResult, options: DiffOptions) -> _Behaviour | None:
    """Simulate base and head of every overlay whose HPA, PDB or workload scaling inputs
    changed; None when nothing of the kind changed."""
    from gitops.simulate.behaviour import behaviour_sections

    sections = behaviour_sections(result.objects, options.plot_dir)
    return _Behaviour(sections) if sections else None
