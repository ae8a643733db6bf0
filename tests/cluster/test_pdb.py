"""PodDisruptionBudgets: the real disruption controller's status equals gitops.k8s_math's
prediction for healthz and kpis-api in every env, and the Eviction API honours it: evictions
succeed while budget remains and answer 429 once it is spent.

Replacements must not refill the budget while it is spent: the pods take READY_DELAY to become
Ready (KWOK's readiness delay, like a readiness probe), far longer than the burst of evictions.
Cordoning every node would do it too, but the HPA scenario runs beside this test
(conftest.py) and its new pods must be scheduled."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from gitops import k8s_math
from tests.cluster.kube import Kube, wait_for
from tests.cluster.workloads import (
    apply_all,
    create_namespace,
    delete_namespace,
    in_namespace,
    match_labels,
    of_kind,
    pdb_status,
    ready_pods,
    rendered,
    repo_config,
    spec_replicas_are,
    wait_deployment_ready,
    with_ready_delay,
)

pytestmark = pytest.mark.cluster
SERVICES = ("healthz", "kpis-api")
READY_DELAY = "2s"


@pytest.mark.parametrize("env", repo_config().envs)
def test_disruption_controller_matches_k8s_math_and_eviction_honours_it(
    cluster: Kube, env: str
) -> None:
    namespace = f"pdb-{env}"
    docs = in_namespace([d for s in SERVICES for d in rendered(env, s)], namespace)
    for deployment in of_kind(docs, "Deployment"):
        with_ready_delay(deployment, READY_DELAY)
    create_namespace(cluster, namespace)
    try:
        assert apply_all(cluster, docs, namespace) == []
        hpas = of_kind(docs, "HorizontalPodAutoscaler")
        budgets = of_kind(docs, "PodDisruptionBudget")
        assert len(budgets) == len(SERVICES)
        for pdb in budgets:
            deployment = next(
                d
                for d in of_kind(docs, "Deployment")
                if match_labels(pdb).items() <= d["spec"]["template"]["metadata"]["labels"].items()
            )
            scale = k8s_math.min_replicas(deployment, hpas)
            name = deployment["metadata"]["name"]
            wait_for(
                f"{name} at the HPA floor {scale}",
                functools.partial(spec_replicas_are, cluster, namespace, name, scale),
                timeout=60,
            )
            wait_deployment_ready(cluster, namespace, name)
            _check_budget(cluster, namespace, pdb, scale)
    finally:
        delete_namespace(cluster, namespace, wait=False)


def _check_budget(kube: Kube, namespace: str, pdb: dict[str, Any], scale: int) -> None:
    name, spec = pdb["metadata"]["name"], pdb["spec"]
    selector = match_labels(pdb)
    healthy = len(ready_pods(kube, namespace, selector))
    expected = k8s_math.expected_pods(spec, controller_scale=scale, matched_pods=healthy)
    predicted = {
        "expectedPods": expected,
        "desiredHealthy": k8s_math.desired_healthy(spec, expected),
        "currentHealthy": healthy,
        "disruptionsAllowed": k8s_math.disruptions_allowed(spec, healthy, expected),
    }

    def observed() -> Any:
        body = pdb_status(kube, namespace, name)
        status = body.get("status", {})
        if status.get("observedGeneration") != body["metadata"]["generation"]:
            return None
        got = {key: status.get(key, 0) for key in predicted}
        return got if got == predicted else None

    wait_for(f"PDB {name} status {predicted}", observed, timeout=60)

    # Back to back, well inside READY_DELAY: no replacement is Ready before the last call.
    pods = sorted(p.metadata.name for p in ready_pods(kube, namespace, selector))
    allowed = predicted["disruptionsAllowed"]
    for pod in pods[:allowed]:
        response = kube.evict(namespace, pod)
        assert response.status == 201, f"evicting {pod}: {response.status} {response.message}"
    assert pdb_status(kube, namespace, name)["status"]["disruptionsAllowed"] == 0
    if allowed < len(pods):  # a budget of every pod (1 replica, maxUnavailable 1) is never spent
        refused = kube.evict(namespace, pods[allowed])
        assert refused.status == 429, f"{pods[allowed]}: {refused.status} {refused.message}"
        assert "disruption budget" in refused.message
