"""Drain with the production-grade spread: prod kpis-api at its HPA maximum, spread over three
zones by its rendered topologySpreadConstraints, under its rendered PDB. A node holding more
pods than the budget allows is cordoned and drained the way `kubectl drain` does it (evict,
retry on 429). Evictions are refused until replacements are Ready, the Ready count never drops
below desiredHealthy (watched continuously from another thread), and the real scheduler places
every replacement (none left Pending)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from gitops import k8s_math
from tests.cluster.harness import NODE_NAMES
from tests.cluster.kube import Kube, is_ready, wait_for
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
    set_unschedulable,
    wait_deployment_ready,
    with_ready_delay,
)
from tests.e2e.harness.wait import Sampler

pytestmark = pytest.mark.cluster
NAMESPACE = "drain-prod"
READY_DELAY = "3s"  # replacements take this long to become Ready, like a readiness probe
RETRY_SECONDS = 0.5  # kubectl drain retries every 5 s; faster here, same semantics


SAMPLE_SECONDS = 0.05  # how often the Ready pods are counted during the drain


def test_drain_respects_the_budget_and_replacements_are_scheduled(cluster: Kube) -> None:
    docs = in_namespace(rendered("prod", "kpis-api"), NAMESPACE)
    deployment = of_kind(docs, "Deployment")[0]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    pdb = of_kind(docs, "PodDisruptionBudget")[0]
    assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    # The peak the HPA allows, pinned: the HPA itself is left out so it cannot rescale mid-drain.
    replicas = hpa["spec"]["maxReplicas"]
    deployment["spec"]["replicas"] = replicas
    with_ready_delay(deployment, READY_DELAY)
    name, selector = deployment["metadata"]["name"], match_labels(deployment)

    create_namespace(cluster, NAMESPACE)
    # Ready, not-terminating pods, counted continuously from another thread.
    watcher = Sampler(lambda: len(ready_pods(cluster, NAMESPACE, selector)), SAMPLE_SECONDS)
    try:
        assert apply_all(cluster, [d for d in docs if d is not hpa], NAMESPACE) == []
        wait_deployment_ready(cluster, NAMESPACE, name)
        pods = cluster.pods(NAMESPACE, selector)
        per_node = Counter(p.spec.node_name for p in pods)
        # maxSkew 1 over three zones (one node each), honoured by the real scheduler.
        assert len(per_node) == 3 and max(per_node.values()) - min(per_node.values()) <= 1

        desired = k8s_math.desired_healthy(pdb["spec"], replicas)
        allowed = k8s_math.disruptions_allowed(pdb["spec"], replicas, replicas)
        wait_for(
            "the PDB to allow its budget",
            lambda: (
                pdb_status(cluster, NAMESPACE, pdb["metadata"]["name"])
                .get("status", {})
                .get("disruptionsAllowed")
                == allowed
            ),
            timeout=60,
        )
        node = per_node.most_common(1)[0][0]
        victims = sorted(p.metadata.name for p in pods if p.spec.node_name == node)
        assert len(victims) > allowed, "the drained node must hold more pods than the budget"

        watcher.start()
        set_unschedulable(cluster, node, True)
        refusals = _drain(cluster, victims, timeout=120)
        assert refusals > 0, "evictions past the budget must be refused with 429"

        # The Deployment's status can lag the last eviction: wait on the pods themselves.
        def settled() -> Any:
            pods = cluster.pods(NAMESPACE, selector)
            done = len(pods) == replicas and all(is_ready(p) for p in pods)
            return pods if done else None

        after = wait_for("every replacement Ready", settled, timeout=60)
        # Placed by the real scheduler, never on the cordoned node, none left Pending.
        assert all(p.spec.node_name and p.spec.node_name != node for p in after)
        assert not [p.metadata.name for p in after if p.status.phase == "Pending"]
        assert all(
            any(c.type == "PodScheduled" and c.status == "True" for c in p.status.conditions)
            for p in after
        )
    finally:
        samples = watcher.stop()
        for each in NODE_NAMES:
            set_unschedulable(cluster, each, False)
        delete_namespace(cluster, NAMESPACE, wait=False)
    assert not watcher.errors, watcher.errors
    assert len(samples) > 20
    minimum = min(ready for _, ready in samples)
    assert minimum >= desired, f"Ready pods dropped to {minimum} < desiredHealthy {desired}"


def _drain(kube: Kube, pods: list[str], timeout: float) -> int:
    """Evict every pod, retrying 429 like `kubectl drain`; returns how many were refused."""
    refusals = 0
    deadline = time.monotonic() + timeout
    pending = list(pods)
    while pending:
        assert time.monotonic() < deadline, f"drain stuck on {pending}"
        response: Any = kube.evict(NAMESPACE, pending[0])
        if response.status in (200, 201):
            pending.pop(0)
        elif response.status == 429:
            refusals += 1
            time.sleep(RETRY_SECONDS)
        else:
            raise AssertionError(f"evicting {pending[0]}: {response.status} {response.message}")
    return refusals
