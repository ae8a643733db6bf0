"""Rolling update and graceful shutdown on real containers, under HTTP load through healthz's
Service (the in-cluster load generator, which counts every request it sends: answered, or
lost to a refused or reset connection, a timeout or a non-200 status).

* A rollout of healthz (a new pod template, as `kubectl rollout restart` makes) stays within
  the strategy's bounds, with maxSurge/maxUnavailable resolved as `gitops simulate rollout`
  resolves them: the ReplicaSets' specs never sum above replicas + maxSurge, Ready pods never
  drop below replicas - maxUnavailable; and no request is lost.
* Deleting healthz pods one by one under the same load loses no request either: the preStop
  sleep keeps a pod serving while kube-proxy stops sending it new connections, then SIGTERM
  drains what is in flight (base/healthz/deployment.yaml explains the budget).

The replica count is held by raising the HPA's minimum to its maximum for the duration (the
load must not scale healthz in the middle), restored afterwards.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gitops.simulate.rollout import deployment_rollout
from tests.e2e.harness.deploy import NAMESPACE, find_one
from tests.e2e.harness.environment import E2EEnvironment, utc_stamp
from tests.e2e.harness.expectations import HpaBounds, container, startup_budget
from tests.e2e.harness.kube import TRANSIENT
from tests.e2e.harness.load import LOAD_CONTAINER, LOAD_DEPLOYMENT
from tests.e2e.harness.wait import Sampler, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.needs_containers]

SELECTOR = "app=healthz"
LOAD_SELECTOR = f"app={LOAD_DEPLOYMENT}"
CLIENTS = 2  # light: every request counts, none should queue behind a flood
SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class Held:
    env: E2EEnvironment
    replicas: int
    pod_start: float


@pytest.fixture
def held(stack: E2EEnvironment) -> Iterator[Held]:
    """healthz at its HPA maximum, steady, with the counting load running."""
    hpa = find_one(stack.stack, "HorizontalPodAutoscaler", "healthz-hpa")
    bounds = HpaBounds.from_hpa(hpa)
    pod_start = startup_budget(container(find_one(stack.stack, "Deployment", "healthz"), "healthz"))
    stack.k.patch_hpa_min_replicas(NAMESPACE, "healthz-hpa", bounds.max_replicas)
    try:
        wait_until(
            lambda: (
                stack.k.deployment_rolled_out(NAMESPACE, "healthz")
                and len(stack.k.ready_pods(NAMESPACE, SELECTOR)) == bounds.max_replicas
            ),
            timeout=pod_start + 120,
            what=f"healthz at {bounds.max_replicas} Ready pods",
            retry_on=TRANSIENT,
        )
        stack.k.run_load(NAMESPACE, LOAD_DEPLOYMENT, LOAD_CONTAINER, CLIENTS)
        try:
            wait_until(
                lambda: load_report(stack)["ok"] > 50,
                timeout=120,
                what="the load generator answering",
                retry_on=(*TRANSIENT, LookupError),
            )
            yield Held(stack, bounds.max_replicas, pod_start)
        finally:
            stack.k.scale_deployment(NAMESPACE, LOAD_DEPLOYMENT, 0)
    finally:
        stack.k.patch_hpa_min_replicas(NAMESPACE, "healthz-hpa", bounds.min_replicas)


def load_report(env: E2EEnvironment) -> dict[str, Any]:
    """The load generator's latest totals (its last JSON line on stdout)."""
    pods = [
        p
        for p in env.k.pods(NAMESPACE, LOAD_SELECTOR)
        if not p["metadata"].get("deletionTimestamp")
    ]
    if len(pods) != 1:
        raise LookupError(f"expected one load generator pod, found {len(pods)}")
    logs = env.k.core.read_namespaced_pod_log(pods[0]["metadata"]["name"], NAMESPACE, tail_lines=5)
    lines = [line for line in str(logs).splitlines() if line.startswith("{")]
    if not lines:
        raise LookupError("the load generator has not reported yet")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


@dataclass(frozen=True)
class Look:
    specs: int  # sum of the ReplicaSets' spec.replicas
    ready: int  # Ready, non-terminating healthz pods


