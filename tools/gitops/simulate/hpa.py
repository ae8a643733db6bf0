"""The autoscaling/v2 HorizontalPodAutoscaler controller's arithmetic, one sync at a time.

Transcribed (semantics, not code) from kubernetes/kubernetes pkg/controller/podautoscaler:
``horizontal.go`` (``reconcileAutoscaler``, ``computeReplicasForMetrics``,
``recordInitialRecommendation``, ``stabilizeRecommendation``, ``normalizeDesiredReplicas``,
``convertDesiredReplicasWithRules``, ``calculateScaleUpLimit``,
``stabilizeRecommendationWithBehaviors``, ``convertDesiredReplicasWithBehaviorRate``,
``calculateScaleUpLimitWithScalingRules``, ``calculateScaleDownLimitWithBehaviors``,
``getReplicasChangePerPeriod``, ``storeScaleEvent``, ``markScaleEventsOutdated``) and
pkg/apis/autoscaling/v2/defaults.go (``GenerateHPAScaleUpRules``/``...ScaleDownRules``). What
each metric proposes (``replica_calculator.go``) is :mod:`gitops.simulate.replicas`.

Times are seconds on one simulated clock (floats; :data:`ZERO_TIME` plays Go's zero time). Every
float operation happens in the same order as in the Go source, so ``ceil`` and truncation land on
the same integers.

    >>> controller = HPAController(HPASpec(min_replicas=1, max_replicas=10, metrics=(cpu(50),)))
    >>> pods = [PodState("a", cpu_request_milli=1000, cpu_usage_milli=900)]
    >>> controller.sync(now=0.0, spec_replicas=1, status_replicas=1, pods=pods).replicas
    2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gitops.k8s.features import HPA_CONFIGURABLE_TOLERANCE, HPA_SCALE_TO_ZERO
from gitops.simulate.replicas import (
    ControllerSettings,
    MetricError,
    PodState,
    Proposal,
    Tolerances,
    external_per_pod_replicas,
    external_sum,
    per_pod_value_replicas,
    plain_metric_replicas,
    pods_metric_samples,
    resource_metrics,
    resource_replicas,
    usage_ratio_replicas,
)

# --- the HPA spec -------------------------------------------------------------------------

SELECT_MAX = "Max"
SELECT_MIN = "Min"
SELECT_DISABLED = "Disabled"
POLICY_PODS = "Pods"
POLICY_PERCENT = "Percent"


@dataclass(frozen=True)
class ScalingPolicy:
    type: str  # "Pods" | "Percent"
    value: int
    period_seconds: int


@dataclass(frozen=True)
class ScalingRules:
    """``HPAScalingRules``; ``stabilization_window_seconds`` None = the controller flag."""

    stabilization_window_seconds: int | None
    select_policy: str
    policies: tuple[ScalingPolicy, ...]
    tolerance: float | None = None  # per-direction tolerance (HPAConfigurableTolerance gate)


@dataclass(frozen=True)
class Behavior:
    scale_up: ScalingRules
    scale_down: ScalingRules


# defaults.go: scale-up 0 s window, Max of {4 Pods, 100 Percent} per 15 s; scale-down window
# left to the controller flag, Max of {100 Percent} per 15 s.
DEFAULT_SCALE_UP_RULES = ScalingRules(
    stabilization_window_seconds=0,
    select_policy=SELECT_MAX,
    policies=(ScalingPolicy(POLICY_PODS, 4, 15), ScalingPolicy(POLICY_PERCENT, 100, 15)),
)
DEFAULT_SCALE_DOWN_RULES = ScalingRules(
    stabilization_window_seconds=None,
    select_policy=SELECT_MAX,
    policies=(ScalingPolicy(POLICY_PERCENT, 100, 15),),
)


def generate_rules(
    default: ScalingRules,
    *,
    stabilization_window_seconds: int | None = None,
    select_policy: str | None = None,
    policies: tuple[ScalingPolicy, ...] | None = None,
    tolerance: float | None = None,
) -> ScalingRules:
    """``GenerateHPAScale{Up,Down}Rules``/``copyHPAScalingRules``: every field the user left
    unset (None) keeps the default; an explicit empty policy list stays empty."""
    return ScalingRules(
        stabilization_window_seconds
        if stabilization_window_seconds is not None
        else default.stabilization_window_seconds,
        select_policy if select_policy is not None else default.select_policy,
        policies if policies is not None else default.policies,
        tolerance if tolerance is not None else default.tolerance,
    )


RESOURCE = "Resource"
CONTAINER_RESOURCE = "ContainerResource"
PODS = "Pods"
OBJECT = "Object"
EXTERNAL = "External"

UTILIZATION = "Utilization"
AVERAGE_VALUE = "AverageValue"
VALUE = "Value"


@dataclass(frozen=True)
class MetricSpec:
    """One entry of ``spec.metrics``; ``target`` is a percent for Utilization, else milli-units;
    ``container`` is a ContainerResource metric's container."""

    type: str
    name: str
    target_type: str
    target: int
    container: str = ""


