"""The HPA controller model (gitops.simulate.hpa) against the facts of upstream's own
controller tests: bounds, several metrics, the legacy path and behavior (horizontal_test.go),
each test naming the test it mirrors; the clock and settings are in
tests/unit/simulate/upstream.py. What one metric proposes is tested in test_replicas.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from gitops.k8s.features import FeatureGates
from gitops.simulate.hpa import (
    AVERAGE_VALUE,
    CONTAINER_RESOURCE,
    DEFAULT_SCALE_DOWN_RULES,
    DEFAULT_SCALE_UP_RULES,
    EXTERNAL,
    OBJECT,
    PODS,
    POLICY_PERCENT,
    POLICY_PODS,
    RESOURCE,
    SELECT_DISABLED,
    SELECT_MIN,
    UTILIZATION,
    VALUE,
    Behavior,
    HPAController,
    HPASpec,
    MetricSpec,
    ScalingPolicy,
    ScalingRules,
    _Recommendation,
    _ScaleEvent,
    calculate_scale_down_limit_with_behaviors,
    calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_rules,
    cpu,
    generate_rules,
)
from gitops.simulate.replicas import (
    MAX_INT32,
    MAX_INT64,
    ZERO_TIME,
    ContainerState,
    ControllerSettings,
    MetricError,
    PodState,
    calculate_requests,
    external_per_pod_replicas,
    external_sum,
    pod_requests_from_containers,
    resource_replicas,
)
from tests.unit.simulate.upstream import CALC, CONTROLLER, COOL, HOT, NOW, TOL, with_gates


def test_unready_pods_do_not_damp_pods_metrics() -> None:
    """Mirrors TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale."""
    # A Pods (custom) metric: readiness is not checked, so the unready hot pod still counts.
    pods = [
        PodState("test-pod-0", start_time=COOL, metrics={"qps": 50000}),
        PodState("test-pod-1", start_time=COOL, metrics={"qps": 10000}),
        PodState("test-pod-2", start_time=HOT, ready=False, metrics={"qps": 30000}),
    ]
    controller = HPAController(HPASpec(1, 10, (MetricSpec(PODS, "qps", AVERAGE_VALUE, 15000),)))
    assert controller.compute_replicas_for_metrics(3, 3, pods, {}, NOW)[0] == 6


# --- horizontal_test.go: order of checks, bounds, zero, object/external -------------------


def controller_pods(requests: list[float], levels: list[int]) -> list[PodState]:
    return [
        PodState(
            f"test-pod-{i}",
            cpu_request_milli=round(r * 1000),
            cpu_usage_milli=levels[i] if i < len(levels) else None,
            metric_timestamp=NOW,
        )
        for i, r in enumerate(requests)
    ]


def test_zero_replicas_disable_scaling__mirrors_TestZeroReplicas() -> None:
    result = HPAController(HPASpec(3, 5, (cpu(90),)), CONTROLLER).sync(NOW, 0, 0, [])
    assert (result.replicas, result.reason) == (0, "ScalingDisabled")


def test_below_min_short_circuits__mirrors_TestTooFewReplicas() -> None:
    result = HPAController(HPASpec(3, 5, (cpu(90),)), CONTROLLER).sync(NOW, 2, 2, [])
    assert result.replicas == 3 and result.proposal is None


def test_above_max_short_circuits__mirrors_TestTooManyReplicas() -> None:
    result = HPAController(HPASpec(3, 5, (cpu(90),)), CONTROLLER).sync(NOW, 10, 10, [])
    assert result.replicas == 5 and result.proposal is None


def test_scale_up_rc_immediately__mirrors_TestScaleUpRCImmediately() -> None:
    pods = controller_pods([1] * 4, [0, 0, 0, 0])
    assert HPAController(HPASpec(2, 6), CONTROLLER).sync(NOW, 1, 1, pods).replicas == 2


def test_max_clamp__mirrors_TestMaxReplicas() -> None:
    pods = controller_pods([0.9, 1.0, 1.1], [8000, 9500, 1000])
    result = HPAController(HPASpec(2, 5, (cpu(90),)), CONTROLLER).sync(NOW, 3, 3, pods)
    assert (result.replicas, result.limited_by) == (5, "TooManyReplicas")


def test_min_clamp__mirrors_TestMinReplicas() -> None:
    controller = HPAController(HPASpec(2, 5, (cpu(90),)), CONTROLLER, recommendations=[])
    pods = controller_pods([0.9, 1.0, 1.1], [10, 95, 10])
    result = controller.sync(NOW, 3, 3, pods)
    assert (result.replicas, result.limited_by) == (2, "TooFewReplicas")


def test_min_zero_desired_zero__mirrors_TestZeroMinReplicasDesiredZero() -> None:
    controller = HPAController(HPASpec(0, 5, (cpu(90),)), CONTROLLER, recommendations=[])
    result = controller.sync(NOW, 3, 3, controller_pods([0.9, 1.0, 1.1], [0, 0, 0]))
    assert result.replicas == 0


def test_scale_down_to_zero_object__mirrors_TestScaleDownToZeroCMObject() -> None:
    spec = HPASpec(0, 6, (MetricSpec(OBJECT, "qps", VALUE, 20000),))
    controller = HPAController(spec, CONTROLLER, recommendations=[])
    result = controller.sync(NOW, 5, 5, controller_pods([1] * 5, []), {"qps": 0})
    assert result.replicas == 0


@pytest.mark.parametrize(("gate", "expected"), [(True, 3), (False, 0)])
def test_scale_up_from_zero_external__mirrors_getUsageRatioReplicaCount(
    gate: bool, expected: int
) -> None:
    # An HPA that scaled its target to zero itself (ScaledToZero) with an External Value
    # metric: from zero, ceil(ratio) without tolerance, only with the HPAScaleToZero gate.
    spec = HPASpec(0, 6, (MetricSpec(EXTERNAL, "qps", VALUE, 14400),))
    controller = HPAController(spec, with_gates(HPAScaleToZero=gate), scaled_to_zero=True)
    assert controller.sync(NOW, 0, 0, [], {"qps": 30000}).replicas == expected


def test_external_value_uses_ready_pods() -> None:
    """Mirrors TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods."""
    pods = [PodState(f"test-pod-{i}", ready=r) for i, r in enumerate([False, True, False])]
    spec = HPASpec(1, 10, (MetricSpec(EXTERNAL, "qps", VALUE, 4400),))
    assert HPAController(spec).compute_replicas_for_metrics(3, 3, pods, {"qps": 8600}, NOW)[0] == 2


def test_object_per_pod__mirrors_TestReplicaCalcScaleUpCMPerPodObject() -> None:
    spec = HPASpec(1, 10, (MetricSpec(OBJECT, "qps", AVERAGE_VALUE, 5000),))
    assert HPAController(spec).compute_replicas_for_metrics(3, 3, [], {"qps": 20000}, NOW)[0] == 4


# --- several metrics ----------------------------------------------------------------------


def test_max_over_metrics__mirrors_TestNoBackoffUpscaleCMNoBackoffCpu() -> None:
    # CPU says 5+, qps says 4: the larger proposal wins, then maxReplicas 5 clamps it.
    spec = HPASpec(1, 5, (cpu(10), MetricSpec(PODS, "qps", AVERAGE_VALUE, 15000)))
    pods = [
        PodState(f"test-pod-{i}", cpu_request_milli=1000, cpu_usage_milli=lvl,
                 metric_timestamp=NOW, metrics={"qps": lvl})
        for i, lvl in enumerate([20000, 10000, 30000])
    ]  # fmt: skip
    result = HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods)
    assert (result.replicas, result.limited_by) == (5, "TooManyReplicas")


def test_invalid_metric_allows_scale_up__mirrors_TestScaleUpOneMetricInvalid() -> None:
    spec = HPASpec(2, 6, (cpu(30), MetricSpec("CheddarCheese", "x", VALUE, 1)))
    pods = controller_pods([1, 1, 1], [300, 400, 500])
    result = HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods)
    assert result.replicas == 4


def test_invalid_metric_blocks_scale_down__mirrors_TestNoScaleDownOneMetricInvalid() -> None:
    spec = HPASpec(2, 6, (cpu(50), MetricSpec("CheddarCheese", "x", VALUE, 1)))
    pods = controller_pods([1] * 5, [100, 300, 500, 250, 250])
    controller = HPAController(spec, CONTROLLER, recommendations=[])
    result = controller.sync(NOW, 5, 5, pods)
    assert (result.replicas, result.reason) == (5, "FailedComputeMetricsReplicas")


def test_empty_metric_blocks_scale_down__mirrors_TestNoScaleDownOneMetricEmpty() -> None:
    spec = HPASpec(2, 6, (cpu(50), MetricSpec(EXTERNAL, "qps", VALUE, 1000)))
    pods = controller_pods([1] * 5, [100, 300, 500, 250, 250])
    controller = HPAController(spec, CONTROLLER, recommendations=[])
    assert controller.sync(NOW, 5, 5, pods, {}).replicas == 5


@pytest.mark.parametrize("gate", [True, False])
def test_scale_up_from_zero_one_metric_invalid__mirrors_TestScaleUpFromZeroOneMetricInvalid(
    gate: bool,
) -> None:
    # CPU and an invalid metric, no Object/External one: at zero, scaling stays disabled
    # whatever the gate and the ScaledToZero condition.
    spec = HPASpec(0, 6, (cpu(30), MetricSpec("CheddarCheese", "x", VALUE, 1)))
    pods = controller_pods([1, 1, 1], [300, 400, 500])
    controller = HPAController(spec, with_gates(HPAScaleToZero=gate), scaled_to_zero=True)
    result = controller.sync(NOW, 0, 0, pods)
    assert (result.replicas, result.reason) == (0, "ScalingDisabled")


# --- legacy path: stabilisation and the per-sync cap --------------------------------------


def test_first_sync_seeds_history__mirrors_TestScaleDownStabilizeInitialSize() -> None:
    controller = HPAController(HPASpec(2, 6, (cpu(50),)), CONTROLLER)  # no history: seeded
    pods = controller_pods([1] * 5, [100, 300, 500, 250, 250])
    result = controller.sync(NOW, 5, 5, pods)
    assert (result.proposal, result.replicas, result.limited_by) == (3, 5, "ScaleDownStabilized")


def test_legacy_window__mirrors_TestStabilizeDownscale() -> None:
    history = [_Recommendation(10, NOW - 600), _Recommendation(4, NOW - 60)]
    controller = HPAController(HPASpec(1, 5, (cpu(100),)), CONTROLLER, recommendations=history)
    pods = controller_pods([0.1] * 3, [50, 50, 50])
    assert controller.sync(NOW, 4, 4, pods).replicas == 4


@pytest.mark.parametrize(
    ("history", "prenormalized", "expected", "log_length"),
    [
        ([], 5, 5, 1),  # "empty log"
        ([(4, -120), (5, -60)], 3, 5, 3),  # "stabilize"
        ([(1, -120), (2, -60)], 3, 3, 3),  # "no stabilize"
        ([(10, -600), (9, -540)], 3, 3, 2),  # "no stabilize - old recommendations"
        ([(10, -600), (4, -60), (5, -120), (9, -540)], 3, 5, 4),  # "stabilize - old ..."
    ],
)
def test_legacy_stabilize__mirrors_TestNormalizeDesiredReplicas(
    history: list[tuple[int, float]], prenormalized: int, expected: int, log_length: int
) -> None:
    controller = HPAController(
        HPASpec(1, 10), recommendations=[_Recommendation(r, NOW + dt) for r, dt in history]
    )
    assert controller.stabilize_recommendation(NOW, prenormalized) == expected
    assert controller.recommendations is not None
    assert len(controller.recommendations) == log_length


def test_legacy_entry_exactly_one_window_old_is_outside__mirrors_stabilizeRecommendation() -> None:
    # Upstream's cutoff comes from a later time.Now() than the one that stamped an entry made
    # one window of syncs ago, so that entry is Before the cutoff: replaced, not counted.
    controller = HPAController(HPASpec(1, 10), recommendations=[_Recommendation(7, NOW - 300)])
    assert controller.stabilize_recommendation(NOW, 3) == 3
    assert [r.recommendation for r in controller.recommendations or []] == [3]
    controller = HPAController(HPASpec(1, 10), recommendations=[_Recommendation(7, NOW - 299)])
    assert controller.stabilize_recommendation(NOW, 3) == 7


@pytest.mark.parametrize(
    ("current", "desired", "lo", "hi", "expected", "condition"),
    [
        (5, 7, 3, 8, 7, "DesiredWithinRange"),
        (3, 1, 2, 8, 2, "TooFewReplicas"),
        (1, 0, 0, 10, 0, "DesiredWithinRange"),
        (20, 1000, 1, 10, 10, "TooManyReplicas"),
        (3, 1000, 1, 2000, 24, "ScaleUpLimit"),  # calculateScaleUpLimit(3) with factor 8
    ],
)
def test_convert_with_rules__mirrors_TestConvertDesiredReplicasWithRules(
    current: int, desired: int, lo: int, hi: int, expected: int, condition: str
) -> None:
    assert convert_desired_replicas_with_rules(current, desired, lo, hi, CONTROLLER) == (
        expected,
        condition,
    )


def test_legacy_scale_up_cap_is_max_of_double_and_four() -> None:
    # The real factor (2): from 1 replica at most 4, from 10 at most 20, per sync.
    real = ControllerSettings()
    assert convert_desired_replicas_with_rules(1, 100, 1, 100, real) == (4, "ScaleUpLimit")
    assert convert_desired_replicas_with_rules(10, 100, 1, 100, real) == (20, "ScaleUpLimit")


# --- behavior: policies, selectPolicy, windows, events ------------------------------------


def rules(
    pods: int, pods_period: int, percent: int, percent_period: int, window: int
) -> ScalingRules:
    """generateScalingRules from horizontal_test.go."""
    policies = []
    if pods:
        policies.append(ScalingPolicy(POLICY_PODS, pods, pods_period))
    if percent:
        policies.append(ScalingPolicy(POLICY_PERCENT, percent, percent_period))
    return ScalingRules(window, "Max", tuple(policies))


def uniform_events(changes: list[int], period: int) -> list[_ScaleEvent]:
    """generateEventsUniformDistribution: centred in equal segments of the last period."""
    segment = period / len(changes)
    return [
        _ScaleEvent(c, NOW - (period - segment * (i + 1) + segment / 2))
        for i, c in enumerate(changes)
    ]


# (name, up events, down events, min, max, up rules, down rules, current, desired, expected,
#  condition) -- rows of TestScalingWithRules.
SCALING_WITH_RULES = [
    ("within range", None, None, 3, 8, None, None, 5, 7, 7, "DesiredWithinRange"),
    ("< minReplicas", None, None, 2, 8, None, None, 3, 1, 2, "TooFewReplicas"),
    ("min 0", None, None, 0, 10, None, None, 1, 0, 0, "DesiredWithinRange"),
    ("maxReplicas limit", None, None, 1, 10, None, None, 20, 1000, 10, "TooManyReplicas"),
    ("max count", None, None, 100, 150, None, None, 100, 1000, 150, "TooManyReplicas"),
    ("user percent 1", None, None, 1, 2000, rules(0, 0, 1, 60, 0), None, 3, 1000, 4,
     "ScaleUpLimit"),
    ("default behavior", None, None, 1, 1000, None, None, 10, 50, 20, "ScaleUpLimit"),
    ("pods > percent", None, None, 1, 1000, rules(100, 60, 100, 60, 0), None, 10, 500, 110,
     "ScaleUpLimit"),
    ("percent > pods", None, None, 1, 1000, rules(2, 60, 100, 60, 0), None, 10, 500, 20,
     "ScaleUpLimit"),
    ("large pod policy", None, None, 1, 1000, rules(100, 60, 0, 0, 0), None, 10, 50, 50,
     "DesiredWithinRange"),
    ("pod policy limit", None, None, 1, 1000, rules(30, 60, 0, 0, 0), None, 10, 50, 40,
     "ScaleUpLimit"),
    ("percent policy limit", None, None, 1, 1000, rules(0, 0, 200, 60, 0), None, 10, 50, 30,
     "ScaleUpLimit"),
    ("down percent > pod", None, None, 1, 1000, None, rules(20, 60, 1, 60, 300), 100, 2, 80,
     "ScaleDownLimit"),
    ("down pod > percent", None, None, 1, 1000, None, rules(2, 60, 1, 60, 300), 100, 2, 98,
     "ScaleDownLimit"),
    ("down min limit", None, None, 1, 1000, None, rules(100, 60, 0, 0, 300), 10, 0, 1,
     "TooFewReplicas"),
    ("down min 5", None, None, 5, 1000, None, rules(0, 0, 100, 60, 300), 10, 2, 5,
     "TooFewReplicas"),
    ("down pod policy", None, None, 1, 1000, None, rules(5, 60, 0, 0, 300), 10, 2, 5,
     "ScaleDownLimit"),
    ("down percent policy", None, None, 1, 1000, None, rules(0, 0, 50, 60, 300), 10, 5, 5,
     "DesiredWithinRange"),
    ("up max with events", [1, 5, 9], None, 1, 200, rules(300, 60, 0, 0, 0), None, 100, 500, 200,
     "TooManyReplicas"),
    ("up events keep current", [1, 5, 9], None, 1, 1000, rules(5, 120, 0, 0, 0), None, 100, 500,
     100, "ScaleUpLimit"),
    ("up pods with events", [1, 5, 9], None, 1, 1000, rules(150, 120, 0, 0, 0), None, 100, 500,
     235, "ScaleUpLimit"),
    ("up percent with events", [1, 5, 9], None, 1, 1000, rules(0, 0, 200, 120, 0), None, 100,
     500, 255, "ScaleUpLimit"),
    ("up with up+down events", [4], [2], 1, 1000, rules(0, 0, 300, 300, 0), None, 6, 24, 16,
     "ScaleUpLimit"),
    ("down default with events", None, [1, 5, 9], 1, 1000, None, None, 10, 5, 5,
     "DesiredWithinRange"),
    ("down min with events", None, [1, 5, 9], 1, 1000, None, rules(115, 120, 0, 0, 300), 100, 0,
     1, "TooFewReplicas"),
    ("down pod with events", None, [1, 5, 9], 1, 1000, None, rules(5, 120, 0, 0, 300), 100, 2,
     100, "ScaleDownLimit"),
    ("down percent with events", None, [2, 4, 6], 1, 1000, None, rules(0, 0, 50, 120, 300), 100,
     0, 56, "ScaleDownLimit"),
    ("down with up+down events", [2], [4], 1, 1000, None, rules(0, 0, 50, 180, 0), 10, 1, 6,
     "ScaleDownLimit"),
    ("down events keep current", None, [10, 10, 10], 1, 1000, None, rules(0, 0, 10, 120, 300),
     100, 0, 100, "ScaleDownLimit"),
    ("down 1000 %", None, [10, 10, 10], 1, 1000, None, rules(0, 0, 1000, 120, 300), 10, 5, 5,
     "DesiredWithinRange"),
]  # fmt: skip


@dataclass(frozen=True)
class RulesCase:
    """One row of TestScalingWithRules: past scale events (replica changes, 120 s apart), the
    HPA's bounds and behavior rules, and the rate-limited result with its condition."""

    name: str
    up: list[int] | None
    down: list[int] | None
    lo: int
    hi: int
    up_rules: ScalingRules | None
    down_rules: ScalingRules | None
    current: int
    desired: int
    expected: int
    condition: str


