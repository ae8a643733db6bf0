"""PodDisruptionBudget on the real cluster: the Eviction API honours healthz-pdb exactly as
gitops.k8s_math computes it, and a node drain is refused by the budget (HTTP 429 at least
once) yet completes, never taking Ready healthz pods below it. For the drain, every healthz
pod is first gathered on the drained node (harness/drain.py): more pods than the budget
allows at once, or the drain would pass without any PDB. Backend-neutral: only API objects
and kubectl are used (kind, or an existing cluster such as KWOK).

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
from tests.e2e.harness.drain import busiest_node, cordon_for_gathering, drain_refusals, pods_by_node
from tests.e2e.harness.environment import E2EEnvironment, utc_stamp
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
    assert status is not None
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


def _gather_on_one_node(env: E2EEnvironment, expectation: PdbExpectation, pod_start: float) -> str:
    """Put every healthz pod on one node: cordon the other schedulable nodes, restart the
    Deployment (new pods can land only there), wait until steady, uncordon. Returns the node.

    Without this the scheduler spreads the pods one per worker, and draining a worker evicts
    a single pod that the budget always allows: the drain would pass with no PDB at all."""
    node = busiest_node(env.k.ready_pods(NAMESPACE, SELECTOR))
    cordoned = cordon_for_gathering(env.k.nodes(), keep=node)
    try:
        for other in cordoned:
            env.k.set_unschedulable(other, True)
        env.k.restart_deployment(NAMESPACE, "healthz", utc_stamp())

        def gathered() -> bool:
            placement = pods_by_node(env.k.pods(NAMESPACE, SELECTOR))
            return list(placement) == [node] and env.k.deployment_rolled_out(NAMESPACE, "healthz")

        wait_until(
            gathered,
            timeout=pod_start + 120,
            what=f"every healthz pod on {node} after a restart with {cordoned} cordoned",
            retry_on=TRANSIENT,
        )
        _wait_steady(env, expectation, timeout=pod_start + 90)
    finally:
        for other in cordoned:
            env.k.set_unschedulable(other, False)
    return node


def test_drain_is_refused_by_the_budget_and_keeps_ready_pods_at_or_above_it(
    budgeted: Budgeted,
) -> None:
    env, expectation = budgeted.env, budgeted.expectation
    node = _gather_on_one_node(env, expectation, budgeted.pod_start)
    on_node = pods_by_node(env.k.ready_pods(NAMESPACE, SELECTOR)).get(node, [])
    # The precondition that makes the drain a test of the budget: it must evict more pods
    # than the budget allows at once, so at least one eviction has to wait.
    assert len(on_node) > expectation.disruptions_allowed, (
        f"{node} holds {on_node}, no more than the {expectation.disruptions_allowed} "
        "disruptions the budget allows: the drain would prove nothing"
    )
    watcher = ReadyPodWatcher(env.k, NAMESPACE, SELECTOR).start()
    wait_until(lambda: watcher.tracker.history, timeout=30, what="the pod watch to start")
    try:
        drained = env.kubectl(
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            f"--pod-selector={SELECTOR}",
            f"--timeout={DRAIN_TIMEOUT_SECONDS}s",
            timeout=DRAIN_TIMEOUT_SECONDS + 60,
        )
        _wait_steady(env, expectation, timeout=budgeted.pod_start + 90)
    finally:
        tracker = watcher.stop()
        env.kubectl("uncordon", node)

    refused = drain_refusals(drained.stdout + "\n" + drained.stderr)
    assert refused, (
        f"kubectl drain of {node} was never refused by healthz-pdb (no 429), though it "
        f"evicted {len(on_node)} pods against {expectation.disruptions_allowed} allowed:\n"
        f"{drained.stderr}"
    )
    assert set(refused) <= set(on_node), (refused, on_node)
    assert not watcher.errors, watcher.errors
    assert tracker.minimum_seen is not None
    below = tracker.below(expectation.desired_healthy)
    assert not below, (
        f"Ready healthz pods fell below desiredHealthy {expectation.desired_healthy} "
        f"during the drain of {node}: {below}"
    )
    on_drained = [p for p in env.k.pods(NAMESPACE, SELECTOR) if p["spec"].get("nodeName") == node]
    assert not on_drained, f"healthz pods still on drained node {node}"
