"""The relation index: which objects of one set of rendered resources refer to which.

Built once per set of resources (a check's, one side of a diff) and shared by every rule, so
that "the HPAs managing this Deployment" or "the PDBs covering its pods" mean the same thing to
``hpa-bounds``, ``pdb-blocks-drain`` and ``env-regression``. Objects relate only within one env
and one namespace (all services of an env share one namespace on one cluster); a resource
without ``metadata.namespace`` lands in its Application's destination namespace.

Matching follows the controllers: an HPA manages a workload when its ``scaleTargetRef`` names
the API *group*, kind and name (no ``apiVersion`` is the core group); a PDB covers a workload
when its selector matches the pods' labels, including those the controller adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitops import k8s_math
from gitops.k8s.selectors import GeneratedLabels, generated_labels, pdb_selects, selector_matches
from gitops.k8s.workload import WORKLOAD_KINDS, template_labels
from gitops.k8s_math import InvalidValueError
from gitops.model import Resource

HPA_KIND = "HorizontalPodAutoscaler"
PDB_KIND = "PodDisruptionBudget"
# The kinds whose pods a Service routes to.
SERVICE_BACKED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")

# Where a resource without metadata.namespace lands: its Application's destination, or "".
DestinationNamespace = Callable[[Resource], str]


@dataclass(frozen=True)
class ReplicaFloor:
    """The fewest pods a workload runs, and what sets that number (for messages)."""

    workload: Resource
    count: int
    reason: str  # "healthz-hpa minReplicas", "spec.replicas", "spec.replicas default"
    hpa: Resource | None = None  # the managing HPA whose minReplicas sets the floor


def scale_target_ref(hpa: Resource) -> dict[str, Any] | None:
    """The HPA's ``scaleTargetRef`` when it names a kind and a name, else None."""
    ref = hpa.spec.get("scaleTargetRef")
    if not isinstance(ref, dict) or not ref.get("kind") or not ref.get("name"):
        return None
    return ref


class Relations:
    """Namespace of, services selecting, HPAs managing, PDBs covering, replica floor."""

    def __init__(
        self, resources: Iterable[Resource], destination: DestinationNamespace | None = None
    ) -> None:
        self._destination = destination
        self._namespaces: dict[int, str] = {}
        # (env, namespace, kind) -> resources, in render order.
        self._index: dict[tuple[str, str, str], list[Resource]] = {}
        self._order: dict[int, int] = {}
        self._pod_labels: dict[int, tuple[dict[str, str], GeneratedLabels]] = {}
        # Keyed by id(): the index holds every indexed resource, so no id is reused meanwhile.
        for position, resource in enumerate(resources):
            namespace = self.namespace_of(resource)
            self._index.setdefault((resource.env, namespace, resource.kind), []).append(resource)
            self._order[id(resource)] = position
            self._namespaces[id(resource)] = namespace

    def pod_labels(self, owner: Resource) -> tuple[dict[str, str], GeneratedLabels]:
        """The labels of the owner's pods (its template's, and those its controller adds),
        worked out once per resource: every PDB and Service of an env asks for every owner."""
        key = id(owner)
        if key not in self._pod_labels:
            self._pod_labels[key] = (template_labels(owner.body), generated_labels(owner.body))
        return self._pod_labels[key]

    def namespace_of(self, resource: Resource) -> str:
        """Where the resource lands: its own namespace, else its Application's destination."""
        if resource.namespace:
            return resource.namespace
        cached = self._namespaces.get(id(resource))
        if cached is not None and self._order.get(id(resource)) is not None:
            return cached
        return self._destination(resource) if self._destination is not None else ""

    def neighbours(self, resource: Resource, *kinds: str) -> list[Resource]:
        """Resources of ``kinds`` in the same env and namespace as ``resource`` (any service)."""
        namespace = self.namespace_of(resource)
        found: list[Resource] = []
        for kind in dict.fromkeys(kinds):
            found += self._index.get((resource.env, namespace, kind), [])
        if len(kinds) > 1:  # render order, as the rules report them
            found.sort(key=lambda r: self._order[id(r)])
        return found

    # --- HorizontalPodAutoscalers ---------------------------------------------------------

    def hpa_target(self, hpa: Resource) -> Resource | None:
        """The object the HPA's scaleTargetRef names in its env and namespace, if rendered."""
        ref = scale_target_ref(hpa)
        if ref is None:
            return None
        kind = str(ref.get("kind"))
        for candidate in self.neighbours(hpa, kind):
            if k8s_math.scale_target_matches(ref, candidate.body):
                return candidate
        return None

    def hpas_managing(self, workload: Resource) -> list[Resource]:
        return [
            hpa
            for hpa in self.neighbours(workload, HPA_KIND)
            if (ref := scale_target_ref(hpa)) is not None
            and k8s_math.scale_target_matches(ref, workload.body)
        ]

    def replica_floor(self, workload: Resource) -> ReplicaFloor | None:
        """The fewest pods the workload runs (the highest managing HPA minReplicas, else
        spec.replicas); None when the relevant field holds something that is not a number."""
        try:
            hpas = self.hpas_managing(workload)
            if hpas:
                floors = [(k8s_math.hpa_min_replicas(h.body), h) for h in hpas]
                count, hpa = max(floors, key=lambda pair: pair[0])
                field = "minReplicas" if "minReplicas" in hpa.spec else "default minReplicas"
                return ReplicaFloor(workload, count, f"{hpa.name} {field}", hpa)
            count = k8s_math.workload_replicas(workload.body)
        except InvalidValueError:
            return None
        has_replicas = workload.spec.get("replicas") is not None
        return ReplicaFloor(
            workload, count, "spec.replicas" if has_replicas else "spec.replicas default"
        )

    # --- PodDisruptionBudgets -------------------------------------------------------------

    def pdbs_covering(self, workload: Resource) -> list[Resource]:
        """The PDBs in the workload's env and namespace whose selector picks its pods."""
        labels, generated = self.pod_labels(workload)
        return [
            pdb
            for pdb in self.neighbours(workload, PDB_KIND)
            if pdb_selects(pdb.spec, labels, generated)
        ]

    def pod_owners(self, pdb: Resource) -> list[Resource]:
        """Workloads (and bare Pods) in the PDB's env and namespace whose pods it selects."""
        return [
            owner
            for owner in self.neighbours(pdb, *WORKLOAD_KINDS, "Pod")
            if pdb_selects(pdb.spec, *self.pod_labels(owner))
        ]

    # --- Services -------------------------------------------------------------------------

    def workloads_selected(self, service: Resource) -> list[Resource]:
        """The pod owners a Service's selector routes to (none without a selector)."""
        selector = service_selector(service)
        if not selector:
            return []
        return [
            w
            for w in self.neighbours(service, *SERVICE_BACKED_KINDS)
            if selector_matches({"matchLabels": selector}, *self.pod_labels(w))
        ]

    def services_selecting(self, workload: Resource) -> list[Resource]:
        """The Services in the workload's env and namespace whose selector matches its pods."""
        labels, generated = self.pod_labels(workload)
        return [
            service
            for service in self.neighbours(workload, "Service")
            if (selector := service_selector(service))
            and selector_matches({"matchLabels": selector}, labels, generated)
        ]


def service_selector(service: Resource) -> dict[str, str]:
    """A Service's ``spec.selector`` as strings; ``{}`` when absent or malformed."""
    selector = service.spec.get("selector")
    if not isinstance(selector, dict):
        return {}
    return {str(k): str(v) for k, v in selector.items()}
