"""Probes, observed on the real cluster: startup budgets, /health, liveness restarts and a
readiness that follows the database while liveness does not."""

from __future__ import annotations

import copy
import datetime
import urllib.request
from typing import Any

import pytest

from tests.e2e.harness.deploy import NAMESPACE, find_one
from tests.e2e.harness.environment import TEST_DB, E2EEnvironment, utc_stamp
from tests.e2e.harness.expectations import (
    container,
    liveness_hold_seconds,
    liveness_restart_budget,
    ready_again_budget,
    startup_budget,
    unready_budget,
)
from tests.e2e.harness.kube import TRANSIENT, condition
from tests.e2e.harness.portforward import port_forward
from tests.e2e.harness.wait import Backoff, holds_for, wait_until

# Real containers answer the probes: kind and the node tier.
pytestmark = [pytest.mark.e2e, pytest.mark.needs_containers]

SERVICES = {"healthz": "app=healthz", "kpis-api": "app=kpis-api"}


def _timestamp(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _seconds_to_ready(pod: dict[str, Any]) -> float:
    ready = condition(pod, "Ready")
    assert ready is not None and ready.get("status") == "True"
    created = _timestamp(pod["metadata"]["creationTimestamp"])
    return (_timestamp(ready["lastTransitionTime"]) - created).total_seconds()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_pods_become_ready_within_their_startup_budget(stack: E2EEnvironment, service: str) -> None:
    deployment = find_one(stack.stack, "Deployment", service)
    budget = startup_budget(container(deployment, service))
    before = {p["metadata"]["name"] for p in stack.k.pods(NAMESPACE, SERVICES[service])}

    stack.k.restart_deployment(NAMESPACE, service, utc_stamp())

    def replaced() -> bool:
        names = {p["metadata"]["name"] for p in stack.k.pods(NAMESPACE, SERVICES[service])}
        return stack.k.deployment_rolled_out(NAMESPACE, service) and not before & names

    wait_until(
        replaced, timeout=budget + 120, what=f"{service} rollout restart", retry_on=TRANSIENT
    )

    new_pods = stack.k.ready_pods(NAMESPACE, SERVICES[service])
    assert new_pods, f"no Ready {service} pod after the restart"
    timings = {p["metadata"]["name"]: _seconds_to_ready(p) for p in new_pods}
    late = {name: t for name, t in timings.items() if t > budget}
    assert not late, f"{service} pods Ready later than the {budget:g}s startup budget: {late}"


@pytest.mark.parametrize(("service", "port_name"), [("healthz", "http"), ("kpis-api", "http")])
def test_health_answers_through_a_port_forward(
    stack: E2EEnvironment, service: str, port_name: str
) -> None:
    svc = find_one(stack.stack, "Service", service)
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == port_name)
    with port_forward(
        stack.cluster.kubectl, stack.cluster.kubectl_env(), NAMESPACE, f"service/{service}", port
    ) as local:

        def get_health() -> tuple[int, bytes]:
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/health", timeout=5) as r:
                return r.status, r.read()

        status, body = wait_until(
            get_health, timeout=30, what=f"{service} /health", retry_on=(OSError,)
        )
    assert status == 200, (status, body)


def broken_liveness_copy(deployment: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    """The rendered Deployment under a new name and labels (so no Service, PDB or HPA of the
    original selects it), with every liveness probe pointed at ``path``."""
    broken = copy.deepcopy(deployment)
    broken["metadata"] = {"name": name, "namespace": NAMESPACE, "labels": {"app": name}}
    broken["spec"]["replicas"] = 1
    broken["spec"]["selector"] = {"matchLabels": {"app": name}}
    broken["spec"]["template"]["metadata"]["labels"] = {"app": name}
    for item in broken["spec"]["template"]["spec"]["containers"]:
        if "livenessProbe" in item:
            item["livenessProbe"]["httpGet"]["path"] = path
    return broken


def test_wrong_liveness_path_gets_the_container_restarted(stack: E2EEnvironment) -> None:
    name = "healthz-bad-liveness"
    deployment = find_one(stack.stack, "Deployment", "healthz")
    broken = broken_liveness_copy(deployment, name, "/e2e-no-such-path")
    pod_spec = broken["spec"]["template"]["spec"]
    budget = liveness_restart_budget(
        container(broken, "healthz"), pod_spec.get("terminationGracePeriodSeconds")
    )
    stack.apply([broken], name)
    try:

        def restarted() -> int:
            counts = stack.k.restart_counts(NAMESPACE, f"app={name}")
            return max((c.get("healthz", 0) for c in counts.values()), default=0)

        # Budget from the first pod's creation: kubelet starts probing when the container runs.
        count = wait_until(
            restarted,
            timeout=budget + 30,
            what=f"{name} restartCount > 0",
            backoff=Backoff(initial=2, maximum=5),
            retry_on=TRANSIENT,
        )
        assert count >= 1
    finally:
        stack.runner(
            stack.cluster.kubectl_command(
                "delete",
                "deployment",
                name,
                "--namespace",
                NAMESPACE,
                "--ignore-not-found",
                "--wait=false",
            )
        )


def test_database_outage_makes_kpis_api_unready_without_restarts(stack: E2EEnvironment) -> None:
    deployment = find_one(stack.stack, "Deployment", "kpis-api")
    spec = container(deployment, "kpis-api")
    grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds")
    selector = SERVICES["kpis-api"]
    wait_until(
        lambda: stack.k.deployment_rolled_out(NAMESPACE, "kpis-api"),
        timeout=120,
        what="kpis-api Ready before the outage",
        retry_on=TRANSIENT,
    )
    restarts_before = stack.k.restart_counts(NAMESPACE, selector)
    db_replicas = stack.k.deployment(NAMESPACE, TEST_DB)["spec"].get("replicas", 1)

    stack.k.scale_deployment(NAMESPACE, TEST_DB, 0)
    try:
        wait_until(
            lambda: not stack.k.ready_pods(NAMESPACE, selector),
            timeout=unready_budget(spec) + 30,  # + the DB pod's own termination
            what="every kpis-api pod NotReady with the database down",
            retry_on=TRANSIENT,
        )
        # Keep the database down longer than liveness needs to act: a liveness probe that
        # touched the database would restart the pods during this time.
        holds_for(
            lambda: (
                stack.k.restart_counts(NAMESPACE, selector) == restarts_before
                and not stack.k.ready_pods(NAMESPACE, selector)
            ),
            liveness_hold_seconds(spec, grace),
            "kpis-api NotReady and never restarted while the database is down",
            retry_on=TRANSIENT,
        )
    finally:
        stack.k.scale_deployment(NAMESPACE, TEST_DB, db_replicas)

    wait_until(
        lambda: stack.k.deployment_rolled_out(NAMESPACE, TEST_DB),
        timeout=180,
        what="test PostgreSQL back",
        retry_on=TRANSIENT,
    )
    wait_until(
        lambda: stack.k.deployment_rolled_out(NAMESPACE, "kpis-api"),
        timeout=ready_again_budget(spec) + 30,
        what="kpis-api Ready again after the database returned",
        retry_on=TRANSIENT,
    )
    assert stack.k.restart_counts(NAMESPACE, selector) == restarts_before
