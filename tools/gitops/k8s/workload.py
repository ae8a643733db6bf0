"""Workload accessors: the pod template of any pod-owning kind, its containers and its labels.

In the spirit of kube-score's ``PodSpecer``: one place knows that a CronJob's pods come from
``spec.jobTemplate.spec.template`` and that a bare Pod is its own template, so rules, ``probe``,
``simulate`` and the e2e expectations do not each walk those paths.

Rules run on documents the schema rule may reject: these accessors return "nothing" for a field
of the wrong type instead of raising (the schema finding reports the document itself).

    >>> cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
    ...     "metadata": {"labels": {"app": "job"}},
    ...     "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]}}}}}}
    >>> [c["name"] for c in all_containers(cron)]
    ['i', 'c']
    >>> template_labels(cron)
    {'app': 'job'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
# The pod spec's container lists, in the order the kubelet starts them (ephemeral containers
# are added to a running pod by `kubectl debug`; manifests rarely carry them).
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def template_of(kind: str, spec: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template of a ``kind`` object with this ``spec`` (a Pod is its own template)."""
    if kind == "Pod":
        return {"metadata": dict(metadata), "spec": dict(spec)}
    if kind == "CronJob":
        spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    return _dict(spec.get("template"))


def pod_template_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template of a raw manifest (see :func:`template_of`)."""
    return template_of(
        str(doc.get("kind") or ""), _dict(doc.get("spec")), _dict(doc.get("metadata"))
    )


def pod_spec_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return _dict(pod_template_of(doc).get("spec"))


def template_labels(doc: Mapping[str, Any]) -> dict[str, str]:
    """The labels the workload's pods carry from its template."""
    return _dict(_dict(pod_template_of(doc).get("metadata")).get("labels"))


def spec_containers(
    pod_spec: Mapping[str, Any], lists: tuple[str, ...] = ("containers",)
) -> list[dict[str, Any]]:
    """The container entries (dicts only) of the named lists of a pod spec, in that order."""
    found: list[dict[str, Any]] = []
    for name in lists:
        entries = pod_spec.get(name)
        if isinstance(entries, list):
            found += [c for c in entries if isinstance(c, dict)]
    return found


def all_containers(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every container of the workload's pods: init (sidecars included), app and ephemeral."""
    return spec_containers(pod_spec_of(doc), CONTAINER_LISTS)


def is_sidecar(container: Mapping[str, Any]) -> bool:
    """A native sidecar: an init container with ``restartPolicy: Always`` (KEP-753), which keeps
    running next to the app containers and counts towards the pod's requests like them."""
    return container.get("restartPolicy") == "Always"


def sidecars(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in spec_containers(pod_spec, ("initContainers",)) if is_sidecar(c)]


def running_containers(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The containers that run for the pod's whole life: app containers and native sidecars."""
    return spec_containers(pod_spec) + sidecars(pod_spec)


def find_container(doc: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    """The app container called ``name`` (the first one when ``name`` is None); ``{}`` if none."""
    for candidate in spec_containers(pod_spec_of(doc)):
        if name is None or candidate.get("name") == name:
            return candidate
    return {}
