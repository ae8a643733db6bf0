"""The Kubernetes object layer: workload accessors, selectors and the relation index.

Every rule, ``probe``, ``simulate`` and the e2e expectations read pods, containers, namespaces,
HPA targets and PDB coverage through this package, so those semantics are written once. The
controller-cited arithmetic (replica floors, disruption budgets) stays in
:mod:`gitops.k8s_math`, which this layer uses.
"""

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