@pytest.mark.parametrize(
    "case",
    [RulesCase(*row) for row in SCALING_WITH_RULES],
    ids=[row[0] for row in SCALING_WITH_RULES],
)
def test_rate_limits__mirrors_TestScalingWithRules(case: RulesCase) -> None:
    def fill(default: ScalingRules, given: ScalingRules | None) -> ScalingRules:
        if given is None:
            return default
        return generate_rules(
            default, stabilization_window_seconds=given.stabilization_window_seconds,
            select_policy=given.select_policy, policies=given.policies,
        )  # fmt: skip

    behavior = Behavior(
        fill(DEFAULT_SCALE_UP_RULES, case.up_rules), fill(DEFAULT_SCALE_DOWN_RULES, case.down_rules)
    )
    controller = HPAController(
        HPASpec(case.lo, case.hi, behavior=behavior),
        scale_up_events=uniform_events(case.up, 120) if case.up else [],
        scale_down_events=uniform_events(case.down, 120) if case.down else [],
    )
    got = controller.convert_desired_replicas_with_behavior_rate(NOW, case.current, case.desired)
    assert got == (case.expected, case.condition)


def test_select_min__mirrors_TestCalculateScaleUpLimitWithScalingRules() -> None:
    min_rules = ScalingRules(
        300, SELECT_MIN,
        (ScalingPolicy(POLICY_PODS, 2, 60), ScalingPolicy(POLICY_PERCENT, 50, 60)),
    )  # fmt: skip
    assert calculate_scale_up_limit_with_scaling_rules(NOW, 1, [], [], min_rules) == 2
    assert calculate_scale_down_limit_with_behaviors(NOW, 5, [], [], min_rules) == 3


