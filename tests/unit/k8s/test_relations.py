"""``gitops.k8s.relations``: the relation index (HPA targets by group, kind and name; PDB
coverage; Services; replica floor), within one env and landing namespace."""

from __future__ import annotations

import pytest

from gitops.k8s import Relations
from tests.unit.k8s.objects import deployment_doc, hpa_doc, pdb_doc, res


@pytest.mark.parametrize(
    ("target_api", "manages"),
    [
        ("apps/v1", True),
        ("apps/v1beta2", True),  # the version does not matter, the group does
        ("extensions/v1beta1", False),
        (None, False),  # no apiVersion is the core group: no Deployment there
    ],
)
def test_hpa_manages_by_group_kind_and_name(target_api: str | None, manages: bool) -> None:
    workload, hpa = res(deployment_doc()), res(hpa_doc(target_api))
    relations = Relations([workload, hpa])
    assert relations.hpas_managing(workload) == ([hpa] if manages else [])
    assert relations.hpa_target(hpa) == (workload if manages else None)


def test_relations_stay_within_env_and_landing_namespace() -> None:
    # Neither has metadata.namespace: both land in the Application's destination.
    workload = res(deployment_doc(namespace=""))
    hpa = res(hpa_doc("apps/v1", namespace=""))
    other_env = res(hpa_doc("apps/v1", namespace=""), env="dev")
    relations = Relations([workload, hpa, other_env], lambda r: "demo")
    assert relations.namespace_of(workload) == "demo"
    assert relations.hpas_managing(workload) == [hpa]
    elsewhere = res(hpa_doc("apps/v1", namespace="other"))
    assert Relations([workload, elsewhere], lambda r: "demo").hpas_managing(workload) == []


def test_replica_floor_takes_the_highest_hpa_and_refuses_non_numbers() -> None:
    workload = res(deployment_doc())
    low, high = res(hpa_doc("apps/v1", 2, name="a")), res(hpa_doc("apps/v1", 4, name="b"))
    floor = Relations([workload, low, high]).replica_floor(workload)
    assert floor is not None
    assert (floor.count, floor.reason, floor.hpa) == (4, "b minReplicas", high)
    assert Relations([workload, res(hpa_doc("apps/v1", "two"))]).replica_floor(workload) is None
    plain = Relations([workload]).replica_floor(workload)
    assert plain is not None and (plain.count, plain.reason) == (2, "spec.replicas")


def test_pdb_coverage_and_services_selecting() -> None:
    workload = res(deployment_doc())
    everything = res(pdb_doc({}))
    absent = res(pdb_doc(None))
    malformed = res(pdb_doc({"matchLabels": "app=web"}))
    service = res(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "demo"},
            "spec": {"selector": {"app": "web"}},
        }
    )
    relations = Relations([workload, everything, absent, malformed, service])
    # policy/v1: {} selects every pod, an absent or malformed selector none.
    assert relations.pdbs_covering(workload) == [everything]
    assert relations.pod_owners(everything) == [workload]
    assert relations.services_selecting(workload) == [service]
    assert relations.workloads_selected(service) == [workload]
