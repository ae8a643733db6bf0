from __future__ import annotations

from typing import Any

import pytest

from gitops import k8s_math
from tests.e2e.harness.expectations import (
    HPA_SYNC_SECONDS,
    KUBELET_STATS_REFRESH_SECONDS,
    LOADED_RUNNER_SLACK_SECONDS,
    METRICS_RESOLUTION_SECONDS,
    HpaBounds,
    PdbExpectation,
    Probe,
    liveness_hold_seconds,
    liveness_restart_budget,
    load_plan,
    pdb_expectation,
    ready_again_budget,
    replicas_for_eviction_test,
    scaling_limited_reason,
    startup_budget,
    unready_budget,
)

HEALTHZ = {
    "name": "healthz",
    "livenessProbe": {
        "httpGet": {"path": "/health"},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    },
    "readinessProbe": {
        "httpGet": {"path": "/health"},
        "periodSeconds": 5,
        "timeoutSeconds": 1,
        "failureThreshold": 2,
    },
}
KPIS_API = {
    "name": "kpis-api",
    "startupProbe": {"httpGet": {"path": "/health"}, "periodSeconds": 2, "failureThreshold": 30},
    "livenessProbe": {
        "httpGet": {"path": "/health"},
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    },
    "readinessProbe": {
        "httpGet": {"path": "/ready"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 2,
    },
}


def test_probe_defaults_are_the_kubelets() -> None:
    assert Probe.from_spec({"httpGet": {"path": "/"}}) == Probe(0, 10, 1, 1, 3)
    assert Probe.from_spec(None) is None


def test_startup_budget_without_and_with_a_startup_probe() -> None:
    assert startup_budget(HEALTHZ, slack=0) == 0 + 2 * 5
    assert startup_budget(KPIS_API, slack=0) == 30 * 2 + 2 * 5
    assert startup_budget(KPIS_API, slack=20) == 90


def test_liveness_restart_budget() -> None:
    # initialDelay 5 + 3 x 10 + timeout 2 + default grace 30
    assert liveness_restart_budget(HEALTHZ, slack=0) == 67
    assert liveness_restart_budget(HEALTHZ, termination_grace=5, slack=0) == 42
    # the startup window comes first
    assert liveness_restart_budget(KPIS_API, termination_grace=10, slack=0) == 60 + 32 + 10
    with pytest.raises(LookupError, match="no livenessProbe"):
        liveness_restart_budget({"name": "x"})


def test_readiness_budgets() -> None:
    assert unready_budget(KPIS_API, slack=0) == 2 * 5 + 3
    assert ready_again_budget(KPIS_API, slack=0) == 5 + 3
    # detection 3 x 10 + 2, then up to the grace period before the restart is counted
    assert liveness_hold_seconds(KPIS_API, slack=0) == 32 + 30
    assert liveness_hold_seconds(KPIS_API, termination_grace=10, slack=0) == 32 + 10


def _pdb(**spec: Any) -> dict[str, Any]:
    return {"kind": "PodDisruptionBudget", "spec": {"selector": {}, **spec}}


def test_pdb_expectation_uses_k8s_math() -> None:
    assert pdb_expectation(_pdb(maxUnavailable=1), 2) == PdbExpectation(2, 1, 1)
    assert pdb_expectation(_pdb(minAvailable=1), 2) == PdbExpectation(2, 1, 1)
    assert pdb_expectation(_pdb(maxUnavailable="50%"), 3) == PdbExpectation(3, 1, 2)
    # agrees with the static checks' arithmetic for every small case
    for replicas in range(1, 6):
        spec = {"maxUnavailable": "30%"}
        expected = k8s_math.expected_pods(spec, replicas, replicas)
        assert pdb_expectation(_pdb(**spec), replicas).disruptions_allowed == (
            k8s_math.disruptions_allowed(spec, replicas, expected)
        )


def test_replicas_for_eviction_test_needs_an_allowed_and_a_refused_eviction() -> None:
    # dev healthz: maxUnavailable 1 at minReplicas 1 allows 1 of 1 -> needs 2
    assert replicas_for_eviction_test(_pdb(maxUnavailable=1), floor=1, ceiling=3) == 2
    # base healthz: minAvailable 1 -> 2 replicas (1 allowed, 1 protected)
    assert replicas_for_eviction_test(_pdb(minAvailable=1), floor=2, ceiling=10) == 2
    assert replicas_for_eviction_test(_pdb(minAvailable=2), floor=1, ceiling=10) == 3
    with pytest.raises(ValueError, match="no replica count"):
        replicas_for_eviction_test(_pdb(maxUnavailable=0), floor=1, ceiling=3)


def test_hpa_bounds_and_budgets() -> None:
    hpa = {
        "spec": {
            "minReplicas": 1,
            "maxReplicas": 3,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 30}},
        }
    }
    bounds = HpaBounds.from_hpa(hpa)
    assert bounds == HpaBounds(1, 3, 30, cpu_target_utilization=80)
    assert HpaBounds.from_hpa({"spec": {"maxReplicas": 3}}).scale_down_window == 300
    assert bounds.scale_down_budget() < HpaBounds(1, 3, 300).scale_down_budget()
    assert bounds.scale_up_budget(pod_start=30) > 60