def test_select_disabled_keeps_current() -> None:
    disabled = generate_rules(DEFAULT_SCALE_UP_RULES, select_policy=SELECT_DISABLED)
    spec = HPASpec(1, 100, behavior=Behavior(disabled, DEFAULT_SCALE_DOWN_RULES))
    assert HPAController(spec).convert_desired_replicas_with_behavior_rate(NOW, 3, 50) == (
        3,
        "ScaleUpLimit",
    )


def test_percent_down_truncates_and_up_rounds_up() -> None:
    up = ScalingRules(0, "Max", (ScalingPolicy(POLICY_PERCENT, 10, 60),))
    assert calculate_scale_up_limit_with_scaling_rules(NOW, 3, [], [], up) == 4  # ceil(3.3)
    assert calculate_scale_down_limit_with_behaviors(NOW, 3, [], [], up) == 2  # int(2.7)


def test_event_exactly_one_period_old_is_outside() -> None:
    up = ScalingRules(0, "Max", (ScalingPolicy(POLICY_PODS, 1, 60),))
    assert (
        calculate_scale_up_limit_with_scaling_rules(NOW, 5, [_ScaleEvent(1, NOW - 60)], [], up) == 6
    )
    assert (
        calculate_scale_up_limit_with_scaling_rules(NOW, 5, [_ScaleEvent(1, NOW - 59)], [], up) == 5
    )