def cpu(utilization: int) -> MetricSpec:
    """The common case: a CPU utilization target in percent of the requests."""
    return MetricSpec(RESOURCE, "cpu", UTILIZATION, utilization)


# SetDefaults_HorizontalPodAutoscaler: no metrics -> CPU at 80 % (DefaultCPUUtilization).
DEFAULT_METRICS = (cpu(80),)


@dataclass(frozen=True)
class HPASpec:
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricSpec, ...] = DEFAULT_METRICS
    behavior: Behavior | None = None  # None: the legacy path (normalizeDesiredReplicas)

    @property
    def name(self) -> str:
        return "hpa"


# --- the controller -----------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """One reconcile: what a status update and a ``kubectl describe hpa`` would show;
    ``error`` is the FailedComputeMetricsReplicas event's message, word for word."""

    t: float
    current: int  # spec.replicas before the sync
    replicas: int  # spec.replicas after the sync
    proposal: int | None  # max over metrics before stabilisation/limits (None: not computed)
    utilization: int | None  # first Utilization metric, percent
    limited_by: str | None  # ScaleUpLimit, TooManyReplicas, ..., ScaleDownStabilized, ...
    reason: str  # the rescale reason, or why nothing happened
    error: str | None = None


@dataclass
class _Recommendation:
    recommendation: int
    timestamp: float


@dataclass
class _ScaleEvent:
    replica_change: int
    timestamp: float
    outdated: bool = False


