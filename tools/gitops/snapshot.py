"""One side's rendered state: what ``gitops check`` consumes and what ``gitops diff`` compares.

A :class:`Snapshot` is taken once per side from a :class:`~gitops.workspace.Workspace`: argocd/
built and expanded once (:meth:`Workspace.argocd`), the units discovered from it, and every
selected unit rendered once, traced and through the render cache, its resources parsed once
with the strict loader. Check filters it by env and service; diff compares two of them, object
by object. Nothing here renders twice, and nothing reads a rendered stream again.

    >>> snapshot = take_snapshot(Workspace.open(repo, config))
    >>> [r.overlay.name for r in snapshot.results][:1]
    ['dev/healthz']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from gitops.argocd import ArgoState
from gitops.discovery import Discovery, Overlay, SelectionError, select_overlays
from gitops.kustomization_keys import KeyProblem
from gitops.model import Resource
from gitops.render import RenderedOverlay
from gitops.upstream import Judgement
from gitops.workspace import Workspace


@dataclass(frozen=True)
class Snapshot:
    workspace: Workspace
    discovery: Discovery
    selected: tuple[Overlay, ...]  # the discovered units matching the selection
    results: tuple[RenderedOverlay, ...]  # one render per selected unit
    resources: tuple[Resource, ...] = field(repr=False)  # of every traced result, parsed once
    argocd: ArgoState | None  # None: the side has no argocd/
    # Overlays rendered beyond the selection (diff's affected overlays Argo CD does not sync).
    extra: tuple[RenderedOverlay, ...] = ()
    # Keys kustomize reads silently wrong, per selected unit (Overlay.key).
    key_problems: dict[str, tuple[KeyProblem, ...]] = field(default_factory=dict, repr=False)
    # The workspace's upstream validator, started with the renders (gitops.upstream.start):
    # its stores and allocators get ready while kustomize runs.
    judging: Judgement | None = field(default=None, repr=False, compare=False)

    def render_of(self, key: str) -> RenderedOverlay | None:
        """The render of the unit whose :attr:`~gitops.model.Overlay.key` is ``key``."""
        for result in (*self.results, *self.extra):
            if result.overlay.key == key:
                return result
        return None


# Over six parameters: the docstring says why (one per option, no hidden state).
def take_snapshot(
    workspace: Workspace,
    env: str | None = None,
    services: Iterable[str] | None = None,
    also: Iterable[Overlay] = (),
    keep: Callable[[Overlay], bool] | None = None,
    trace: bool = True,
) -> Snapshot:
    """Render the units of ``env`` (all when None) whose service is in ``services`` (all when
    None) and that ``keep`` accepts, and ``also`` any other overlays not among them, each
    exactly once; build and expand argocd/ once. An unknown ``env`` or single service raises
    SelectionError, as check does. ``trace=False``: plain builds (``gitops render``), no
    resources. Six parameters: the selection's four ways, the workspace and the build kind.

    argocd/ builds while the ``overlays/`` layout's units render speculatively: when Argo CD
    confirms them (the usual case) nothing waits for it; units it adds render afterwards."""
    wanted = None if services is None else frozenset(services)
    one_service = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None

    def selection(discovery: Discovery) -> list[Overlay]:
        chosen = select_overlays(discovery, workspace.config, env, one_service)
        return [
            o
            for o in chosen
            if (wanted is None or o.service in wanted) and (keep is None or keep(o))
        ]

    layout = workspace.layout()
    judging = workspace.upstream.start() if workspace.upstream is not None and trace else None
    try:
        return _take(workspace, layout, selection, also, trace, judging)
    except BaseException:
        if judging is not None:
            judging.cancel()
        raise


def _take(
    workspace: Workspace,
    layout: Discovery,
    selection: Callable[[Discovery], list[Overlay]],
    also: Iterable[Overlay],
    trace: bool,
    judging: Judgement | None,
) -> Snapshot:
    """take_snapshot's renders, once the selection is known and the validator started. Six
    parameters: what take_snapshot has computed, passed on."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="argocd") as pool:
        pending = pool.submit(workspace.argocd)
        try:
            guess = selection(layout)
        except SelectionError:
            guess = []  # the discovered units decide below
        early = workspace.render(guess, trace)
        argo = pending.result()
    discovery = workspace.discover(argo, layout)
    selected = selection(discovery)
    rendered = {r.overlay.key: r for r in early}
    chosen = {o.key for o in selected}
    missing = [o for o in selected if o.key not in rendered]
    extra = [o for o in dict.fromkeys(also) if o.key not in chosen]
    unrendered = [o for o in extra if o.key not in rendered]
    for result in workspace.render([*missing, *unrendered], trace):
        rendered.setdefault(result.overlay.key, result)
    results = [_as_unit(rendered[o.key], o) for o in selected]
    return Snapshot(
        workspace,
        discovery,
        tuple(selected),
        tuple(results),
        tuple(r for result in results for r in result.resources),
        argo.with_coverage(workspace.config, layout.overlays) if argo is not None else None,
        tuple(rendered[o.key] for o in extra),
        {o.key: workspace.key_problems(o) for o in selected},
        judging,
    )


def _as_unit(result: RenderedOverlay, unit: Overlay) -> RenderedOverlay:
    """A speculative render carries the guessed overlay; results carry the discovered unit (its
    env, service and reason), and so do their resources."""
    if result.overlay == unit and result.overlay.reason == unit.reason:
        return result
    resources = tuple(
        replace(r, env=unit.env, service=unit.service, overlay_path=unit.key)
        for r in result.resources
    )
    return replace(result, overlay=unit, resources=resources)
