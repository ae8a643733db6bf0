"""The Kubernetes object layer: workload accessors and the relation index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops.config import RepoConfig
from gitops.k8s import (
    Relations,
    all_containers,
    find_container,
    running_containers,
    template_labels,
)
from gitops.model import Resource, ResourceKey
from gitops.policy import CheckContext, get_rule


def _res(doc: dict[str, Any], env: str = "prod", service: str = "web") -> Resource:
    return Resource(env, service, ResourceKey.of(doc), doc, overlay_path=f"overlays/{env}/web")


def _deployment(name: str = "web", replicas: Any = 2, namespace: str = "demo") -> dict[str, Any]:
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


def _hpa(
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


def _pdb(selector: Any, namespace: str = "demo") -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"minAvailable": 1, "selector": selector},
    }


def test_resource_key_of_reads_missing_and_mistyped_fields_as_empty() -> None:
    assert ResourceKey.of({"kind": "Pod", "metadata": "garbage"}) == ResourceKey("", "Pod", "", "")
    assert str(ResourceKey.of(_deployment())) == "apps/v1/Deployment/demo/web"


def test_containers_of_every_list_skip_non_dicts_and_know_sidecars() -> None:
    doc = _deployment()
    assert [c["name"] for c in all_containers(doc)] == ["migrate", "proxy", "web"]
    pod_spec = doc["spec"]["template"]["spec"]
    assert [c["name"] for c in running_containers(pod_spec)] == ["web", "proxy"]
    assert find_container(doc)["name"] == "web"
    assert find_container(doc, "nope") == {}
    assert template_labels(doc) == {"app": "web"}
    pod = {"kind": "Pod", "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{}]}}
    assert template_labels(pod) == {"a": "b"}


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
    workload, hpa = _res(_deployment()), _res(_hpa(target_api))
    relations = Relations([workload, hpa])
    assert relations.hpas_managing(workload) == ([hpa] if manages else [])
    assert relations.hpa_target(hpa) == (workload if manages else None)


def test_relations_stay_within_env_and_landing_namespace() -> None:
    # Neither has metadata.namespace: both land in the Application's destination.
    workload = _res(_deployment(namespace=""))
    hpa = _res(_hpa("apps/v1", namespace=""))
    other_env = _res(_hpa("apps/v1", namespace=""), env="dev")
    relations = Relations([workload, hpa, other_env], lambda r: "demo")
    assert relations.namespace_of(workload) == "demo"
    assert relations.hpas_managing(workload) == [hpa]
    elsewhere = _res(_hpa("apps/v1", namespace="other"))
    assert Relations([workload, elsewhere], lambda r: "demo").hpas_managing(workload) == []


def test_replica_floor_takes_the_highest_hpa_and_refuses_non_numbers() -> None:
    workload = _res(_deployment())
    low, high = _res(_hpa("apps/v1", 2, name="a")), _res(_hpa("apps/v1", 4, name="b"))
    floor = Relations([workload, low, high]).replica_floor(workload)
    assert floor is not None
    assert (floor.count, floor.reason, floor.hpa) == (4, "b minReplicas", high)
    assert Relations([workload, _res(_hpa("apps/v1", "two"))]).replica_floor(workload) is None
    plain = Relations([workload]).replica_floor(workload)
    assert plain is not None and (plain.count, plain.reason) == (2, "spec.replicas")


def test_pdb_coverage_and_services_selecting() -> None:
    workload = _res(_deployment())
    everything = _res(_pdb({}))
    absent = _res(_pdb(None))
    malformed = _res(_pdb({"matchLabels": "app=web"}))
    service = _res(
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


def _env_regression(resources: list[Resource]) -> list[str]:
    ctx = CheckContext(
        repo=Path("."), config=RepoConfig(envs=("dev", "prod")), overlays=(), resources=resources
    )
    rule_func = get_rule("env-regression").func
    assert rule_func is not None
    return sorted(hit.message for hit in rule_func(ctx))


def test_env_regression_reads_hpas_like_the_hpa_rules_on_malformed_input() -> None:
    """env-regression used to match an HPA by kind and name only and read a non-numeric
    minReplicas as 1: an HPA the controller never attaches (wrong group) still counted, and a
    garbled floor became a "regression". It now reads both through the relation index."""
    dev = [_res(_deployment(), env="dev"), _res(_hpa("apps/v1", 3), env="dev")]
    garbled = [_res(_deployment()), _res(_hpa("apps/v1", "three"))]
    messages = _env_regression(dev + garbled)
    # No HPA missing, no maxReplicas drop, and no replica comparison against an unreadable floor.
    assert not any("minimum replicas" in m for m in messages)
    assert not any("HorizontalPodAutoscaler" in m for m in messages)

    wrong_group = [_res(_deployment()), _res(_hpa("extensions/v1beta1", 3))]
    messages = _env_regression(dev + wrong_group)
    # The wrong-group HPA manages nothing (hpa-target-missing says so): prod has no HPA.
    assert "no HorizontalPodAutoscaler in prod, but dev has web (maxReplicas 6)" in messages
    ctx = CheckContext(
        repo=Path("."), config=RepoConfig(envs=("prod",)), overlays=(), resources=wrong_group
    )
    target_missing = get_rule("hpa-target-missing").func
    assert target_missing is not None
    assert [h.resource for h in target_missing(ctx)] == [wrong_group[1]]


def test_env_regression_pdb_coverage_matches_the_pdb_rules() -> None:
    """An empty selector covers every pod of the namespace (policy/v1), in env-regression as in
    pdb-selector-unmatched; a malformed one covers none in both."""
    dev = [_res(_deployment(), env="dev"), _res(_pdb({"matchLabels": {"app": "web"}}), env="dev")]
    covered = _env_regression([*dev, _res(_deployment()), _res(_pdb({}))])
    assert not any("PodDisruptionBudget" in m for m in covered)
    broken = _env_regression([*dev, _res(_deployment()), _res(_pdb({"matchLabels": "x"}))])
    assert "no PodDisruptionBudget covers the pods in prod, but dev has web" in broken


def test_the_engine_hands_single_resource_rules_only_their_kinds() -> None:
    """hpa-bounds declares kinds=(HorizontalPodAutoscaler,): a Deployment with a field the rule
    would read (minReplicas 0 in its spec) is never shown to it."""
    from gitops.policy import run_rule

    bad_hpa = _hpa("apps/v1", 0)
    lookalike = _deployment()
    lookalike["spec"]["minReplicas"] = 0
    ctx = CheckContext(
        repo=Path("."),
        config=RepoConfig(envs=("prod",)),
        overlays=(),
        resources=[_res(lookalike), _res(bad_hpa)],
    )
    registered = get_rule("hpa-bounds")
    assert registered.per_resource and registered.kinds == ("HorizontalPodAutoscaler",)
    assert [h.resource.kind for h in run_rule(ctx, registered) if h.resource] == [
        "HorizontalPodAutoscaler"
    ]