def test_explicit_zero_probe_timings_budget_like_the_api_server_defaults() -> None:
    # A rendered `periodSeconds: 0` is stored as 10 by the API server: the budget must not
    # come out as 0 x failureThreshold (too short to ever pass on a real cluster).
    zeroed: dict[str, Any] = {
        "name": "app",
        "readinessProbe": {
            "httpGet": {"path": "/"},
            "periodSeconds": 0,
            "timeoutSeconds": 0,
            "failureThreshold": 0,
            "successThreshold": 0,
        },
    }
    assert Probe.from_spec(zeroed["readinessProbe"]) == Probe(0, 10, 1, 1, 3)
    assert startup_budget(zeroed, slack=0) == 3 * 10
    assert unready_budget(zeroed, slack=0) == 3 * 10 + 1


def _hpa(target: int = 70, maximum: int = 3, window: int = 30) -> dict[str, Any]:
    return {
        "spec": {
            "minReplicas": 1,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": target},
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": window}},
        }
    }


def _container(request: str, limit: str, readiness_timeout: int = 1) -> dict[str, Any]:
    return {
        "name": "app",
        "resources": {"requests": {"cpu": request}, "limits": {"cpu": limit}},
        "readinessProbe": {"httpGet": {"path": "/"}, "timeoutSeconds": readiness_timeout},
    }


def test_scale_down_budget_counts_stats_refresh_two_scrapes_window_and_slack() -> None:
    bounds = HpaBounds.from_hpa(_hpa(window=30))
    assert bounds.scale_down_budget() == (
        KUBELET_STATS_REFRESH_SECONDS
        + 2 * METRICS_RESOLUTION_SECONDS
        + 3 * HPA_SYNC_SECONDS
        + 30
        + LOADED_RUNNER_SLACK_SECONDS
    )
    # The window is the only term the HPA spec controls.
    longer = HpaBounds.from_hpa(_hpa(window=120))
    assert longer.scale_down_budget() - bounds.scale_down_budget() == 90


def test_load_plan_saturates_every_pod_up_to_max_without_flooding_probes() -> None:
    bounds = HpaBounds.from_hpa(_hpa(target=70, maximum=3))
    plan = load_plan(bounds, _container("20m", "100m"))  # dev healthz
    # Two blocking clients per pod the HPA may run; the old 16 overflowed a backlog of 5.
    assert plan.clients == 6
    assert plan.saturated_utilization == 500  # 100m / 20m
    assert plan.exceeds_max  # ceil(500 / 70 x 3) = 22 > 3: TooManyReplicas must show
    # six 5 ms requests at 0.1 CPU, plus one CFS period: well inside the 1 s probe timeout
    assert plan.probe_queue_seconds == pytest.approx(0.4)
    assert plan.probe_queue_seconds < 1


def test_load_plan_refuses_loads_that_cannot_scale_or_would_starve_probes() -> None:
    # Limit == request at a 100 % target: saturation is within the 10 % tolerance.
    with pytest.raises(ValueError, match="tolerance"):
        load_plan(HpaBounds.from_hpa(_hpa(target=100)), _container("100m", "100m"))
    # A 10m limit makes 6 queued requests take ~3 s of CPU: probes would time out.
    with pytest.raises(ValueError, match="readiness probe"):
        load_plan(HpaBounds.from_hpa(_hpa()), _container("5m", "10m"))
    # Near the target at max: 120 % of request vs 100 % target, 3 pods -> ceil(3.6) = 4 > 3.
    assert load_plan(HpaBounds.from_hpa(_hpa(target=100)), _container("100m", "120m")).exceeds_max
    with pytest.raises(LookupError, match="CPU Utilization"):
        HpaBounds.from_hpa({"spec": {"maxReplicas": 3, "metrics": [{"type": "Pods"}]}})


def test_scaling_limited_reason_reads_only_a_true_condition() -> None:
    def hpa(status: str, reason: str) -> dict[str, Any]:
        conditions = [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]
        conditions.append({"type": "ScalingLimited", "status": status, "reason": reason})
        return {"status": {"conditions": conditions}}

    assert scaling_limited_reason(hpa("True", "TooManyReplicas")) == "TooManyReplicas"
    assert scaling_limited_reason(hpa("False", "DesiredWithinRange")) is None
    assert scaling_limited_reason({"status": {}}) is None
