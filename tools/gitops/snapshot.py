"""One side's rendered state: what ``gitops check`` consumes and what ``gitops diff`` compares.

A :class:`Snapshot` is built once per side from a :class:`~gitops.workspace.Workspace`: every
selected overlay rendered once, with source tracing and through the render cache, and argocd/
built once and expanded once. Check filters it by service; diff compares two of them. Nothing
here renders again: the traced output, with kustomize's build-metadata annotations removed, is
the same manifest a plain build prints.

    >>> snapshot = take_snapshot(Workspace.open(repo, config))
    >>> [r.overlay.name for r in snapshot.results][:1]
    ['dev/healthz']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gitops.discovery import Discovery, Overlay
from gitops.errors import ConfigError, GitopsError
from gitops.model import Resource
from gitops.render import RenderedOverlay, discover_and_render, render_overlays
from gitops.tracing import resources_from_render
from gitops.workspace import Workspace


@dataclass(frozen=True)
class ArgoState:
    """argocd/ of one side: its objects and their expansion, or why it could not be read."""

    objects: tuple[dict[str, Any], ...] = ()
    applications: tuple[Any, ...] = ()  # gitops.argocd.Application
    problems: tuple[str, ...] = ()
    error: GitopsError | None = None


@dataclass(frozen=True)
class Snapshot:
    workspace: Workspace
    discovery: Discovery
    selected: tuple[Overlay, ...]  # the discovered units matching the selection
    results: tuple[RenderedOverlay, ...]  # one traced render per selected unit
    resources: tuple[Resource, ...] = field(repr=False)  # parsed from ``results``
    argocd: ArgoState | None  # None: the side has no argocd/
    # Overlays rendered beyond the selection (diff's affected overlays Argo CD does not sync).
    extra: tuple[RenderedOverlay, ...] = ()

    def render_of(self, rel_path: str) -> RenderedOverlay | None:
        for result in (*self.results, *self.extra):
            if result.overlay.rel_path == rel_path:
                return result
        return None


def take_snapshot(
    workspace: Workspace,
    env: str | None = None,
    services: Iterable[str] | None = None,
    also: Iterable[Overlay] = (),
) -> Snapshot:
    """Render the units of ``env`` (all when None) whose service is in ``services`` (all when
    None), and ``also`` any other overlays not among them, each exactly once; build and expand
    argocd/ once. An unknown ``env`` or single service raises SelectionError, as check does."""
    wanted = None if services is None else frozenset(services)
    one_service = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    discovery, selected, results = discover_and_render(
        workspace.repo,
        workspace.config,
        workspace.kustomize,
        env,
        one_service,
        cache=workspace.cache,
        trace=True,
        runner=workspace.runner,
        keep=None if wanted is None or one_service else (lambda o: o.service in wanted),
    )
    done = {r.overlay.rel_path for r in results}
    missing = [o for o in dict.fromkeys(also) if o.rel_path not in done]
    extra = render_overlays(
        workspace.repo,
        missing,
        workspace.config,
        workspace.kustomize,
        workspace.runner,
        trace=True,
        cache=workspace.cache,
    )  # usually none or one: not worth a batch
    resources = [res for r in results if r.ok for res in resources_from_render(workspace.repo, r)]
    return Snapshot(
        workspace,
        discovery,
        tuple(selected),
        tuple(results),
        tuple(resources),
        _argo_state(workspace, discovery),
        tuple(extra),
    )


def _argo_state(workspace: Workspace, discovery: Discovery) -> ArgoState | None:
    from gitops.argocd import expand_applications

    repo, config = workspace.repo, workspace.config
    if not (repo / config.argocd_path).is_dir():
        return None
    if discovery.argocd_objects is None:
        error = discovery.argocd_error or ConfigError(f"{config.argocd_path}: could not be read")
        return ArgoState(error=error)
    objects = list(discovery.argocd_objects)
    try:
        expansion = expand_applications(
            repo, config, discovery.filesystem, workspace.kustomize, objects=objects
        )
    except GitopsError as exc:
        return ArgoState(objects=tuple(objects), error=exc)
    return ArgoState(tuple(objects), tuple(expansion.applications), tuple(expansion.problems))