@dataclass
class HPAController:
    """One HPA's controller state (recommendations and scale events) across syncs.

    ``metric_values`` passed to :meth:`sync` holds Object/External metric values (milli-units)
    by metric name; a metric name absent from it (or from the pods) fails that metric.
    """

    spec: HPASpec
    settings: ControllerSettings = field(default_factory=ControllerSettings)
    recommendations: list[_Recommendation] | None = None
    scale_up_events: list[_ScaleEvent] = field(default_factory=list)
    scale_down_events: list[_ScaleEvent] = field(default_factory=list)
    scaled_to_zero: bool = False  # the ScaledToZero condition is True

    # -- metrics (computeReplicasForMetrics) ------------------------------------------

    def _tolerances(self) -> Tolerances:
        """``tolerancesForHpa``: per-direction tolerances need the HPAConfigurableTolerance
        gate."""
        default = self.settings.tolerance
        behavior = self.spec.behavior
        if behavior is None or not self.settings.gates.enabled(HPA_CONFIGURABLE_TOLERANCE):
            return Tolerances(default, default)
        down = behavior.scale_down.tolerance
        up = behavior.scale_up.tolerance
        return Tolerances(default if down is None else down, default if up is None else up)

    def _metric_replicas(
        self,
        metric: MetricSpec,
        spec_replicas: int,
        status_replicas: int,
        pods: Sequence[PodState],
        metric_values: Mapping[str, int | tuple[int, ...]],
        now: float,
    ) -> Proposal:
        """``computeReplicasForMetric``: one metric's proposal, or a :class:`MetricError` with
        the text upstream's error has at this level. Seven parameters: the scale's two replica
        counts, the pods, the Object/External values and the clock, as upstream reads them."""
        try:
            return self._metric_proposal(
                metric, spec_replicas, status_replicas, pods, metric_values, now
            )
        except MetricError as exc:
            raise MetricError(f"{_metric_error_prefix(metric)}: {exc}") from exc

    def _metric_proposal(
        self,
        metric: MetricSpec,
        spec_replicas: int,
        status_replicas: int,
        pods: Sequence[PodState],
        metric_values: Mapping[str, int | tuple[int, ...]],
        now: float,
    ) -> Proposal:
        """``computeStatusFor{Resource,ContainerResource,Pods,Object,External}Metric``."""
        tolerances = self._tolerances()
        if metric.type in (RESOURCE, CONTAINER_RESOURCE):
            return self._resource_proposal(metric, spec_replicas, pods, tolerances, now)
        if metric.type == PODS:
            return plain_metric_replicas(
                spec_replicas, metric.target, pods_metric_samples(pods, metric.name), pods,
                False, tolerances, now, self.settings,
            )  # fmt: skip
        if metric.type in (OBJECT, EXTERNAL):
            values = _metric_series(metric, metric_values)
            return _object_or_external_proposal(
                metric, values, spec_replicas, status_replicas, pods, tolerances
            )
        raise MetricError(f'unknown metric source type "{metric.type}"')

    def _resource_proposal(
        self,
        metric: MetricSpec,
        spec_replicas: int,
        pods: Sequence[PodState],
        tolerances: Tolerances,
        now: float,
    ) -> Proposal:
        """``computeStatusForResourceMetricGeneric``: utilization, or a raw average value."""
        if metric.name != "cpu":
            raise MetricError(f"only the cpu resource is simulated, not {metric.name}")
        if metric.target_type == UTILIZATION:
            try:
                return resource_replicas(
                    spec_replicas, metric.target, pods, tolerances, now, self.settings,
                    metric.container,
                )  # fmt: skip
            except MetricError as exc:
                raise MetricError(f"failed to get cpu utilization: {exc}") from exc
        try:  # GetRawResourceReplicas
            samples = resource_metrics(pods, metric.container)
            return plain_metric_replicas(
                spec_replicas, metric.target, samples, pods, True, tolerances, now,
                self.settings,
            )  # fmt: skip
        except MetricError as exc:
            raise MetricError(f"failed to get cpu usage: {exc}") from exc

    def compute_replicas_for_metrics(
        self,
        spec_replicas: int,
        status_replicas: int,
        pods: Sequence[PodState],
        metric_values: Mapping[str, int | tuple[int, ...]],
        now: float,
    ) -> tuple[int, int | None, str | None]:
        """(replicas, utilization, error); replicas -1 when nothing may be done: every metric
        failed, or one failed and the others would scale down. The error is upstream's
        "invalid metrics (N invalid out of M), first error is: ..."."""
        replicas = 0
        utilization: int | None = None
        invalid = 0
        first_error: str | None = None
        for metric in self.spec.metrics:
            try:
                proposal = self._metric_replicas(
                    metric, spec_replicas, status_replicas, pods, metric_values, now
                )
            except MetricError as exc:
                if invalid == 0:
                    first_error = str(exc)
                invalid += 1
                continue
            if utilization is None and proposal.utilization is not None:
                utilization = proposal.utilization
            if replicas == 0 or proposal.replicas > replicas:
                replicas = proposal.replicas
        if first_error is not None:
            first_error = (
                f"invalid metrics ({invalid} invalid out of {len(self.spec.metrics)}), "
                f"first error is: {first_error}"
            )
        if invalid >= len(self.spec.metrics) or (invalid > 0 and replicas < spec_replicas):
            return -1, utilization, first_error
        return replicas, utilization, first_error

    # -- reconcile ---------------------------------------------------------------------

    def sync(
        self,
        now: float,
        spec_replicas: int,
        status_replicas: int,
        pods: Sequence[PodState],
        metric_values: Mapping[str, int | tuple[int, ...]] | None = None,
    ) -> SyncResult:
        """``reconcileAutoscaler`` for one sync at ``now``. Long because it is one function
        upstream too: the replica-count guards (zero, above max, below min) in upstream's
        order, then the metrics, normalisation and the rescale."""
        if self.recommendations is None:
            # recordInitialRecommendation: the first sync seeds history with the current size.
            self.recommendations = [_Recommendation(spec_replicas, now)]
        spec = self.spec
        current = spec_replicas
        scaled_to_zero = self.settings.gates.enabled(HPA_SCALE_TO_ZERO) and self.scaled_to_zero
        guarded = self._guard(now, current, scaled_to_zero)
        if guarded is not None:
            return guarded
        proposal, utilization, error = self.compute_replicas_for_metrics(
            spec_replicas, status_replicas, pods, metric_values or {}, now
        )
        if proposal == -1:
            return SyncResult(
                now, current, current, None, utilization, None, "FailedComputeMetricsReplicas",
                error,
            )  # fmt: skip
        desired = max(0, proposal)
        reason = "within tolerance"
        if desired > current:
            reason = "metric above target"
        if desired < current:
            reason = "All metrics below target"
        if spec.behavior is None:
            normalized, limited_by = self._normalize_legacy(now, current, desired)
        else:
            normalized, limited_by = self._normalize_with_behaviors(now, current, desired)
        if current == 0 and scaled_to_zero and normalized < spec.min_replicas:
            # Scaling from zero with a raised minReplicas lands on at least the minimum.
            normalized = spec.min_replicas
            if reason == "within tolerance":
                reason = "Current number of replicas below Spec.MinReplicas"
        return self._rescale(
            SyncResult(now, current, normalized, proposal, utilization, limited_by, reason)
        )

    def _guard(self, now: float, current: int, scaled_to_zero: bool) -> SyncResult | None:
        """The replica-count cases that decide without metrics, or None to compute them."""
        spec = self.spec
        if current == 0:
            # shouldComputeMetricsForZeroReplicas: only an HPA that scaled its target to zero
            # itself (ScaledToZero, HPAScaleToZero gate) computes metrics at zero.
            object_or_external = any(m.type in (OBJECT, EXTERNAL) for m in spec.metrics)
            if scaled_to_zero and (spec.min_replicas != 0 or object_or_external):
                return None
            if not self.settings.gates.enabled(HPA_SCALE_TO_ZERO):
                self.scaled_to_zero = False  # removeCondition(ScaledToZero)
            return SyncResult(now, 0, 0, None, None, None, "ScalingDisabled")
        if current > spec.max_replicas:
            return self._rescale(
                SyncResult(
                    now, current, spec.max_replicas, None, None, None,
                    "Current number of replicas above Spec.MaxReplicas",
                )
            )  # fmt: skip
        if current < spec.min_replicas:
            return self._rescale(
                SyncResult(
                    now, current, spec.min_replicas, None, None, None,
                    "Current number of replicas below Spec.MinReplicas",
                )
            )  # fmt: skip
        return None

    def _rescale(self, result: SyncResult) -> SyncResult:
        """Record the scale event (and the ScaledToZero condition) of a sync that changes the
        replica count, and return it."""
        if result.replicas != result.current:
            self._store_scale_event(result.t, result.current, result.replicas)
            spec = self.spec
            self.scaled_to_zero = (
                self.settings.gates.enabled(HPA_SCALE_TO_ZERO)
                and result.current > 0 and result.replicas == 0 and spec.min_replicas == 0
                and any(m.type in (OBJECT, EXTERNAL) for m in spec.metrics)
            )  # fmt: skip
        return result

    # -- legacy path (no spec.behavior) ----------------------------------------------

    def stabilize_recommendation(self, now: float, prenormalized: int) -> int:
        """``stabilizeRecommendation``: max over the downscale window. An entry exactly one
        window old is outside it (see :func:`_is_before`); with a zero window even the first
        sync's seeded size is."""
        assert self.recommendations is not None
        max_recommendation = prenormalized
        cutoff = now - self.settings.downscale_stabilization_window
        old_index: int | None = None
        for i, rec in enumerate(self.recommendations):
            if rec.timestamp <= cutoff:  # _is_before, written out (the hot loop)
                old_index = i
            elif rec.recommendation > max_recommendation:
                max_recommendation = rec.recommendation
        if old_index is not None:
            self.recommendations[old_index] = _Recommendation(prenormalized, now)
        else:
            self.recommendations.append(_Recommendation(prenormalized, now))
        return max_recommendation

    def _normalize_legacy(
        self, now: float, current: int, prenormalized: int
    ) -> tuple[int, str | None]:
        """``normalizeDesiredReplicas``: stabilise, then ``convertDesiredReplicasWithRules``."""
        stabilized = self.stabilize_recommendation(now, prenormalized)
        desired, condition = convert_desired_replicas_with_rules(
            current, stabilized, self.spec.min_replicas, self.spec.max_replicas, self.settings
        )
        if desired != stabilized:
            return desired, condition
        if stabilized != prenormalized:
            return desired, "ScaleDownStabilized"
        return desired, None

    # -- behavior path -------------------------------------------------------------------

    def stabilize_recommendation_with_behaviors(
        self, now: float, current: int, prenormalized: int
    ) -> tuple[int, str]:
        """``stabilizeRecommendationWithBehaviors``: up = min over the scale-up window,
        down = max over the scale-down window (one exactly a window old is outside, see
        :func:`_is_before`), result = current clamped into [up, down]."""
        assert self.recommendations is not None and self.spec.behavior is not None
        up_window = self.spec.behavior.scale_up.stabilization_window_seconds or 0
        down_window = self.spec.behavior.scale_down.stabilization_window_seconds
        if down_window is None:  # maybeInitScaleDownStabilizationWindow
            down_window = int(self.settings.downscale_stabilization_window)
        up_cutoff = now - up_window
        down_cutoff = now - down_window
        up_recommendation = prenormalized
        down_recommendation = prenormalized
        old_index: int | None = None
        # _is_before(t, cutoff) is t <= cutoff, written out: this loop runs over the whole
        # history at every sync and is the simulation's hottest.
        for i, rec in enumerate(self.recommendations):
            timestamp = rec.timestamp
            if timestamp > up_cutoff and rec.recommendation < up_recommendation:
                up_recommendation = rec.recommendation
            if timestamp > down_cutoff and rec.recommendation > down_recommendation:
                down_recommendation = rec.recommendation
            if timestamp <= up_cutoff and timestamp <= down_cutoff:
                old_index = i
        recommendation = current
        if recommendation < up_recommendation:
            recommendation = up_recommendation
        if recommendation > down_recommendation:
            recommendation = down_recommendation
        if old_index is not None:
            self.recommendations[old_index] = _Recommendation(prenormalized, now)
        else:
            self.recommendations.append(_Recommendation(prenormalized, now))
        reason = "ScaleUpStabilized" if prenormalized >= current else "ScaleDownStabilized"
        return recommendation, reason

    def _normalize_with_behaviors(
        self, now: float, current: int, prenormalized: int
    ) -> tuple[int, str | None]:
        """``normalizeDesiredReplicasWithBehaviors``."""
        stabilized, stabilized_reason = self.stabilize_recommendation_with_behaviors(
            now, current, prenormalized
        )
        desired, condition = self.convert_desired_replicas_with_behavior_rate(
            now, current, stabilized
        )
        if desired != stabilized:
            return desired, condition
        if stabilized != prenormalized:
            return desired, stabilized_reason
        return desired, None

    def convert_desired_replicas_with_behavior_rate(
        self, now: float, current: int, desired: int
    ) -> tuple[int, str]:
        """``convertDesiredReplicasWithBehaviorRate``: per-policy rate limits, then the bounds."""
        behavior = self.spec.behavior
        assert behavior is not None
        spec = self.spec
        if desired > current:
            limit = calculate_scale_up_limit_with_scaling_rules(
                now, current, self.scale_up_events, self.scale_down_events,
                behavior.scale_up,
            )  # fmt: skip
            limit = max(limit, current)  # never below current until events age out
            if spec.max_replicas > limit:
                maximum, reason = limit, "ScaleUpLimit"
            else:
                maximum, reason = spec.max_replicas, "TooManyReplicas"
            if desired > maximum:
                return maximum, reason
        elif desired < current:
            limit = calculate_scale_down_limit_with_behaviors(
                now, current, self.scale_up_events, self.scale_down_events,
                behavior.scale_down,
            )  # fmt: skip
            limit = min(limit, current)
            if spec.min_replicas < limit:
                minimum, reason = limit, "ScaleDownLimit"
            else:
                minimum, reason = spec.min_replicas, "TooFewReplicas"
            if desired < minimum:
                return minimum, reason
        return desired, "DesiredWithinRange"

    def _store_scale_event(self, now: float, previous: int, new: int) -> None:
        """``storeScaleEvent``: only with a behavior; reuses the last outdated slot."""
        behavior = self.spec.behavior
        if behavior is None:
            return
        if new > previous:
            events, rules, change = self.scale_up_events, behavior.scale_up, new - previous
        else:
            events, rules, change = self.scale_down_events, behavior.scale_down, previous - new
        longest = max((p.period_seconds for p in rules.policies), default=0)
        cutoff = now - longest
        old_index: int | None = None
        for i, event in enumerate(events):
            if _is_before(event.timestamp, cutoff):  # markScaleEventsOutdated
                event.outdated = True
            if event.outdated:
                old_index = i
        if old_index is not None:
            events[old_index] = _ScaleEvent(change, now)
        else:
            events.append(_ScaleEvent(change, now))