@dataclass(frozen=True)
class WindowCase:
    """One row of TestNormalizeDesiredReplicasWithBehavior: past recommendations (value, age),
    the sync's input, the stabilised result, the recommendations kept, and the two windows."""

    history: list[tuple[int, int]]  # (recommendation, seconds relative to now)
    current: int
    prenormalized: int
    expected: int
    log: list[int] | None
    up_window: int
    down_window: int


WINDOW_CASES = [
    ([], 100, 5, 5, [5], 0, 0),  # "empty recommendations for scaling down"
    ([(4, -120), (5, -60)], 100, 3, 5, [4, 5, 3], 0, 180),  # simple scale down
    ([(4, -120), (5, -60)], 1, 7, 4, [4, 5, 7], 300, 0),  # simple scale up
    ([(1, -120), (2, -60)], 100, 3, 3, [1, 2, 3], 300, 0),  # no scale down stabilization
    ([(4, -120), (5, -60)], 1, 3, 3, [4, 5, 3], 0, 300),  # no scale up stabilization
    ([(10, -600), (9, -540)], 100, 3, 3, [10, 3], 0, 0),  # reuse element (down)
    ([(10, -600), (9, -540)], 1, 100, 100, [10, 100], 0, 0),  # reuse element (up)
    ([(10, -600), (4, -60), (5, -120), (9, -540)], 100, 3, 5, [10, 4, 5, 3], 0, 180),
    ([(10, -6000), (6, -60), (5, -120), (9, -180)], 1, 100, 5, [100, 6, 5, 9], 300, 300),
    ([(2, -6000), (3, -180)], 2, 1, 2, None, 300, 300),  # do not scale up when rec goes down
    ([(2, -6000), (1, -180)], 2, 3, 2, None, 300, 300),  # do not scale down when rec goes up
]


