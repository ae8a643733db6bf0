"""The Kubernetes object layer: workload accessors, selectors and the relation index.

Every rule, ``probe``, ``simulate`` and the e2e expectations read pods, containers, namespaces,
HPA targets and PDB coverage through this package, so those semantics are written once. The
controller-cited arithmetic (replica floors, disruption budgets) stays in
:mod:`gitops.k8s_math`, which this layer uses.

Importing the package loads none of its modules: a name loads its module when first used, so
a command that reads only ``gitops.k8s.features`` (gitops.yaml's feature gates) does not load the
relation index at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops.k8s.relations import (
        HPA_KIND,
        PDB_KIND,
        SERVICE_BACKED_KINDS,
        Relations,
        ReplicaFloor,
        scale_target_ref,
        service_selector,
    )
    from gitops.k8s.scope import CLUSTER_SCOPED_KINDS, is_namespaced
    from gitops.k8s.selectors import (
        GeneratedLabels,
        generated_labels,
        pdb_selects,
        selector_matches,
        valid_label_selector,
    )
    from gitops.k8s.workload import (
        CONTAINER_LISTS,
        WORKLOAD_KINDS,
        all_containers,
        find_container,
        is_sidecar,
        pod_spec_of,
        pod_template_of,
        running_containers,
        sidecars,
        spec_containers,
        template_labels,
        template_of,
    )

# Each exported name and the module that defines it.
_SOURCES = {
    "HPA_KIND": "gitops.k8s.relations",
    "PDB_KIND": "gitops.k8s.relations",
    "SERVICE_BACKED_KINDS": "gitops.k8s.relations",
    "Relations": "gitops.k8s.relations",
    "ReplicaFloor": "gitops.k8s.relations",
    "scale_target_ref": "gitops.k8s.relations",
    "service_selector": "gitops.k8s.relations",
    "CLUSTER_SCOPED_KINDS": "gitops.k8s.scope",
    "is_namespaced": "gitops.k8s.scope",
    "GeneratedLabels": "gitops.k8s.selectors",
    "generated_labels": "gitops.k8s.selectors",
    "pdb_selects": "gitops.k8s.selectors",
    "selector_matches": "gitops.k8s.selectors",
    "valid_label_selector": "gitops.k8s.selectors",
    "CONTAINER_LISTS": "gitops.k8s.workload",
    "WORKLOAD_KINDS": "gitops.k8s.workload",
    "all_containers": "gitops.k8s.workload",
    "find_container": "gitops.k8s.workload",
    "is_sidecar": "gitops.k8s.workload",
    "pod_spec_of": "gitops.k8s.workload",
    "pod_template_of": "gitops.k8s.workload",
    "running_containers": "gitops.k8s.workload",
    "sidecars": "gitops.k8s.workload",
    "spec_containers": "gitops.k8s.workload",
    "template_labels": "gitops.k8s.workload",
    "template_of": "gitops.k8s.workload",
}


def __getattr__(name: str) -> Any:
    """Load the module that defines ``name`` (PEP 562), once."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "CONTAINER_LISTS",
    "HPA_KIND",
    "PDB_KIND",
    "SERVICE_BACKED_KINDS",
    "WORKLOAD_KINDS",
    "GeneratedLabels",
    "Relations",
    "ReplicaFloor",
    "all_containers",
    "find_container",
    "generated_labels",
    "is_namespaced",
    "is_sidecar",
    "pdb_selects",
    "pod_spec_of",
    "pod_template_of",
    "running_containers",
    "scale_target_ref",
    "selector_matches",
    "service_selector",
    "sidecars",
    "spec_containers",
    "template_labels",
    "template_of",
    "valid_label_selector",
]
