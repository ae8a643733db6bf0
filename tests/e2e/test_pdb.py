"""PodDisruptionBudget on the real cluster: the Eviction API honours healthz-pdb exactly as
gitops.k8s_math computes it, and a node drain never takes Ready healthz pods below the budget.

The dev HPA's minimum (1) with maxUnavailable 1 allows an eviction but can never refuse one
while a Ready pod remains, so the tests raise the HPA minimum, for their duration only, to
the fewest replicas at which the budget both allows and refuses (computed, not typed in).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.harness.deploy import NAMESPACE, find_one
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.expectations import (
    HpaBounds,
    PdbExpectation,
    container,
    pdb_expectation,
    replicas_for_eviction_test,
    startup_budget,
)
from tests.e2e.harness.kube import TRANSIENT, ReadyPodWatcher
from tests.e2e.harness.wait import wait_until

pytestmark = pytest.mark.e2e

SELECTOR = "app=healthz"
DRAIN_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Budgeted:
    env: E2EEnvironment
    expectation: PdbExpectation
    pod_start: float


def _wait_steady(env: E2EEnvironment, expectation: PdbExpectation, timeout: float) -> None:
    """n Ready pods, and the disruption controller agrees with our arithmetic."""

    def steady() -> dict[str, Any] | None:
        if not env.k.deployment_rolled_out(NAMESPACE, "healthz"):
            return None
        if len(env.k.ready_pods(NAMESPACE, SELECTOR)) != expectation.replicas:
            return None
        status = env.k.pdb(NAMESPACE, "healthz-pdb").get("status") or {}
        return status if status.get("currentHealthy") == expectation.replicas else None

    status = wait_until(
        steady,
        timeout=timeout,
        what=f"{expectation.replicas} Ready healthz pods",
        retry_on=TRANSIENT,
    )
    assert status["desiredHealthy"] == expectation.desired_healthy, status
    assert status["disruptionsAllowed"] == expectation.disruptions_allowed, status


@pytest.fixture
def budgeted(stack: E2EEnvironment) -> Iterator[Budgeted]:
    hpa = find_one(stack.stack, "HorizontalPodAutoscaler", "healthz-hpa")
    pdb = find_one(stack.stack, "PodDisruptionBudget", "healthz-pdb")
    bounds = HpaBounds.from_hpa(hpa)
    replicas = replicas_for_eviction_test(pdb, bounds.min_replicas, bounds.max_replicas)
    expectation = pdb_expectation(pdb, replicas)
    pod_start = startup_budget(container(find_one(stack.stack, "Deployment", "healthz"), "healthz"))
    stack.k.patch_hpa_min_replicas(NAMESPACE, "healthz-hpa", replicas)
    try:
        _wait_steady(stack, expectation, timeout=pod_start + 90)
        yield Budgeted(stack, expectation, pod_start)
    finally:
        stack.k.patch_hpa_min_replicas(NAMESPACE, "healthz-hpa", bounds.min_replicas)


def test_eviction_api_allows_the_budget_then_answers_429(budgeted: Budgeted) -> None:
    env, expectation = budgeted.env, budgeted.expectation
    ready = [p["metadata"]["name"] for p in env.k.ready_pods(NAMESPACE, SELECTOR)]
    assert len(ready) == expectation.replicas

    outcomes = [env.k.evict(NAMESPACE, pod) for pod in ready]

    codes = [code for code, _ in outcomes]
    allowed = expectation.disruptions_allowed
    # Back to back, faster than a replacement pod can become Ready: exactly the budget passes.
    assert codes[:allowed] == [201] * allowed, outcomes
    assert codes[allowed] == 429, outcomes
    assert "disruption budget" in outcomes[allowed][1], outcomes[allowed]
    _wait_steady(env, expectation, timeout=budgeted.pod_start + 90)


def _worker_holding_most(env: E2EEnvironment) -> str:
    nodes: dict[str, int] = {}
    for pod in env.k.ready_pods(NAMESPACE, SELECTOR):
        node = pod["spec"]["nodeName"]
        nodes[node] = nodes.get(node, 0) + 1
    return max(sorted(nodes), key=lambda n: nodes[n])


def test_drain_keeps_ready_healthz_pods_at_or_above_the_budget(budgeted: Budgeted) -> None:
    env, expectation = budgeted.env, budgeted.expectation
    node = _worker_holding_most(env)
    watcher = ReadyPodWatcher(env.k, NAMESPACE, SELECTOR).start()
    wait_until(lambda: watcher.tracker.history, timeout=30, what="the pod watch to start")
    try:
        env.kubectl(
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            f"--timeout={DRAIN_TIMEOUT_SECONDS}s",
            timeout=DRAIN_TIMEOUT_SECONDS + 60,
        )
        _wait_steady(env, expectation, timeout=budgeted.pod_start + 90)
    finally:
        tracker = watcher.stop()
        env.kubectl("uncordon", node)

    assert not watcher.errors, watcher.errors
    assert tracker.minimum_seen is not None
    below = tracker.below(expectation.desired_healthy)
    assert not below, (
        f"Ready healthz pods fell below desiredHealthy {expectation.desired_healthy} "
        f"during the drain of {node}: {below}"
    )
    on_drained = [p for p in env.k.pods(NAMESPACE, SELECTOR) if p["spec"].get("nodeName") == node]
    assert not on_drained, f"healthz pods still on drained node {node}"