@pytest.mark.parametrize("case", [WindowCase(*row) for row in WINDOW_CASES])
def test_windows__mirrors_TestNormalizeDesiredReplicasWithBehavior(case: WindowCase) -> None:
    behavior = Behavior(
        ScalingRules(case.up_window, "Max", ()), ScalingRules(case.down_window, "Max", ())
    )
    controller = HPAController(
        HPASpec(1, 1000, behavior=behavior),
        recommendations=[_Recommendation(r, NOW + dt) for r, dt in case.history],
    )
    got, _ = controller.stabilize_recommendation_with_behaviors(
        NOW, case.current, case.prenormalized
    )
    assert got == case.expected
    if case.log is not None:
        assert controller.recommendations is not None
        assert [r.recommendation for r in controller.recommendations] == case.log


def test_behavior_entry_exactly_one_window_old_is_outside() -> None:
    behavior = Behavior(ScalingRules(0, "Max", ()), ScalingRules(300, "Max", ()))
    controller = HPAController(
        HPASpec(1, 10, behavior=behavior), recommendations=[_Recommendation(7, NOW - 300)]
    )
    assert controller.stabilize_recommendation_with_behaviors(NOW, 7, 3)[0] == 3
    controller = HPAController(
        HPASpec(1, 10, behavior=behavior), recommendations=[_Recommendation(7, NOW - 299)]
    )
    assert controller.stabilize_recommendation_with_behaviors(NOW, 7, 3)[0] == 7


def test_unset_scale_down_window_uses_controller_flag() -> None:
    """Mirrors horizontal.go maybeInitScaleDownStabilizationWindow."""
    behavior = Behavior(DEFAULT_SCALE_UP_RULES, DEFAULT_SCALE_DOWN_RULES)
    settings = ControllerSettings(downscale_stabilization_window=60)
    controller = HPAController(
        HPASpec(1, 10, behavior=behavior), settings,
        recommendations=[_Recommendation(7, NOW - 61)],
    )  # fmt: skip
    assert controller.stabilize_recommendation_with_behaviors(NOW, 7, 3)[0] == 3


@pytest.mark.parametrize(
    ("previous", "new_events", "up_rules", "change_60"),
    [
        ([], [(5, False)], rules(10, 60, 100, 60, 0), 0),  # "empty entries with two-policy"
        ([(7, -61)], [(5, False)], rules(10, 60, 100, 60, 0), 0),  # outdated, replaced
        ([(7, -58)], [(7, False), (5, False)], rules(10, 60, 100, 60, 0), 7),
        ([(7, -61), (6, -59)], [(5, False), (6, False)], rules(10, 60, 0, 0, 0), 6),
        ([(8, -29), (6, -59), (7, -61), (9, -61)], [(8, False), (6, False), (7, True), (5, False)],
         rules(10, 60, 100, 30, 0), 14),
        ([(7, -58), (6, -59)], [(7, False), (6, False), (5, False)], rules(10, 120, 100, 30, 0),
         13),
    ],
)  # fmt: skip
def test_store_scale_events__mirrors_TestStoreScaleEvents(
    previous: list[tuple[int, float]],
    new_events: list[tuple[int, bool]],
    up_rules: ScalingRules,
    change_60: int,
) -> None:
    from gitops.simulate.hpa import replicas_change_per_period

    events = [_ScaleEvent(c, NOW + dt) for c, dt in previous]
    assert replicas_change_per_period(NOW, 60, events) == change_60
    controller = HPAController(
        HPASpec(1, 100, behavior=Behavior(up_rules, DEFAULT_SCALE_DOWN_RULES)),
        scale_up_events=events,
    )
    controller._store_scale_event(NOW, 10, 15)
    assert [(e.replica_change, e.outdated) for e in controller.scale_up_events] == new_events


def test_no_events_stored_without_behavior__mirrors_TestStoreScaleEvents_default() -> None:
    controller = HPAController(HPASpec(1, 100), scale_up_events=[_ScaleEvent(7, NOW - 61)])
    controller._store_scale_event(NOW, 10, 15)
    assert [(e.replica_change, e.timestamp) for e in controller.scale_up_events] == [(7, NOW - 61)]


