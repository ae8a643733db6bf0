"""``gitops.k8s.scope``: which kinds are cluster-scoped (so they get no namespace)."""

from __future__ import annotations

from gitops.k8s.scope import CLUSTER_SCOPED_KINDS, is_namespaced


def test_cluster_scoped_kinds_are_not_namespaced_and_anything_else_is() -> None:
    for kind in ("Namespace", "ClusterRole", "CustomResourceDefinition", "PriorityClass"):
        assert not is_namespaced(kind), kind
    # Unknown kinds (a CRD's) count as namespaced, as most are; kinds are case-sensitive.
    for kind in ("Deployment", "Role", "PodDisruptionBudget", "Widget", "namespace"):
        assert is_namespaced(kind), kind
    assert all(kind[0].isupper() for kind in CLUSTER_SCOPED_KINDS)
