"""One side of the comparison, and which overlays a change affects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitops.config import CONFIG_FILE, RepoConfig
from gitops.discovery import Overlay
from gitops.errors import GitopsError
from gitops.inputs import InputSet
from gitops.repo import open_config
from gitops.workspace import Workspace


@dataclass(frozen=True)
class SideRef:
    label: str  # what the user asked for: "origin/main", "merge-base(HEAD, origin/main)", ...
    sha: str | None  # None: the working tree

    def describe(self) -> str:
        return f"{self.label} ({self.sha[:12]})" if self.sha else self.label


@dataclass
class SideState:
    """What one side knows before rendering: its workspace, overlays and their inputs."""

    name: str  # "base" or "head"
    root: Path
    workspace: Workspace | None  # None: gitops.yaml unreadable on this side
    overlays: dict[str, Overlay] = field(default_factory=dict)  # "<env>/<service>" -> overlay
    inputs: dict[str, InputSet] = field(default_factory=dict)
    error: str | None = None  # gitops.yaml unreadable on this side

    @property
    def config(self) -> RepoConfig | None:
        return self.workspace.config if self.workspace is not None else None


def load_side(name: str, root: Path, tools: Workspace) -> SideState:
    """The checkout at ``root`` with the tools (binary, runner, cache) of ``tools``."""
    try:
        config = open_config(root)
    except GitopsError as exc:
        return SideState(name, root, None, error=str(exc))
    workspace = tools.for_tree(root, config)
    side = SideState(name, root, workspace)
    for overlay in side_units(workspace):
        side.overlays[overlay.name] = overlay
        side.inputs[overlay.name] = workspace.unit_inputs(overlay)
    return side


def side_units(workspace: Workspace) -> list[Overlay]:
    """The units a change is looked for in: the ``overlays/`` layout's, and the chart units of
    the Argo CD Applications (argocd/ is read once per workspace; the snapshot reuses it)."""
    layout = list(workspace.layout().overlays)
    if not (workspace.repo / workspace.config.argocd_path).is_dir():
        return layout
    names = {o.name for o in layout}
    charts = [
        o
        for o in workspace.discover(workspace.argocd()).overlays
        if o.chart is not None and o.name not in names
    ]
    return sorted([*layout, *charts])


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
