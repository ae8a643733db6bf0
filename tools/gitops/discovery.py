"""Find the units a repository deploys: the kustomization directories ``gitops`` renders.

The rules, in order (docs/architecture.md, "Discovery"; ``gitops render --list`` shows the
result and why):

1. **Argo CD is authoritative.** When ``argocd/`` (``argocdPath``) holds Applications or
   ApplicationSets, the local paths they sync are the units, whatever their layout. A path with
   ``overlays/<env>/`` in it takes that env; otherwise a path segment naming an env of
   gitops.yaml, else the Application's destination cluster name. A path Argo CD renders with
   helm (a chart folder, gitops.helm.application) is one unit per Application (each passes its
   own values); an Application of a chart from a Helm repository is a note: nothing of this
   repository to render, and gitops never pulls a chart.
2. Otherwise, per env ``overlays/<env>/``:

   * ``overlays/<env>/kustomization.yaml`` aggregating services: the env itself is the unit
     (service ``all``);
   * ``overlays/<env>/<service>/kustomization.yaml``: one unit per service;
   * a folder another kustomization of the env references (a resource, a component, patch or
     generator files), or whose kustomization is a ``kind: Component``, is a helper, never a
     unit on its own;
   * a folder with no kustomization that nothing references is a problem: Argo CD's directory
     generator would make an Application of it that cannot render.

Nothing here builds anything: the Workspace (gitops.workspace) builds and expands argocd/ once
and hands its Applications to :func:`discover_units`.

>>> layout = layout_units(InputResolver(repo), config)
>>> [o.rel_path for o in layout.overlays][:2]
['overlays/dev/airbyte', 'overlays/dev/healthz']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitops.argocd import Application, ArgoState, same_repository
from gitops.config import RepoConfig
from gitops.errors import GitopsError
from gitops.helm.application import remote_chart
from gitops.helm.source import ChartSource
from gitops.inputs import InputResolver
from gitops.kustomization import find_kustomization, load_kustomization
from gitops.model import Overlay

# How Argo CD renders an Application with helm, when it does (Workspace.chart_source).
ChartOf = Callable[[Application], ChartSource | None]

__all__ = [
    "ENV_UNIT",
    "EXPECTED_LAYOUT",
    "Discovery",
    "DiscoveryProblem",
    "NothingFoundError",
    "Overlay",
    "SelectionError",
    "discover_units",
    "is_component",
    "layout_units",
    "nothing_found_message",
    "select_overlays",
    "units_from_applications",
]

ENV_UNIT = "all"  # the service name of a unit that is a whole env (overlays/<env>/)
EXPECTED_LAYOUT = (
    "overlays/<env>/<service>/kustomization.yaml, overlays/<env>/kustomization.yaml, "
    "or Argo CD Applications/ApplicationSets under argocd/ syncing local paths"
)


class NothingFoundError(GitopsError):
    """No unit to check: exit 2, never a green "0 overlays checked"."""


class SelectionError(GitopsError):
    """--env / --service named something the repository does not have."""


@dataclass(frozen=True)
class DiscoveryProblem:
    rel_path: str
    message: str
    env: str = ""
    service: str = ""

    def __str__(self) -> str:
        return f"{self.rel_path}: {self.message}"


@dataclass(frozen=True)
class Discovery:
    overlays: tuple[Overlay, ...]
    problems: tuple[DiscoveryProblem, ...]
    # "path: why it is not a unit" for folders seen and deliberately not rendered.
    notes: tuple[str, ...] = ()
    source: str = "overlays"  # "overlays" or "argocd": which rule produced the units
    # The overlays/ layout's units even when Argo CD's list won (coverage checks need them).
    filesystem: tuple[Overlay, ...] = ()


def is_component(kustomization: Path) -> bool:
    """A ``kind: Component`` kustomization is only ever built as part of another one (an
    unreadable one is not: kustomize reports the broken file when the unit is rendered)."""
    document = load_kustomization(kustomization)
    return document is not None and document.get("kind") == "Component"


def nothing_found_message(
    repo: Path, config: RepoConfig, env: str | None = None, service: str | None = None
) -> str:
    envs = ", ".join(config.envs) or "none found"
    selection = " ".join(
        f"--{flag} {value}" for flag, value in (("env", env), ("service", service)) if value
    )
    where = f" for {selection}" if selection else ""
    return f"no overlays found in {repo}{where} (envs: {envs}); expected {EXPECTED_LAYOUT}"


def select_overlays(
    discovery: Discovery, config: RepoConfig, env: str | None, service: str | None
) -> list[Overlay]:
    """Filter by ``--env`` / ``--service``; an unknown name is a usage error, not an empty set."""
    if env is not None and env not in config.envs:
        raise SelectionError(
            f"unknown env {env!r}: gitops.yaml envs are {', '.join(config.envs) or 'none'}"
        )
    services = sorted({o.service for o in discovery.overlays})
    if service is not None and service not in services:
        raise SelectionError(
            f"unknown service {service!r}: overlays exist for {', '.join(services) or 'none'}"
        )
    return [
        o
        for o in discovery.overlays
        if (env is None or o.env == env) and (service is None or o.service == service)
    ]


def layout_units(resolver: InputResolver, config: RepoConfig) -> Discovery:
    """The units of the ``overlays/`` layout under the resolver's checkout, in env order then
    service name (rule 2)."""
    repo = resolver.root
    root = repo / "overlays"
    overlays: list[Overlay] = []
    problems: list[DiscoveryProblem] = []
    notes: list[str] = []
    if not root.is_dir():
        return Discovery((), ())
    for env_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if env_dir.name not in config.envs:
            problems.append(
                DiscoveryProblem(
                    f"overlays/{env_dir.name}",
                    f"env {env_dir.name!r} is not listed in gitops.yaml envs "
                    f"({', '.join(config.envs) or 'none'})",
                    env=env_dir.name,
                )
            )
    for index, env in enumerate(config.envs):
        env_dir = root / env
        if env_dir.is_dir():
            _discover_env(resolver, index, env, overlays, problems, notes)
    found = tuple(sorted(overlays))
    return Discovery(found, tuple(problems), tuple(notes), filesystem=found)


def _discover_env(
    resolver: InputResolver,
    index: int,
    env: str,
    overlays: list[Overlay],
    problems: list[DiscoveryProblem],
    notes: list[str],
) -> None:
    repo = resolver.root
    env_rel = f"overlays/{env}"
    env_kustomization = find_kustomization(repo / env_rel)
    # Every folder a kustomization of this env reads is part of that kustomization.
    candidates: dict[str, Path | None] = {}
    for service_dir in sorted((repo / env_rel).iterdir()):
        if service_dir.is_dir() and not service_dir.name.startswith("."):
            candidates[f"{env_rel}/{service_dir.name}"] = find_kustomization(service_dir)
    roots = [env_rel] if env_kustomization is not None else []
    roots += [rel for rel, k in candidates.items() if k is not None]
    readers = _readers(resolver, roots, candidates)
    if env_kustomization is not None:
        if is_component(env_kustomization):
            notes.append(f"{env_rel}: a kind: Component kustomization, not built on its own")
        else:
            overlays.append(
                Overlay(
                    index,
                    env,
                    ENV_UNIT,
                    env_rel,
                    f"{env_rel}/{env_kustomization.name} aggregates the env",
                )
            )
    for rel, kustomization in candidates.items():
        service = rel.rsplit("/", 1)[1]
        if rel in readers:
            by = ", ".join(sorted(readers[rel]))
            notes.append(f"{rel}: helper folder read by {by}, not a unit of its own")
        elif kustomization is None:
            problems.append(
                DiscoveryProblem(
                    rel,
                    "no kustomization.yaml in this overlay directory",
                    env=env,
                    service=service,
                )
            )
        elif is_component(kustomization):
            notes.append(f"{rel}: a kind: Component kustomization, not built on its own")
        else:
            overlays.append(Overlay(index, env, service, rel, f"{rel}/{kustomization.name}"))


def _readers(
    resolver: InputResolver, roots: list[str], candidates: Iterable[str]
) -> dict[str, set[str]]:
    """For each candidate folder, the kustomizations among ``roots`` that read a file in it."""
    readers: dict[str, set[str]] = {}
    for reader in roots:
        inputs = resolver.overlay_inputs(reader)
        paths = [*inputs.files, *inputs.directories]
        for rel in candidates:
            if rel != reader and any(p == rel or p.startswith(rel + "/") for p in paths):
                readers.setdefault(rel, set()).add(reader)
    return readers


def discover_units(
    layout: Discovery,
    argo: ArgoState | None,
    resolver: InputResolver,
    config: RepoConfig,
    chart_of: ChartOf | None = None,
) -> Discovery:
    """Rule 1 then rule 2: the local paths of ``argo``'s Applications when it has any, else
    the ``overlays/`` ``layout``. An argocd/ that could not be read falls back to rule 2 with
    a note (``gitops check`` reports the argocd/ problem itself). ``chart_of``: which
    Applications render a chart folder, and how (none without it)."""
    if argo is None:
        return layout
    if argo.error is not None:
        note = f"{config.argocd_path}: not used for discovery ({str(argo.error).splitlines()[0]})"
        return Discovery(
            layout.overlays, layout.problems, (*layout.notes, note), filesystem=layout.overlays
        )
    units = units_from_applications(resolver, config, argo.applications, chart_of)
    remote = [
        f"Application {app.name}: {found}: a remote chart, not rendered (gitops renders charts "
        "only from this repository and never pulls one)"
        for app in argo.applications
        if (found := remote_chart(app)) is not None
    ]
    if not units:
        return replace(layout, notes=(*layout.notes, *remote))
    synced = {u.rel_path for u in units}
    notes = [*layout.notes, *remote]
    notes += [
        f"{o.rel_path}: no Argo CD Application syncs it, not rendered"
        for o in layout.overlays
        if o.rel_path not in synced
    ]
    problems = [p for p in layout.problems if p.rel_path in synced]
    return Discovery(
        tuple(sorted(units)),
        tuple(problems),
        tuple(notes),
        source="argocd",
        filesystem=layout.overlays,
    )


def units_from_applications(
    resolver: InputResolver,
    config: RepoConfig,
    applications: Sequence[Application],
    chart_of: ChartOf | None = None,
) -> list[Overlay]:
    """One unit per distinct local kustomization path the Applications sync, and one per
    Application rendering a chart folder (``chart_of``); another repository's paths and
    paths without either are left to ``gitops apps`` to report."""
    repo = resolver.root
    units: dict[str, Overlay] = {}
    for app in applications:
        if not app.path or not same_repository(config, app.repo_url):
            continue
        if app.path == config.argocd_path or app.path.startswith(config.argocd_path + "/"):
            continue  # the root app syncing argocd/ itself: checked as Argo CD objects
        source = chart_of(app) if chart_of is not None else None
        env, service = _env_and_service(app.path, config, app.destination, app.name)
        index = config.envs.index(env) if env in config.envs else len(config.envs)
        if source is not None:
            unit = Overlay(
                index, env, service, app.path, f"chart rendered by Argo CD Application {app.name}",
                chart=source,
            )  # fmt: skip
            units.setdefault(unit.key, unit)
            continue
        kustomization = find_kustomization(repo / app.path)
        if app.path in units or kustomization is None or is_component(kustomization):
            continue
        units[app.path] = Overlay(
            index, env, service, app.path, f"synced by Argo CD Application {app.name}"
        )
    return _distinct_names(list(units.values()))


def _distinct_names(units: list[Overlay]) -> list[Overlay]:
    """Two Applications rendering one chart into the same env would share ``env/service``:
    such chart units are named by their Application instead."""
    names: dict[str, int] = {}
    for unit in units:
        names[unit.name] = names.get(unit.name, 0) + 1
    return [
        replace(u, service=u.chart.application) if u.chart is not None and names[u.name] > 1 else u
        for u in units
    ]


def _env_and_service(
    path: str, config: RepoConfig, destination: dict[str, Any], app_name: str
) -> tuple[str, str]:
    parts = path.split("/")
    env = ""
    if "overlays" in parts and parts.index("overlays") + 1 < len(parts):
        env = parts[parts.index("overlays") + 1]
    else:
        env = next((p for p in reversed(parts) if p in config.envs), "")
    if not env:
        env = str(destination.get("name") or "") or "default"
    rest = [p for p in parts if p not in (env, "overlays")]
    if path == f"overlays/{env}":
        return env, ENV_UNIT
    if parts[:2] == ["overlays", env] and len(parts) > 2:
        return env, "-".join(parts[2:])
    return env, (rest[-1] if rest else app_name)
