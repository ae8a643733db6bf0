"""The replica calculator (gitops.simulate.replicas) against the facts of upstream's own
replica_calculator_test.go: the same inputs, the same expected replica counts; each test names
the test it mirrors. The harness facts (two containers per pod, zero-time metrics...) are in
tests/unit/simulate/upstream.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from gitops.simulate.hpa import HPAController, HPASpec, cpu
from gitops.simulate.replicas import (
    FAILED,
    PENDING,
    MetricError,
    PodState,
    group_pods,
    metric_usage_ratio,
    resource_replicas,
    resource_utilization_ratio,
)
from tests.unit.simulate.upstream import CALC, CONTROLLER, COOL, HOT, NOW, TOL, ZERO


def calc_pods(
    requests: list[float],
    levels: list[int],
    readiness: list[bool] | None = None,
    start: list[float] | None = None,
    phase: list[str] | None = None,
    deleting: list[bool] | None = None,
) -> list[PodState]:
    """replicaCalcTestCase.prepareTestClientSet: two containers per pod."""
    pods = []
    for i, request in enumerate(requests):
        pods.append(
            PodState(
                name=f"test-pod-{i}",
                phase=phase[i] if phase else "Running",
                ready=readiness[i] if readiness else True,
                ready_transition_time=ZERO,
                start_time=start[i] if start else ZERO,
                deleting=deleting[i] if deleting else False,
                cpu_request_milli=2 * round(request * 1000),
                cpu_usage_milli=2 * levels[i] if i < len(levels) else None,
                metric_timestamp=ZERO,
                metric_window=60,
            )
        )
    return pods


def calc(current: int, target: int, pods: list[PodState]) -> tuple[int, int | None]:
    proposal = resource_replicas(current, target, pods, TOL, NOW, CALC)
    return proposal.replicas, proposal.utilization


# --- replica_calculator_test.go: utilization, ratio, tolerance, ready pods ----------------


def test_scale_up__mirrors_TestReplicaCalcScaleUp() -> None:
    assert calc(3, 30, calc_pods([1, 1, 1], [300, 500, 700])) == (5, 50)


def test_scale_down__mirrors_TestReplicaCalcScaleDown() -> None:
    # 1400/5000 = 28 %, truncated; ratio 0.56; ceil(0.56 * 5) = 3
    assert calc(5, 50, calc_pods([1] * 5, [100, 300, 500, 250, 250])) == (3, 28)


def test_tolerance_keeps_size__mirrors_TestReplicaCalcTolerance() -> None:
    # (1010+1030+1020)/(900+1000+1100) = 102 % -> ratio 1.02, within 0.1
    assert calc(3, 100, calc_pods([0.9, 1.0, 1.1], [1010, 1030, 1020])) == (3, 102)


def test_tolerance_edge__mirrors_TestReplicaCalcComputedToleranceAlgImplementation() -> None:
    requests_m = [400, 200, 310, 290, 302, 298, 301, 299, 300, 300]
    pods = [
        PodState(f"p{i}", cpu_request_milli=2 * r, cpu_usage_milli=2 * 150)
        for i, r in enumerate(requests_m)
    ]
    target = math.fabs(1 / (2.0 * (1 - 0.1))) + 0.01
    final_target = int(target * 100)
    expected = math.ceil(1500 / (3000 * target) * 10)
    assert resource_replicas(10, final_target, pods, TOL, NOW, CALC).replicas == expected
    near = int((math.fabs(1 / (2.0 * (1 - 0.1))) + 0.004) * 100)
    assert resource_replicas(10, near, pods, TOL, NOW, CALC).replicas == 10


def test_superfluous_metrics_are_ignored__mirrors_TestReplicaCalcSuperfluousMetrics() -> None:
    # The two samples of pods that no longer exist carry no request and drop out of the sums.
    assert calc(4, 100, calc_pods([1, 1, 1, 1], [4000, 9500, 3000, 7000])) == (24, 587)


def test_proposal_uses_ready_pods_not_spec_replicas__mirrors_TestMissingReports() -> None:
    # spec.replicas is 4 but one pod exists: 200m of 200m is 100 % of a 50 % target -> 2.
    pods = [PodState("test-pod-0", cpu_request_milli=200, cpu_usage_milli=200)]
    assert resource_replicas(4, 50, pods, TOL, NOW, CONTROLLER).replicas == 2


# --- missing and unready pods -------------------------------------------------------------


def test_unready_pod_counts_zero_on_scale_up() -> None:
    """Mirrors TestReplicaCalcScaleUpUnreadyLessScale."""
    pods = calc_pods([1, 1, 1], [300, 500, 700], readiness=[False, True, True])
    assert calc(3, 30, pods) == (4, 60)


def test_hot_cpu_pod_ignored__mirrors_TestReplicaCalcScaleUpHotCpuLessScale() -> None:
    pods = calc_pods([1, 1, 1], [300, 500, 700], start=[HOT, COOL, COOL])
    assert calc(3, 30, pods) == (4, 60)


def test_unready_recount_keeps_size__mirrors_TestReplicaCalcScaleUpUnreadyNoScale() -> None:
    pods = calc_pods([1, 1, 1], [400, 500, 700], readiness=[True, False, False])
    assert calc(3, 30, pods) == (3, 40)


def test_hot_unready_recount_keeps_size__mirrors_TestReplicaCalcScaleHotCpuNoScale() -> None:
    pods = calc_pods(
        [1, 1, 1], [400, 500, 700], readiness=[True, False, False], start=[COOL, HOT, HOT]
    )
    assert calc(3, 30, pods) == (3, 40)


def test_unready_excluded_on_scale_down() -> None:
    """Mirrors TestReplicaCalcScaleDownExcludeUnreadyPods."""
    pods = calc_pods([1] * 5, [100, 300, 500, 250, 250], readiness=[True] * 3 + [False] * 2)
    assert calc(5, 50, pods) == (2, 30)


def test_pending_excluded__mirrors_TestReplicaCalcScaleDownExcludeUnscheduledPods() -> None:
    pods = calc_pods(
        [1] * 5, [100], readiness=[True] + [False] * 4, phase=["Running"] + [PENDING] * 4
    )
    assert calc(5, 50, pods) == (1, 10)


def test_hot_cpu_ignored_on_scale_down__mirrors_TestReplicaCalcScaleDownIgnoreHotCpuPods() -> None:
    pods = calc_pods([1] * 5, [100, 300, 500, 250, 250], start=[COOL] * 3 + [HOT] * 2)
    assert calc(5, 50, pods) == (2, 30)


def test_failed_pods_ignored__mirrors_TestReplicaCalcScaleUpIgnoresFailedPods() -> None:
    pods = calc_pods(
        [1] * 4, [500, 700], readiness=[True, True, False, False],
        phase=["Running", "Running", FAILED, FAILED],
    )  # fmt: skip
    assert calc(2, 30, pods) == (4, 60)


def test_deleted_pods_ignored__mirrors_TestReplicaCalcScaleDownIgnoresDeletionPods() -> None:
    pods = calc_pods(
        [1] * 7, [100, 300, 500, 250, 250], readiness=[True] * 5 + [False] * 2,
        deleting=[False] * 5 + [True] * 2,
    )  # fmt: skip
    assert calc(5, 50, pods) == (3, 28)


def test_missing_metric_counts_full_request_on_scale_down() -> None:
    """Mirrors TestReplicaCalcMissingMetrics."""
    # 990/4000 = 24 % -> scale-down; the two missing pods count 100 %: (990+4000)/8000 -> 3
    assert calc(4, 100, calc_pods([1] * 4, [400, 95])) == (3, 24)


def test_missing_metric_counts_target_when_above_100() -> None:
    """Mirrors TestReplicaCalcMissingMetricsScaleDownTargetOver100."""
    pods = calc_pods([1, 1, 2, 2], [200, 100, 100], readiness=[False, True, True, True])
    assert calc(4, 300, pods) == (2, 6)


@pytest.mark.parametrize(
    ("level", "utilization", "upstream"),
    [
        (1000, 100, "TestReplicaCalcMissingMetricsNoChangeEq"),
        (1900, 190, "TestReplicaCalcMissingMetricsNoChangeGt"),
        (600, 60, "TestReplicaCalcMissingMetricsNoChangeLt"),
    ],
)
def test_missing_metric_recount_reverses_direction(
    level: int, utilization: int, upstream: str
) -> None:
    """Mirrors the three TestReplicaCalcMissingMetricsNoChange* tests: the damped recount
    lands within tolerance or on the other side of 1.0, so the size is kept."""
    assert calc(2, 100, calc_pods([1, 1], [level])) == (2, utilization), upstream


def test_missing_and_unready_recount_flips() -> None:
    """Mirrors TestReplicaCalcMissingMetricsUnreadyChange."""
    pods = calc_pods([1, 1, 1], [100, 450], readiness=[False, True, True])
    assert calc(3, 50, pods) == (3, 45)


def test_missing_and_unready_scale_up() -> None:
    """Mirrors TestReplicaCalcMissingMetricsUnreadyScaleUp."""
    pods = calc_pods([1, 1, 1], [100, 2000], readiness=[False, True, True])
    assert calc(3, 50, pods) == (4, 200)


def test_missing_and_unready_scale_down() -> None:
    """Mirrors TestReplicaCalcMissingMetricsUnreadyScaleDown."""
    pods = calc_pods([1] * 4, [100, 100, 100], readiness=[False, True, True, True])
    assert calc(4, 50, pods) == (3, 10)


def test_rolling_update_surge_pod__mirrors_TestReplicaCalcDuringRollingUpdateWithMaxSurge() -> None:
    assert calc(2, 50, calc_pods([1, 1, 1], [100, 100])) == (2, 10)


def test_no_request_fails_the_metric__mirrors_TestReplicaCalcEmptyCPURequest() -> None:
    controller = HPAController(HPASpec(1, 5, (cpu(100),)), CONTROLLER)
    pods = [PodState("test-pod-0", cpu_request_milli=None, cpu_usage_milli=200)]
    result = controller.sync(NOW, 1, 1, pods)
    assert (result.replicas, result.reason) == (1, "FailedComputeMetricsReplicas")
    assert result.error is not None and "missing request for cpu" in result.error


def test_disjoint_metrics__mirrors_TestReplicaCalcDisjointResourcesMetrics() -> None:
    # A sample for a pod the lister does not know: nothing to divide by.
    with pytest.raises(MetricError, match="no metrics returned matched known pods"):
        resource_utilization_ratio({"an-older-pod-name": 200}, {"test-pod-0": 2000}, 100)


# --- groupPods: the CPU initialization period and the readiness delay --------------------


@pytest.mark.parametrize(
    ("pod", "metric_ts", "window", "expect"),
    [
        # "count in a ready pod with fresh metrics during initialization period - CPU"
        (PodState("p", start_time=NOW - 60, ready=True, ready_transition_time=NOW - 30), NOW, 30,
         "ready"),
        # "unready a ready pod without fresh metrics during initialization period - CPU"
        (PodState("p", start_time=NOW - 60, ready=True, ready_transition_time=NOW - 30), NOW, 60,
         "unready"),
        # "unready an unready pod during initialization period - CPU"
        (PodState("p", start_time=NOW - 600, ready=False, ready_transition_time=NOW - 594), NOW,
         60, "unready"),
        # "count in a ready pod without fresh metrics after initialization period - CPU"
        (PodState("p", start_time=NOW - 180, ready=True, ready_transition_time=NOW - 180),
         NOW - 120, 60, "ready"),
        # "count in an unready pod that was ready after initialization period - CPU"
        (PodState("p", start_time=NOW - 600, ready=False, ready_transition_time=NOW - 540), NOW,
         60, "ready"),
        # "unready pod that has never been ready after initialization period - CPU" (edge: equal)
        (PodState("p", start_time=NOW - 600, ready=False, ready_transition_time=NOW - 590), NOW,
         60, "ready"),
        # "unready a pod without ready condition - CPU"
        (PodState("p", start_time=NOW, ready=None), NOW, 60, "unready"),
        # "pending pods are unreadied"
        (PodState("p", phase=PENDING), NOW, 60, "unready"),
        # "ignore pods with deletion timestamps" / "ignore pods in a failed state"
        (PodState("p", deleting=True, phase=PENDING), NOW, 60, "ignored"),
        (PodState("p", phase=FAILED), NOW, 60, "ignored"),
    ],
)  # fmt: skip
def test_group_pods__mirrors_TestGroupPods(
    pod: PodState, metric_ts: float, window: float, expect: str
) -> None:
    pod = dataclasses.replace(pod, metric_timestamp=metric_ts, metric_window=window)
    groups = group_pods([pod], {"p": 1}, True, NOW, CALC)
    got = (
        "ignored" if groups.ignored else "unready" if groups.unready else
        "missing" if groups.missing else "ready"
    )  # fmt: skip
    assert got == expect


def test_readiness_only_matters_for_cpu__mirrors_TestGroupPods_memory() -> None:
    pod = PodState("p", ready=None, start_time=None)
    assert group_pods([pod], {"p": 1}, False, NOW, CALC).ready_count == 1
    assert group_pods([pod], {"p": 1}, True, NOW, CALC).unready == {"p"}


def test_pods_metric_average_is_integer_division__mirrors_TestReplicaCalcToleranceCM() -> None:
    # (20000 + 21000 + 21000) / 3 = 20666 (truncated); 20666/20000 is within tolerance.
    ratio, usage = metric_usage_ratio({"a": 20000, "b": 21000, "c": 21000}, 20000)
    assert usage == 20666 and TOL.is_within(ratio)
    assert metric_usage_ratio({"a": -3, "b": 0}, 1)[1] == -1  # toward zero, as in Go