def _is_before(timestamp: float, cutoff: float) -> bool:
    """Whether a stored recommendation or scale event is older than a window's cutoff.

    Upstream stamps each with ``time.Now()`` and computes every cutoff from a later
    ``time.Now()``: the first sync's seeded size is stamped before the metrics are even read,
    and the next sync starts one period after the previous one *ended* (the work queue re-adds
    the HPA with the resync delay when it is done). So an entry made exactly one window of
    syncs ago is strictly before the cutoff (``Before`` true, ``After`` false), and with a zero
    window the seeded size of the same sync is too. On this simulation's exact clock that is
    ``timestamp <= cutoff``.
    """
    return timestamp <= cutoff


def _metric_series(
    metric: MetricSpec, metric_values: Mapping[str, int | tuple[int, ...]]
) -> tuple[int, ...]:
    """An Object metric's value or an External metric's values, as the scenario gives them."""
    if metric.name not in metric_values:
        api = "custom" if metric.type == OBJECT else "external"
        raise MetricError(
            f"unable to get metric {metric.name}: no metrics returned from {api} metrics API"
        )
    value = metric_values[metric.name]
    return value if isinstance(value, tuple) else (value,)


def _object_or_external_proposal(
    metric: MetricSpec,
    values: tuple[int, ...],
    spec_replicas: int,
    status_replicas: int,
    pods: Sequence[PodState],
    tolerances: Tolerances,
) -> Proposal:
    """``computeStatusForObjectMetric`` / ``computeStatusForExternalMetric``: a Value target
    scales the ready pods by usage / target, an AverageValue one divides by status.replicas.
    Six inputs and the metric: what the Go functions read from the scale and the API."""
    if metric.type == OBJECT:
        if len(values) != 1:
            raise MetricError(
                f"unable to get metric {metric.name}: an object metric has one value, "
                f"the scenario gives {len(values)}"
            )
        usage = values[0]
    else:
        usage = external_sum(values)
    if metric.target_type == VALUE:
        ratio = float(usage) / float(metric.target)
        replicas = usage_ratio_replicas(spec_replicas, ratio, pods, tolerances)
        return Proposal(replicas, None, usage)
    if metric.type == EXTERNAL:
        return external_per_pod_replicas(status_replicas, values, metric.target, tolerances)
    return per_pod_value_replicas(status_replicas, usage, metric.target, tolerances)


