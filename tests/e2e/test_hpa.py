"""HPA on the real cluster: in-cluster load drives healthz above its CPU target, the HPA
scales up above minReplicas, never past maxReplicas, and back to the minimum once the load
stops (scale-down window shortened by the e2e component only)."""

from __future__ import annotations

import pytest

from tests.e2e.harness.deploy import NAMESPACE, find_one
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.expectations import HpaBounds, container, startup_budget
from tests.e2e.harness.kube import TRANSIENT, condition
from tests.e2e.harness.wait import Backoff, Sampler, wait_until

pytestmark = pytest.mark.e2e

LOAD_DEPLOYMENT = "healthz-load"
LOAD_REPLICAS = 2


def test_hpa_scales_healthz_up_under_load_and_back_down(stack: E2EEnvironment) -> None:
    hpa_doc = find_one(stack.stack, "HorizontalPodAutoscaler", "healthz-hpa")
    bounds = HpaBounds.from_hpa(hpa_doc)
    target = hpa_doc["spec"]["scaleTargetRef"]["name"]
    pod_start = startup_budget(container(find_one(stack.stack, "Deployment", target), target))
    assert bounds.scale_down_window < 300, "the e2e component should shorten the window"

    def metrics_flowing() -> bool:
        hpa = stack.k.hpa(NAMESPACE, "healthz-hpa")
        active = condition(hpa, "ScalingActive")
        return bool(
            active
            and active.get("status") == "True"
            and (hpa.get("status") or {}).get("currentMetrics")
        )

    wait_until(
        metrics_flowing,
        timeout=180,
        what="healthz-hpa reading CPU metrics",
        backoff=Backoff(initial=5, maximum=10),
        retry_on=TRANSIENT,
    )
    wait_until(
        lambda: stack.k.deployment(NAMESPACE, target)["spec"]["replicas"] == bounds.min_replicas,
        timeout=bounds.scale_down_budget(),
        what=f"{target} at minReplicas {bounds.min_replicas} before the load",
        retry_on=TRANSIENT,
    )

    def observe() -> tuple[int, int, int]:
        hpa_status = stack.k.hpa(NAMESPACE, "healthz-hpa").get("status") or {}
        deployment = stack.k.deployment(NAMESPACE, target)
        return (
            int(hpa_status.get("desiredReplicas") or 0),
            int(deployment["spec"].get("replicas") or 0),
            int((deployment.get("status") or {}).get("readyReplicas") or 0),
        )

    sampler = Sampler(observe, interval=2.0).start()
    try:
        stack.k.scale_deployment(NAMESPACE, LOAD_DEPLOYMENT, LOAD_REPLICAS)
        last: list[tuple[int, int, int]] = []

        def scaled_up() -> bool:
            last[:] = [observe()]
            desired, _spec, ready = last[0]
            return desired > bounds.min_replicas and ready > bounds.min_replicas

        try:
            wait_until(
                scaled_up,
                timeout=bounds.scale_up_budget(pod_start),
                what=f"{target}: HPA desired and Ready replicas above {bounds.min_replicas}",
                backoff=Backoff(initial=5, maximum=5),
                retry_on=TRANSIENT,
                describe=lambda _: f"(desired, spec, ready) = {last}",
            )
        finally:
            stack.k.scale_deployment(NAMESPACE, LOAD_DEPLOYMENT, 0)
        wait_until(
            lambda: observe() == (bounds.min_replicas,) * 3,
            timeout=bounds.scale_down_budget(),
            what=f"{target} back to minReplicas {bounds.min_replicas} after the load stopped",
            backoff=Backoff(initial=5, maximum=5),
            retry_on=TRANSIENT,
        )
    finally:
        samples = sampler.stop()

    assert len(samples) >= 10, f"too few samples to claim continuity: {len(samples)}"
    peak = max(max(desired, spec) for _, (desired, spec, _ready) in samples)
    assert peak > bounds.min_replicas
    assert peak <= bounds.max_replicas, f"HPA went to {peak} > maxReplicas {bounds.max_replicas}"
    over = [(t, s) for t, s in samples if max(s) > bounds.max_replicas]
    assert not over, f"samples above maxReplicas {bounds.max_replicas}: {over}"
