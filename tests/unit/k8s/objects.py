"""Kubernetes objects for the object-layer and relation tests: a Deployment with an init
container and a native sidecar, HPAs and PDBs with the fields under test."""

from __future__ import annotations

from typing import Any

from gitops.model import Resource, ResourceKey


def res(doc: dict[str, Any], env: str = "prod", service: str = "web") -> Resource:
    return Resource(env, service, ResourceKey.of(doc), doc, overlay_path=f"overlays/{env}/web")


def deployment_doc(name: str = "web", replicas: Any = 2, namespace: str = "demo") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "initContainers": [
                        {"name": "migrate"},
                        {"name": "proxy", "restartPolicy": "Always"},
                    ],
                    "containers": [
                        {"name": "web", "livenessProbe": {"tcpSocket": {"port": 80}}},
                        "not a container",
                    ],
                },
            },
        },
    }


def hpa_doc(
    target_api: str | None, min_replicas: Any = 3, namespace: str = "demo", name: str = "web"
) -> dict[str, Any]:
    ref: dict[str, Any] = {"kind": "Deployment", "name": "web"}
    if target_api is not None:
        ref["apiVersion"] = target_api
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"scaleTargetRef": ref, "minReplicas": min_replicas, "maxReplicas": 6},
    }


def pdb_doc(selector: Any, namespace: str = "demo") -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"minAvailable": 1, "selector": selector},
    }