def test_upscale_cap_with_percent_policy__mirrors_TestUpscaleCap() -> None:
    behavior = Behavior(
        generate_rules(DEFAULT_SCALE_UP_RULES, policies=(ScalingPolicy(POLICY_PERCENT, 700, 60),)),
        DEFAULT_SCALE_DOWN_RULES,
    )
    pods = controller_pods([0.1] * 3, [100, 200, 300])
    result = HPAController(HPASpec(1, 100, (cpu(10),), behavior), CONTROLLER).sync(NOW, 3, 3, pods)
    assert (result.replicas, result.limited_by) == (24, "ScaleUpLimit")
    capped = HPAController(HPASpec(1, 20, (cpu(10),), behavior), CONTROLLER).sync(NOW, 3, 3, pods)
    assert (capped.replicas, capped.limited_by) == (20, "TooManyReplicas")


def test_configurable_tolerance_per_direction() -> None:
    # behavior.scaleUp.tolerance 0.5: a 40 % overshoot no longer scales up; scale-down keeps 0.1.
    up = generate_rules(DEFAULT_SCALE_UP_RULES, tolerance=0.5)
    spec = HPASpec(1, 10, (cpu(50),), Behavior(up, DEFAULT_SCALE_DOWN_RULES))
    pods = controller_pods([1, 1], [700, 700])
    assert HPAController(spec, CONTROLLER).sync(NOW, 2, 2, pods).replicas == 2
    assert HPAController(HPASpec(1, 10, (cpu(50),)), CONTROLLER).sync(NOW, 2, 2, pods).replicas == 3


# --- issue 23: ContainerResource metrics, pod-level requests, saturation, windows, errors,
# --- samples of pods not in the pod list ---------------------------------------------------


def two_container_pods(
    requests: list[float], levels: list[int], names: tuple[str, str] = ("container1", "container2")
) -> list[PodState]:
    """horizontal_test.go's pods: two containers, each with half the request and half the
    reported level."""
    return [
        PodState(
            f"test-pod-{i}",
            metric_timestamp=NOW,
            containers=tuple(
                ContainerState(name, round(r * 1000) // 2, levels[i] // 2) for name in names
            ),
        )
        for i, r in enumerate(requests)
    ]


def test_container_metric__mirrors_TestScaleUpContainer() -> None:
    spec = HPASpec(2, 6, (MetricSpec(CONTAINER_RESOURCE, "cpu", UTILIZATION, 30, "container1"),))
    pods = two_container_pods([1, 1, 1], [300, 500, 700])
    assert HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods).replicas == 5


def test_container_metric__mirrors_TestScaleDownContainerResource() -> None:
    spec = HPASpec(2, 6, (MetricSpec(CONTAINER_RESOURCE, "cpu", UTILIZATION, 50, "container2"),))
    controller = HPAController(spec, CONTROLLER, recommendations=[])
    pods = two_container_pods([1] * 5, [100, 300, 500, 250, 250])
    assert controller.sync(NOW, 5, 5, pods).replicas == 3


def calc_container_pods(levels: list[list[int]], phase: list[str] | None = None) -> list[PodState]:
    """replica_calculator_test.go's pods: container<i> requests 1.0 and uses levels[pod][i]."""
    return [
        PodState(
            f"test-pod-{i}",
            phase=phase[i] if phase else "Running",
            ready=phase is None or phase[i] == "Running",
            metric_timestamp=ZERO_TIME,
            containers=tuple(
                ContainerState(f"container{j + 1}", 1000, level[j] if j < len(level) else None)
                for j in range(2)
            ),
        )
        for i, level in enumerate(levels)
    ]


def test_container_utilization__mirrors_TestReplicaCalcContainerScaleUp() -> None:
    pods = calc_container_pods([[1000, 300], [1000, 500], [1000, 700]])
    proposal = resource_replicas(3, 30, pods, TOL, NOW, CALC, "container2")
    assert (proposal.replicas, proposal.utilization, proposal.usage) == (5, 50, 500)
    # On pod totals the same pods are at 75 %: the container is what counts.
    assert resource_replicas(3, 30, pods, TOL, NOW, CALC).utilization == 75


def test_container_sample_missing__mirrors_TestReplicaCalcMissingContainerMetricScaleUpIgnoresFailedPods() -> (  # noqa: E501
    None
):
    pods = calc_container_pods(
        [[1000, 500], [9000, 700], [1000], [9000]], ["Running", "Running", "Failed", "Failed"]
    )
    proposal = resource_replicas(2, 30, pods, TOL, NOW, CALC, "container2")
    assert (proposal.replicas, proposal.utilization, proposal.usage) == (4, 60, 600)


def test_sidecar_does_not_dilute_a_container_metric() -> None:
    """The issue's case: app 1000m/900m and a sidecar 1000m/0m; ContainerResource on app at
    50 % is 90 % -> 2 replicas (calculateRequests/getContainerMetrics with the container)."""
    pod = PodState(
        "p", metric_timestamp=NOW,
        containers=(ContainerState("app", 1000, 900), ContainerState("sidecar", 1000, 0)),
    )  # fmt: skip
    on_app = HPASpec(1, 10, (MetricSpec(CONTAINER_RESOURCE, "cpu", UTILIZATION, 50, "app"),))
    result = HPAController(on_app, CONTROLLER).sync(NOW, 1, 1, [pod])
    assert (result.utilization, result.replicas) == (90, 2)
    result = HPAController(HPASpec(1, 10, (cpu(50),)), CONTROLLER).sync(NOW, 1, 1, [pod])
    assert (result.utilization, result.replicas) == (45, 1)