def _metric_error_prefix(metric: MetricSpec) -> str:
    """``computeReplicasForMetric``'s wrapping of a metric's error, by source type (and the
    Object/External status functions' own, for an AverageValue target)."""
    if metric.type == RESOURCE:
        return f"failed to get {metric.name} resource metric value"
    if metric.type == CONTAINER_RESOURCE:
        return f"failed to get {metric.container} container metric value"
    if metric.type == PODS:
        return "failed to get pods metric value"
    if metric.type == OBJECT:
        inner = (
            f": failed to get {metric.name} object metric"
            if (metric.target_type == AVERAGE_VALUE)
            else ""
        )
        return f"failed to get object metric value{inner}"
    if metric.type == EXTERNAL:
        inner = (
            f"failed to get {metric.name} external metric"
            if metric.target_type == AVERAGE_VALUE
            else f"failed to get external metric {metric.name}"
        )
        return f"failed to get {metric.name} external metric value: {inner}"
    return "failed to get metric value"


def convert_desired_replicas_with_rules(
    current: int, desired: int, min_replicas: int, max_replicas: int, settings: ControllerSettings
) -> tuple[int, str]:
    """``convertDesiredReplicasWithRules`` (legacy): scale-up capped at
    max(factor x current, minimum) per sync, then the bounds."""
    scale_up_limit = int(
        max(settings.scale_up_limit_factor * float(current), settings.scale_up_limit_minimum)
    )
    if max_replicas > scale_up_limit:
        maximum, condition = scale_up_limit, "ScaleUpLimit"
    else:
        maximum, condition = max_replicas, "TooManyReplicas"
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas"
    if desired > maximum:
        return maximum, condition
    return desired, "DesiredWithinRange"


