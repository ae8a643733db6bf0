"""Find the units a repository deploys: the kustomization directories ``gitops`` renders.

The rules, in order (README "Discovery"; ``gitops render --list`` shows the result and why):

1. **Argo CD is authoritative.** When ``argocd/`` (``argocdPath``) holds Applications or
   ApplicationSets, the local paths they sync are the units, whatever their layout. A path with
   ``overlays/<env>/`` in it takes that env; otherwise a path segment naming an env of
   gitops.yaml, else the Application's destination cluster name.
2. Otherwise, per env ``overlays/<env>/``:

   * ``overlays/<env>/kustomization.yaml`` aggregating services: the env itself is the unit
     (service ``all``);
   * ``overlays/<env>/<service>/kustomization.yaml``: one unit per service;
   * a folder another kustomization of the env references (a resource, a component, patch or
     generator files), or whose kustomization is a ``kind: Component``, is a helper, never a
     unit on its own;
   * a folder with no kustomization that nothing references is a problem: Argo CD's directory
     generator would make an Application of it that cannot render.

>>> [o.rel_path for o in discover_overlays(Path("."), load_config(Path("."))).overlays][:2]
['overlays/dev/airbyte', 'overlays/dev/healthz']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops.config import RepoConfig
from gitops.errors import GitopsError
from gitops.inputs import InputResolver
from gitops.kustomization import find_kustomization, load_kustomization

if TYPE_CHECKING:
    from gitops.argocd import Application
    from gitops.cache import RenderCache
    from gitops.kustomize import Kustomize
    from gitops.runner import Command, CommandResult

    Runner = Callable[[Command], CommandResult]

log = logging.getLogger(__name__)

ENV_UNIT = "all"  # the service name of a unit that is a whole env (overlays/<env>/)
EXPECTED_LAYOUT = (
    "overlays/<env>/<service>/kustomization.yaml, overlays/<env>/kustomization.yaml, "
    "or Argo CD Applications/ApplicationSets under argocd/ syncing local paths"
)


class NothingFoundError(GitopsError):
    """No unit to check: exit 2, never a green "0 overlays checked"."""


@dataclass(frozen=True, order=True)
class Overlay:
    env_index: int  # position of the env in gitops.yaml: sorts overlays in promotion order
    env: str
    service: str
    rel_path: str  # "overlays/<env>/<service>", always with forward slashes
    reason: str = field(default="", compare=False)  # why this is a unit (render --list)

    @property
    def name(self) -> str:
        return f"{self.env}/{self.service}"


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
    # argocd/ objects as loaded for discovery, so check does not build argocd/ twice.
    argocd_objects: tuple[dict[str, Any], ...] | None = field(default=None, compare=False)
    # Why argocd/ could not be built or expanded (None: it could, or there is none), so check
    # reports it without building argocd/ a second time.
    argocd_error: GitopsError | None = field(default=None, compare=False)


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


def discover_overlays(repo: Path, config: RepoConfig) -> Discovery:
    """The units of the ``overlays/`` layout, in env order then service name (rule 2)."""
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
            _discover_env(repo, index, env, overlays, problems, notes)
    found = tuple(sorted(overlays))
    return Discovery(found, tuple(problems), tuple(notes), filesystem=found)


def _discover_env(
    repo: Path,
    index: int,
    env: str,
    overlays: list[Overlay],
    problems: list[DiscoveryProblem],
    notes: list[str],
) -> None:
    env_rel = f"overlays/{env}"
    resolver = InputResolver(repo)
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
    repo: Path,
    config: RepoConfig,
    kustomize: Kustomize | None = None,
    cache: RenderCache | None = None,
    filesystem: Discovery | None = None,
    runner: Runner | None = None,
) -> Discovery:
    """Rule 1 then rule 2: the Argo CD Applications' local paths when ``argocd/`` has any, else
    the ``overlays/`` layout. An ``argocd/`` that cannot be read falls back to rule 2 with a
    note (``gitops check`` reports the argocd/ problem itself). ``filesystem``: the result of
    :func:`discover_overlays` when the caller already has it; ``runner`` runs the argocd/ build."""
    filesystem = filesystem or discover_overlays(repo, config)
    if not (repo / config.argocd_path).is_dir():
        return filesystem
    from gitops.argocd import expand_applications, load_argocd_objects
    from gitops.runner import run

    try:
        # argocd.py's builder, through the Workspace's runner and cache: one code path.
        objects = load_argocd_objects(repo, config, kustomize, cache, runner or run)
        expansion = expand_applications(repo, config, (), kustomize, objects=objects)
    except GitopsError as exc:
        note = f"{config.argocd_path}: not used for discovery ({str(exc).splitlines()[0]})"
        return Discovery(
            filesystem.overlays,
            filesystem.problems,
            (*filesystem.notes, note),
            argocd_error=exc,
        )
    units = units_from_applications(repo, config, expansion.applications)
    if not units:
        return Discovery(
            filesystem.overlays,
            filesystem.problems,
            filesystem.notes,
            filesystem=filesystem.overlays,
            argocd_objects=tuple(objects),
        )
    synced = {u.rel_path for u in units}
    notes = [*filesystem.notes]
    notes += [
        f"{o.rel_path}: no Argo CD Application syncs it, not rendered"
        for o in filesystem.overlays
        if o.rel_path not in synced
    ]
    problems = [p for p in filesystem.problems if p.rel_path in synced]
    return Discovery(
        tuple(sorted(units)),
        tuple(problems),
        tuple(notes),
        source="argocd",
        filesystem=filesystem.overlays,
        argocd_objects=tuple(objects),
    )


def units_from_applications(
    repo: Path, config: RepoConfig, applications: Sequence[Application]
) -> list[Overlay]:
    """One unit per distinct local path the Applications sync (another repository's paths and
    paths without a kustomization are left to ``gitops apps`` to report)."""
    from gitops.argocd import same_repository

    units: dict[str, Overlay] = {}
    for app in applications:
        if not app.path or app.path in units or not same_repository(config, app.repo_url):
            continue
        if app.path == config.argocd_path or app.path.startswith(config.argocd_path + "/"):
            continue  # the root app syncing argocd/ itself: checked as Argo CD objects
        kustomization = find_kustomization(repo / app.path)
        if kustomization is None or is_component(kustomization):
            continue
        env, service = _env_and_service(app.path, config, app.destination, app.name)
        index = config.envs.index(env) if env in config.envs else len(config.envs)
        units[app.path] = Overlay(
            index, env, service, app.path, f"synced by Argo CD Application {app.name}"
        )
    return list(units.values())


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
