"""Objects of the rendered repo that simulations start from: an overlay's HPA, the workload it
scales (for its pods' CPU request), its PDB and Deployment strategy.

    >>> objects = rendered_objects(repo, config, "prod", "healthz")
    >>> manifest, request, origin = find_hpa(objects, "overlays/prod/healthz", None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gitops import k8s_math
from gitops.config import RepoConfig
from gitops.k8s import pod_spec_of
from gitops.k8s.features import FeatureGates
from gitops.simulate.scenario import HPAResolver, ScenarioError, pod_cpu_request_milli

# The kinds with a scale subresource an HPA can target.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


def rendered_objects(
    repo: Path, config: RepoConfig, env: str, service: str, use_cache: bool = True
) -> tuple[list[Mapping[str, Any]], str]:
    """Render ``overlays/<env>/<service>`` (with the render cache) and parse its objects."""
    from gitops.cache import RenderCache
    from gitops.discovery import discover_overlays
    from gitops.kustomize import find_kustomize
    from gitops.render import render_overlay, select_overlays
    from gitops.yamlio import load_documents

    if not (repo / "overlays").is_dir():
        raise ScenarioError(
            f"{repo}: no overlays/ here to render {env}/{service} from: run inside the "
            "repository or pass --repo"
        )
    overlays = select_overlays(discover_overlays(repo, config), config, env, service)
    if not overlays:
        raise ScenarioError(f"no overlay overlays/{env}/{service} in {repo}")
    overlay = overlays[0]
    kustomize = find_kustomize(config)
    cache = None if not use_cache else RenderCache.for_repo(repo, config, kustomize)
    result = render_overlay(repo, overlay, config, kustomize, cache=cache)
    if not result.ok or result.manifest is None:
        raise ScenarioError(result.failure_line())
    documents = load_documents(result.manifest, overlay.rel_path)
    return [d.body for d in documents], overlay.rel_path


def objects_of_kind(objects: Sequence[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def find_hpa(
    objects: Sequence[Mapping[str, Any]],
    origin: str,
    name: str | None,
    gates: FeatureGates | None = None,
) -> tuple[Mapping[str, Any], int | None, str]:
    """The overlay's HPA (by ``name`` when it has several) and the CPU request it measures per
    pod: its ContainerResource container's, else the pod's (pod-level with the
    PodLevelResources gate of ``gates``)."""
    hpas = objects_of_kind(objects, "HorizontalPodAutoscaler")
    if name is not None:
        hpas = [h for h in hpas if _name(h) == name]
    if not hpas:
        wanted = f" named {name!r}" if name else ""
        raise ScenarioError(f"{origin}: no HorizontalPodAutoscaler{wanted} in the rendered overlay")
    if len(hpas) > 1:
        names = ", ".join(sorted(_name(h) for h in hpas))
        raise ScenarioError(f"{origin}: several HPAs ({names}); set hpa.name to pick one")
    hpa = hpas[0]
    target = target_workload(objects, hpa)
    request = None
    if target is not None:
        request = pod_cpu_request_milli(pod_spec_of(target), _measured_container(hpa), gates)
    return hpa, request, f"{origin} (HorizontalPodAutoscaler {_name(hpa)})"


def _measured_container(hpa: Mapping[str, Any]) -> str:
    """The container of the HPA's first CPU ContainerResource metric, "" when it has none."""
    for metric in (hpa.get("spec") or {}).get("metrics") or []:
        source = (metric or {}).get("containerResource") or {}
        if metric.get("type") == "ContainerResource" and source.get("name") == "cpu":
            return str(source.get("container") or "")
    return ""


def target_workload(
    objects: Sequence[Mapping[str, Any]], hpa: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for obj in objects:
        if obj.get("kind") in WORKLOAD_KINDS and k8s_math.hpa_targets(hpa, obj):
            return obj
    return None


def repo_hpa_resolver(repo: Path, config: RepoConfig, use_cache: bool = True) -> HPAResolver:
    """A :data:`gitops.simulate.scenario.HPAResolver` that renders the repository."""

    def resolve(
        env: str, service: str, name: str | None
    ) -> tuple[Mapping[str, Any], int | None, str]:
        objects, origin = rendered_objects(repo, config, env, service, use_cache)
        return find_hpa(objects, origin, name, FeatureGates(config.minor_version))

    return resolve