def test_named_container_missing__mirrors_TestCalculatePodRequestsFromContainers_NonExistentContainer() -> (  # noqa: E501
    None
):
    pod = PodState("test-pod", containers=(ContainerState("container1", 100),))
    with pytest.raises(MetricError) as raised:
        pod_requests_from_containers(pod, "non-existent-container")
    assert str(raised.value) == "container non-existent-container not found in Pod test-pod"
    # Through the controller, with every layer's wrapping.
    spec = HPASpec(1, 10, (MetricSpec(CONTAINER_RESOURCE, "cpu", UTILIZATION, 50, "web"),))
    pods = [PodState("p", metric_timestamp=NOW, containers=(ContainerState("app", 100, 50),))]
    result = HPAController(spec, CONTROLLER).sync(NOW, 1, 1, pods)
    # getContainerMetrics finds no "web" sample: every pod is missing a metric.
    assert result.error == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get web container "
        "metric value: failed to get cpu utilization: did not receive metrics for targeted "
        "pods (pods might be unready)"
    )


C1, C2 = ContainerState("container1", 100), ContainerState("container2", 50)
POD_LEVEL = {"cpu": 800}


@pytest.mark.parametrize(
    ("containers", "pod_requests", "container", "gate", "expected"),
    [
        ((C1, C2), {}, "", False, 150),  # Sum container requests if the gate is off
        ((C1, C2), {}, "", True, 150),  # enabled, but not set: fallback to the sum
        ((C1, C2), POD_LEVEL, "", True, 800),  # pod-level overrides container requests
        ((ContainerState("container1"), C2), {}, "", False,
         "missing request for cpu in container container1 of Pod test-pod"),
        ((ContainerState("container1"), C2), POD_LEVEL, "", True, 800),  # overrides missing
        ((C1, C2), {}, "container1", False, 100),  # only that container
        ((C1, C2), POD_LEVEL, "container1", True, 100),  # a named container beats pod-level
        ((ContainerState("container1", 100), ContainerState("restartable-container1", 50,
                                                            sidecar=True)), {}, "", False, 150),
        ((C1, C2), POD_LEVEL, "", False, 150),  # gate off: pod-level requests are ignored
        ((ContainerState("container1"),), {"memory": 64}, "", True,
         "missing pod-level request for cpu in Pod test-pod"),
    ],
)  # fmt: skip
def test_requests__mirrors_TestCalculateRequests(
    containers: tuple[ContainerState, ...],
    pod_requests: dict[str, int],
    container: str,
    gate: bool,
    expected: int | str,
) -> None:
    pod = PodState("test-pod", containers=containers, pod_requests=pod_requests)
    gates = FeatureGates(36).with_overrides(PodLevelResources=gate)
    if isinstance(expected, str):
        with pytest.raises(MetricError) as raised:
            calculate_requests([pod], container, gates)
        assert str(raised.value) == expected
    else:
        assert calculate_requests([pod], container, gates) == {"test-pod": expected}


def test_pod_level_request_follows_the_gate_default_of_the_configured_minor() -> None:
    # PodLevelResources is Beta (on) from 1.34, Alpha (off) before: the same pod is measured
    # against its pod-level 2000m at 1.36 (45 % -> 1 pod) and its 1000m container at 1.33.
    pod = PodState(
        "p", metric_timestamp=NOW, containers=(ContainerState("app", 1000, 900),),
        pod_requests={"cpu": 2000},
    )  # fmt: skip
    spec = HPASpec(1, 10, (cpu(50),))
    at_136 = HPAController(spec, CONTROLLER).sync(NOW, 1, 1, [pod])
    at_133 = HPAController(spec, dataclasses.replace(CONTROLLER, gates=FeatureGates(33))).sync(
        NOW, 1, 1, [pod]
    )
    assert (at_136.utilization, at_136.replicas) == (45, 1)
    assert (at_133.utilization, at_133.replicas) == (90, 2)


def test_object_value_saturates__mirrors_TestReplicaCalcScaleUpOverflow() -> None:
    spec = HPASpec(1, 10, (MetricSpec(OBJECT, "qps", VALUE, 1),))
    pods = [PodState(f"test-pod-{i}") for i in range(3)]
    controller = HPAController(spec, CONTROLLER)
    assert controller.compute_replicas_for_metrics(3, 3, pods, {"qps": MAX_INT64}, NOW)[0] == (
        MAX_INT32
    )
    # The proposal is reported saturated; the count is still clamped to maxReplicas.
    result = HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods, {"qps": MAX_INT64})
    assert (result.proposal, result.replicas) == (MAX_INT32, 10)


def test_external_per_pod_saturates__mirrors_TestExternalPerPodMetricReplicaOverflow() -> None:
    proposal = external_per_pod_replicas(1, (MAX_INT64,), 1, TOL)
    assert (proposal.replicas, proposal.usage) == (MAX_INT32, MAX_INT64)