def look(env: E2EEnvironment) -> Look:
    sets = env.k.apps.list_namespaced_replica_set(NAMESPACE, label_selector=SELECTOR).items
    specs = sum((rs.spec.replicas or 0) for rs in sets)
    ready = [
        p
        for p in env.k.ready_pods(NAMESPACE, SELECTOR)
        if not p["metadata"].get("deletionTimestamp")
    ]
    return Look(specs, len(ready))


def _settle_and_count(env: E2EEnvironment, before: dict[str, Any]) -> tuple[int, int, list[str]]:
    """Wait two reports past now, then (answered, lost, errors) since ``before``."""
    stamp = load_report(env)["t"]
    after = wait_until(
        lambda: (r := load_report(env)) and r["t"] >= stamp + 2 and r,
        timeout=30,
        what="two more load reports",
        retry_on=(*TRANSIENT, LookupError),
    )
    return after["ok"] - before["ok"], after["failed"] - before["failed"], after["errors"]


def test_rolling_update_stays_within_surge_and_unavailable_and_loses_no_request(
    held: Held,
) -> None:
    env, replicas = held.env, held.replicas
    deployment = env.k.deployment(NAMESPACE, "healthz")
    plan = deployment_rollout(deployment, replicas, ready_seconds=0.0, source="e2e rollout")
    surge, unavailable = plan.surge, plan.unavailable
    old_sets = {
        rs["metadata"]["name"]
        for rs in map(
            env.k.to_dict,
            env.k.apps.list_namespaced_replica_set(NAMESPACE, label_selector=SELECTOR).items,
        )
    }
    before = load_report(env)
    sampler = Sampler(lambda: look(env), interval=SAMPLE_SECONDS).start()
    try:
        env.k.restart_deployment(NAMESPACE, "healthz", utc_stamp())

        def rolled() -> bool:
            names = {
                p["metadata"].get("ownerReferences", [{}])[0].get("name")
                for p in env.k.ready_pods(NAMESPACE, SELECTOR)
            }
            return env.k.deployment_rolled_out(NAMESPACE, "healthz") and not names & old_sets

        wait_until(
            rolled,
            timeout=replicas * (held.pod_start + 60),
            what="the healthz rollout to finish",
            retry_on=TRANSIENT,
        )
    finally:
        samples = sampler.stop()
    answered, lost, errors = _settle_and_count(env, before)

    assert len(samples) >= 10, f"too few samples to follow the rollout: {samples}"
    over = [(t, s) for t, s in samples if s.specs > replicas + surge]
    assert not over, f"ReplicaSet specs above {replicas} + maxSurge {surge}: {over}"
    under = [(t, s) for t, s in samples if s.ready < replicas - unavailable]
    assert not under, f"Ready pods below {replicas} - maxUnavailable {unavailable}: {under}"
    assert max(s.specs for _, s in samples) > replicas or surge == 0, "no surge was ever used"
    assert answered > 100, f"the load sent too little to prove anything: {answered} answered"
    assert lost == 0, f"{lost} requests lost during the rollout ({answered} answered): {errors}"


def _replaced(env: E2EEnvironment, name: str, replicas: int) -> bool:
    names = {p["metadata"]["name"] for p in env.k.pods(NAMESPACE, SELECTOR)}
    return name not in names and len(env.k.ready_pods(NAMESPACE, SELECTOR)) >= replicas


def test_deleting_pods_under_load_loses_no_request(held: Held) -> None:
    env = held.env
    before = load_report(env)
    victims = [p["metadata"]["name"] for p in env.k.ready_pods(NAMESPACE, SELECTOR)]
    for name in victims:
        # As a drain or a scale-down does: the default grace period, preStop and SIGTERM.
        env.k.core.delete_namespaced_pod(name, NAMESPACE)
        wait_until(
            functools.partial(_replaced, env, name, held.replicas),
            timeout=held.pod_start + 90,
            what=f"{name} gone and healthz back at {held.replicas} Ready pods",
            retry_on=TRANSIENT,
        )
    answered, lost, errors = _settle_and_count(env, before)
    assert answered > 100, f"the load sent too little to prove anything: {answered} answered"
    assert lost == 0, (
        f"{lost} requests lost while {len(victims)} pods shut down ({answered} answered): {errors}"
    )
