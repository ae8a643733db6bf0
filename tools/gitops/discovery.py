"""Find the overlays of a repository: ``overlays/<env>/<service>/`` with a kustomization.

>>> [o.rel_path for o in discover_overlays(Path("."), load_config(Path(".")))][:2]
['overlays/dev/airbyte', 'overlays/dev/healthz']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops.config import RepoConfig

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True, order=True)
class Overlay:
    env_index: int  # position of the env in gitops.yaml: sorts overlays in promotion order
    env: str
    service: str
    rel_path: str  # "overlays/<env>/<service>", always with forward slashes

    @property
    def name(self) -> str:
        return f"{self.env}/{self.service}"


@dataclass(frozen=True)
class DiscoveryProblem:
    rel_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rel_path}: {self.message}"


@dataclass(frozen=True)
class Discovery:
    overlays: tuple[Overlay, ...]
    problems: tuple[DiscoveryProblem, ...]


def find_kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def discover_overlays(repo: Path, config: RepoConfig) -> Discovery:
    """Every ``overlays/<env>/<service>`` directory, in env order then service name.

    A service directory without a kustomization, or an env directory that ``gitops.yaml`` does not
    list, is reported as a problem rather than silently skipped: Argo CD's directory generator
    would still create an Application for it.
    """
    root = repo / "overlays"
    overlays: list[Overlay] = []
    problems: list[DiscoveryProblem] = []
    if not root.is_dir():
        return Discovery((), ())
    for env_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if env_dir.name not in config.envs:
            problems.append(
                DiscoveryProblem(
                    f"overlays/{env_dir.name}",
                    f"env {env_dir.name!r} is not listed in gitops.yaml envs "
                    f"({', '.join(config.envs) or 'none'})",
                )
            )
    for index, env in enumerate(config.envs):
        env_dir = root / env
        if not env_dir.is_dir():
            continue
        for service_dir in sorted(env_dir.iterdir()):
            if not service_dir.is_dir() or service_dir.name.startswith("."):
                continue
            rel = f"overlays/{env}/{service_dir.name}"
            if find_kustomization(service_dir) is None:
                problems.append(
                    DiscoveryProblem(rel, "no kustomization.yaml in this overlay directory")
                )
                continue
            overlays.append(Overlay(index, env, service_dir.name, rel))
    return Discovery(tuple(sorted(overlays)), tuple(problems))