def test_external_per_pod_usage__mirrors_TestExternalPerPodMetricUsageOverflow() -> None:
    proposal = external_per_pod_replicas(1, (MAX_INT64,), MAX_INT64, TOL)
    assert (proposal.replicas, proposal.usage) == (1, MAX_INT64)
    # Two values whose int64 sum wraps negative: saturated, as upstream detects it.
    wrapped = external_per_pod_replicas(1, (MAX_INT64 // 2 + 1, MAX_INT64 // 2 + 1), 1, TOL)
    assert (wrapped.replicas, wrapped.usage) == (MAX_INT32, MAX_INT64)


def test_external_value_sum_saturates__mirrors_TestReplicaCalcExternalMetricUsageOverflow() -> None:
    assert external_sum((MAX_INT64 // 2 + 1, MAX_INT64 // 2 + 1)) == MAX_INT64
    spec = HPASpec(1, 10, (MetricSpec(EXTERNAL, "qps", VALUE, MAX_INT64),))
    pods = [PodState(f"test-pod-{i}") for i in range(3)]
    controller = HPAController(spec, CONTROLLER)
    values = {"qps": (MAX_INT64 // 2 + 1, MAX_INT64 // 2 + 1)}
    # usage MaxInt64 against a MaxInt64 target: ratio 1, within tolerance, 3 stays.
    assert controller.compute_replicas_for_metrics(3, 3, pods, values, NOW)[0] == 3


@pytest.mark.parametrize(
    "behavior",
    [
        None,
        Behavior(DEFAULT_SCALE_UP_RULES, ScalingRules(0, "Max", DEFAULT_SCALE_DOWN_RULES.policies)),
    ],
)
def test_zero_window_scales_down_on_the_first_sync__mirrors_recordInitialRecommendation(
    behavior: Behavior | None,
) -> None:
    # 4 pods at 10 % of a 50 % target with a 0 s downscale window (the flag, or the behavior's
    # scaleDown window): the size seeded before the metrics were read is already outside it.
    settings = dataclasses.replace(CONTROLLER, downscale_stabilization_window=0)
    controller = HPAController(HPASpec(1, 10, (cpu(50),), behavior), settings)
    result = controller.sync(NOW, 4, 4, controller_pods([1] * 4, [100] * 4))
    assert (result.proposal, result.replicas, result.limited_by) == (1, 1, None)


def test_event_exactly_one_period_old_is_outdated__mirrors_TestStoreScaleEvents() -> None:
    # markScaleEventsOutdated: Before(now - longest period) from a later time.Now(): an event
    # stored exactly one period ago is outdated and its slot reused.
    controller = HPAController(
        HPASpec(1, 100, behavior=Behavior(rules(10, 60, 0, 0, 0), DEFAULT_SCALE_DOWN_RULES)),
        scale_up_events=[_ScaleEvent(7, NOW - 60)],
    )
    controller._store_scale_event(NOW, 10, 15)
    assert [(e.replica_change, e.timestamp) for e in controller.scale_up_events] == [(5, NOW)]


def test_missing_request_text__mirrors_TestEmptyCPURequest() -> None:
    pods = [
        PodState("test-pod-0", cpu_request_milli=None, cpu_usage_milli=200, metric_timestamp=NOW)
    ]
    result = HPAController(HPASpec(1, 5, (cpu(100),)), CONTROLLER).sync(NOW, 1, 1, pods)
    assert (result.replicas, result.reason) == (1, "FailedComputeMetricsReplicas")
    assert result.error == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
        "metric value: failed to get cpu utilization: missing request for cpu in container app "
        "of Pod test-pod-0"
    )


def test_no_samples_text__mirrors_TestReplicaCalcEmptyMetrics() -> None:
    pods = [PodState(f"test-pod-{i}", cpu_usage_milli=None) for i in range(3)]
    with pytest.raises(MetricError) as raised:
        resource_replicas(4, 100, pods, TOL, NOW, CALC)
    assert str(raised.value) == (
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    )


def test_pods_metric_without_samples_text() -> None:
    """GetMetricReplicas' wrapping of the custom metrics client's empty answer."""
    spec = HPASpec(1, 5, (MetricSpec(PODS, "qps", AVERAGE_VALUE, 1000),))
    result = HPAController(spec, CONTROLLER).sync(NOW, 1, 1, [PodState("p")])
    assert result.error == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get pods metric value: "
        "unable to get metric qps: no metrics returned from custom metrics API"
    )


def test_only_unlisted_samples__mirrors_TestReplicaCalcDisjointResourcesMetrics() -> None:
    pods = [
        PodState("test-pod-0", cpu_request_milli=2000, cpu_usage_milli=None),
        PodState("an-older-pod-name", cpu_usage_milli=200, sample_only=True),
    ]
    with pytest.raises(MetricError, match=r"^no metrics returned matched known pods$"):
        resource_replicas(1, 100, pods, TOL, NOW, CALC)


def test_unlisted_sample_is_ignored__mirrors_GetResourceUtilizationRatio() -> None:
    # A deleted pod's last sample (not in the pod list) has no request: it adds nothing to
    # the utilization; the listed pod alone decides (900/1000 = 90 % of 50 % -> 2).
    listed = PodState("p", cpu_request_milli=1000, cpu_usage_milli=900, metric_timestamp=NOW)
    gone = PodState("gone", cpu_request_milli=1000, cpu_usage_milli=5000, sample_only=True)
    result = HPAController(HPASpec(1, 10, (cpu(50),)), CONTROLLER).sync(NOW, 1, 1, [listed, gone])
    assert (result.utilization, result.replicas) == (90, 2)


def test_cpu_average_value__mirrors_GetRawResourceReplicas() -> None:
    # calcPlainMetricReplicas over CPU samples: average 500m against 250m -> ceil(2 x 3) = 6.
    spec = HPASpec(1, 10, (MetricSpec(RESOURCE, "cpu", AVERAGE_VALUE, 250),))
    pods = controller_pods([1, 1, 1], [300, 500, 700])
    assert HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods).replicas == 6


def test_external_per_pod__mirrors_TestScaleUpPerPodCMExternal() -> None:
    spec = HPASpec(2, 6, (MetricSpec(EXTERNAL, "qps", AVERAGE_VALUE, 2222),))
    pods = controller_pods([1, 1, 1], [])
    assert HPAController(spec, CONTROLLER).sync(NOW, 3, 3, pods, {"qps": 8600}).replicas == 4


def test_unlisted_pods_metric_sample_counts_in_the_average__mirrors_calcPlainMetricReplicas() -> (
    None
):
    # GetMetricUsageRatio averages every sample the custom metrics API returned, a deleted
    # pod's included: (10000 + 50000) / 2 = 30000 against 10000 -> ceil(3 x 1 ready pod) = 3.
    spec = HPASpec(1, 10, (MetricSpec(PODS, "qps", AVERAGE_VALUE, 10000),))
    pods = [
        PodState("p", metrics={"qps": 10000}),
        PodState("gone", metrics={"qps": 50000}, sample_only=True),
    ]
    assert HPAController(spec, CONTROLLER).sync(NOW, 1, 1, pods).replicas == 3
