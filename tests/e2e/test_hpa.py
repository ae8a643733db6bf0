"""HPA on the real cluster: in-cluster load drives healthz above its CPU target, the HPA
scales up above minReplicas (to maxReplicas when the load asks for more), and back to the
minimum once the load stops (scale-down window shortened by the e2e component only).

The load is sized from the rendered HPA and container (expectations.load_plan) and applied by
the backend (harness/load.py: HTTP clients on kind, KWOK's emulated CPU usage on KWOK): enough
blocking clients to hold every pod at its CPU limit, few enough that a readiness probe never
waits out its timeout behind them. When that load asks for more than maxReplicas, the HPA
must report ScalingLimited/TooManyReplicas: the cap is shown to act, not assumed.
Backend-neutral: only API objects are read (kind, or an existing cluster such as KWOK)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.harness.deploy import NAMESPACE, find_one
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.expectations import (
    HpaBounds,
    container,
    load_plan,
    scaling_limited_reason,
    startup_budget,
)
from tests.e2e.harness.kube import TRANSIENT, condition
from tests.e2e.harness.wait import Backoff, Sampler, wait_until

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Observation:
    desired: int  # HPA status.desiredReplicas
    spec: int  # Deployment spec.replicas
    ready: int  # Deployment status.readyReplicas
    limited: str | None  # reason of ScalingLimited=True, if any

    @property
    def replicas(self) -> tuple[int, int, int]:
        return (self.desired, self.spec, self.ready)


def test_hpa_scales_healthz_up_under_load_and_back_down(stack: E2EEnvironment) -> None:
    hpa_doc = find_one(stack.stack, "HorizontalPodAutoscaler", "healthz-hpa")
    bounds = HpaBounds.from_hpa(hpa_doc)
    target = hpa_doc["spec"]["scaleTargetRef"]["name"]
    target_container = container(find_one(stack.stack, "Deployment", target), target)
    pod_start = startup_budget(target_container)
    plan = load_plan(bounds, target_container)
    load = stack.hpa_load(target)  # HTTP clients on kind, emulated CPU usage on KWOK
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
        backoff=Backoff(initial=1, maximum=2),
        retry_on=TRANSIENT,
    )
    wait_until(
        lambda: stack.k.deployment(NAMESPACE, target)["spec"]["replicas"] == bounds.min_replicas,
        timeout=bounds.scale_down_budget(),
        what=f"{target} at minReplicas {bounds.min_replicas} before the load",
        retry_on=TRANSIENT,
    )

    def observe() -> Observation:
        hpa = stack.k.hpa(NAMESPACE, "healthz-hpa")
        deployment = stack.k.deployment(NAMESPACE, target)
        return Observation(
            int((hpa.get("status") or {}).get("desiredReplicas") or 0),
            int(deployment["spec"].get("replicas") or 0),
            int((deployment.get("status") or {}).get("readyReplicas") or 0),
            scaling_limited_reason(hpa),
        )

    sampler = Sampler(observe, interval=2.0).start()
    try:
        load.start(plan)
        last: list[Observation] = []

        def scaled_up() -> bool:
            last[:] = [observe()]
            seen = last[0]
            return seen.desired > bounds.min_replicas and seen.ready > bounds.min_replicas

        try:
            wait_until(
                scaled_up,
                timeout=bounds.scale_up_budget(pod_start),
                what=f"{target}: HPA desired and Ready replicas above {bounds.min_replicas}",
                backoff=Backoff(initial=1, maximum=2),
                retry_on=TRANSIENT,
                describe=lambda _: f"last observation {last} with {plan}",
            )
            if plan.exceeds_max:
                # The load saturates every pod up to maxReplicas, so the HPA must say that it
                # wanted more than its maximum (a cap that is never reached proves nothing).
                wait_until(
                    lambda: observe().limited == "TooManyReplicas",
                    timeout=bounds.scale_up_budget(pod_start),
                    what=f"healthz-hpa ScalingLimited=True reason TooManyReplicas under {plan}",
                    backoff=Backoff(initial=1, maximum=2),
                    retry_on=TRANSIENT,
                    describe=lambda _: f"last observation {last}",
                )
        finally:
            load.stop()
        wait_until(
            lambda: observe().replicas == (bounds.min_replicas,) * 3,
            timeout=bounds.scale_down_budget(),
            what=f"{target} back to minReplicas {bounds.min_replicas} after the load stopped",
            backoff=Backoff(initial=1, maximum=2),
            retry_on=TRANSIENT,
        )
    finally:
        samples = sampler.stop()

    assert len(samples) >= 10, f"too few samples to claim continuity: {len(samples)}"
    peak = max(max(seen.desired, seen.spec) for _, seen in samples)
    assert peak > bounds.min_replicas, f"the sampler never saw a scale-up: {samples}"
    if plan.exceeds_max:
        assert peak == bounds.max_replicas, (
            f"the load asks for more than maxReplicas {bounds.max_replicas}, "
            f"yet the HPA peaked at {peak}"
        )