def replicas_change_per_period(
    now: float, period_seconds: int, events: Sequence[_ScaleEvent]
) -> int:
    """``getReplicasChangePerPeriod``: events less than one period old."""
    cutoff = now - period_seconds
    return sum(e.replica_change for e in events if not _is_before(e.timestamp, cutoff))


def calculate_scale_up_limit_with_scaling_rules(
    now: float,
    current: int,
    up_events: Sequence[_ScaleEvent],
    down_events: Sequence[_ScaleEvent],
    rules: ScalingRules,
) -> int:
    """``calculateScaleUpLimitWithScalingRules``: per policy, from the size at the start of its
    period (current - added + removed): Pods adds v, Percent multiplies and rounds up;
    selectPolicy Max takes the largest, Min the smallest, Disabled keeps current."""
    if rules.select_policy == SELECT_DISABLED:
        return current
    pick_min = rules.select_policy == SELECT_MIN
    result: int | None = None
    for policy in rules.policies:
        added = replicas_change_per_period(now, policy.period_seconds, up_events)
        removed = replicas_change_per_period(now, policy.period_seconds, down_events)
        period_start = current - added + removed
        if policy.type == POLICY_PODS:
            proposed = period_start + policy.value
        else:
            proposed = math.ceil(float(period_start) * (1 + float(policy.value) / 100))
        if result is None:
            result = proposed
        else:
            result = min(result, proposed) if pick_min else max(result, proposed)
    # An empty policy list leaves Go's sentinel (MinInt32 for Max, MaxInt32 for Min).
    if result is None:
        return 2**31 - 1 if pick_min else -(2**31)
    return result


def calculate_scale_down_limit_with_behaviors(
    now: float,
    current: int,
    up_events: Sequence[_ScaleEvent],
    down_events: Sequence[_ScaleEvent],
    rules: ScalingRules,
) -> int:
    """``calculateScaleDownLimitWithBehaviors``: Pods subtracts v, Percent multiplies by
    (1 - v/100) and truncates; Max picks the smallest limit (the biggest change)."""
    if rules.select_policy == SELECT_DISABLED:
        return current
    pick_max = rules.select_policy == SELECT_MIN  # the least change is the highest limit
    result: int | None = None
    for policy in rules.policies:
        added = replicas_change_per_period(now, policy.period_seconds, up_events)
        removed = replicas_change_per_period(now, policy.period_seconds, down_events)
        period_start = current - added + removed
        if policy.type == POLICY_PODS:
            proposed = period_start - policy.value
        else:
            proposed = int(float(period_start) * (1 - float(policy.value) / 100))
        if result is None:
            result = proposed
        else:
            result = max(result, proposed) if pick_max else min(result, proposed)
    if result is None:
        return -(2**31) if pick_max else 2**31 - 1
    return result
