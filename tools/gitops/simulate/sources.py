"""Objects of the rendered repo that simulations start from: an overlay's HPA, the workload it
scales (for its pods' CPU request), its PDB and Deployment strategy.

    >>> objects = rendered_objects(workspace, "prod", "healthz")
    >>> manifest, request, origin = find_hpa(objects, "overlays/prod/healthz", None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops import k8s_math
from gitops.discovery import Discovery, select_overlays
from gitops.k8s import pod_spec_of
from gitops.k8s.features import FeatureGates
from gitops.simulate.scenario import HPAResolver, ScenarioError, pod_cpu_request_milli
from gitops.workspace import Workspace

# The kinds with a scale subresource an HPA can target.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


def rendered_objects(
    workspace: Workspace, env: str, service: str
) -> tuple[list[Mapping[str, Any]], str]:
    """Render the unit ``<env>/<service>`` (through the render cache) and its objects, parsed
    as check parses them: ``overlays/<env>/<service>``, else the unit an Argo CD Application
    syncs under that name (a chart it renders with helm, too)."""
    repo, config = workspace.repo, workspace.config
    overlays = select_overlays(_units(workspace, env, service), config, env, service)
    if not overlays:
        raise ScenarioError(f"no overlay overlays/{env}/{service} in {repo}")
    (result,) = workspace.render(overlays[:1])
    if not result.ok:
        raise ScenarioError(result.failure_line())
    origin = overlays[0].label
    if result.problems:
        raise ScenarioError(f"{origin}: {result.problems[0]}")
    return [r.body for r in result.resources], origin


def _units(workspace: Workspace, env: str, service: str) -> Discovery:
    """The ``overlays/`` layout when it has the unit (no need to read argocd/), else the
    units discovered from the Argo CD Applications."""
    repo, config = workspace.repo, workspace.config
    layout = workspace.layout()
    if any(o.env == env and o.service == service for o in layout.overlays):
        return layout
    if (repo / config.argocd_path).is_dir():
        return workspace.discover(workspace.argocd(), layout)
    if not (repo / "overlays").is_dir():
        raise ScenarioError(
            f"{repo}: no overlays/ here to render {env}/{service} from: run inside the "
            "repository or pass --repo"
        )
    return layout


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


def repo_hpa_resolver(workspace: Workspace) -> HPAResolver:
    """A :data:`gitops.simulate.scenario.HPAResolver` that renders the workspace's repository."""

    def resolve(
        env: str, service: str, name: str | None
    ) -> tuple[Mapping[str, Any], int | None, str]:
        objects, origin = rendered_objects(workspace, env, service)
        return find_hpa(objects, origin, name, FeatureGates(workspace.config.minor_version))

    return resolve
