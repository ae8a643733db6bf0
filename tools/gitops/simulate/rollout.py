"""A Deployment's rolling update as a timeline of old, new and available pods.

Semantics from kubernetes/kubernetes pkg/controller/deployment: ``util.ResolveFenceposts``
(maxSurge rounds up, maxUnavailable rounds down, both zero -> unavailable 1; the API server
rejects both zero in the first place), ``util.MaxUnavailable`` (capped at replicas),
``util.NewRSNewReplicas`` (new pods up to replicas + surge) and ``rolling.go``
``reconcileOldReplicaSets`` / ``scaleDownOldReplicaSetsForRollingUpdate`` (old pods go only
while available pods stay >= replicas - maxUnavailable). The controller acts again whenever a
new pod becomes available; a new pod is available ``ready_seconds`` after it is created
(start-up plus readiness, ``minReadySeconds`` included by the caller).

    >>> plan = rollout_plan(replicas=4, max_surge="25%", max_unavailable="25%", ready_seconds=20)
    >>> [(s.t, s.old, s.new, s.available) for s in plan.steps][:2]
    [(0.0, 3, 2, 3), (20.0, 1, 4, 3)]

``total`` is the pods that exist after the step (old + new); a step's ``available`` counts the
pods Ready at that moment after the old ReplicaSet was scaled down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops import k8s_math
from gitops.simulate.scenario import ScenarioError

DEFAULT_SURGE = "25%"  # apps/v1 SetDefaults_Deployment
DEFAULT_UNAVAILABLE = "25%"


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, replicas: int) -> tuple[int, int]:
    """``ResolveFenceposts``: (surge, unavailable) in pods."""
    surge = k8s_math.parse_int_or_percent(max_surge).scaled(replicas, round_up=True)
    unavailable = k8s_math.parse_int_or_percent(max_unavailable).scaled(replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        # "Validation should never allow the user to explicitly use zero values for both."
        unavailable = 1
    return surge, unavailable


@dataclass(frozen=True)
class RolloutStep:
    t: float
    old: int  # old ReplicaSet's pods
    new: int  # new ReplicaSet's pods (created)
    new_available: int
    available: int  # old + new available pods
    total: int  # all pods that exist

    def to_json(self) -> dict[str, object]:
        return {
            "t": self.t, "old": self.old, "new": self.new, "newAvailable": self.new_available,
            "available": self.available, "total": self.total,
        }  # fmt: skip


@dataclass(frozen=True)
class RolloutPlan:
    replicas: int
    surge: int
    unavailable: int
    steps: tuple[RolloutStep, ...]
    strategy: str = "RollingUpdate"

    @property
    def duration(self) -> float:
        return self.steps[-1].t if self.steps else 0.0

    @property
    def min_available(self) -> int:
        return min((s.available for s in self.steps), default=self.replicas)

    @property
    def max_total(self) -> int:
        return max((s.total for s in self.steps), default=self.replicas)


def rollout_plan(
    replicas: int, max_surge: Any, max_unavailable: Any, ready_seconds: float
) -> RolloutPlan:
    """Replay the rolling update from all-old to all-new."""
    surge, raw_unavailable = resolve_fenceposts(max_surge, max_unavailable, replicas)
    unavailable = min(raw_unavailable, replicas)  # MaxUnavailable caps at spec.replicas
    old = replicas
    new_ready_times: list[float] = []
    steps: list[RolloutStep] = []
    t = 0.0
    for _ in range(10 * replicas + 10):
        new_available = sum(1 for r in new_ready_times if r <= t)
        # Every ReplicaSet update requeues the Deployment at once: reconcile until stable.
        while True:
            before = (old, len(new_ready_times))
            # reconcileNewReplicaSet (NewRSNewReplicas)
            max_total = replicas + surge
            current = old + len(new_ready_times)
            if current < max_total and len(new_ready_times) < replicas:
                add = min(max_total - current, replicas - len(new_ready_times))
                new_ready_times += [t + ready_seconds] * add
            # reconcileOldReplicaSets (old pods are all available in this model)
            min_available = replicas - unavailable
            new_unavailable = len(new_ready_times) - new_available
            all_pods = old + len(new_ready_times)
            if old > 0 and all_pods - min_available - new_unavailable > 0:
                available = old + new_available
                if available > min_available:
                    old -= min(old, available - min_available)
            if (old, len(new_ready_times)) == before:
                break
        steps.append(
            RolloutStep(t, old, len(new_ready_times), new_available, old + new_available,
                        old + len(new_ready_times))
        )  # fmt: skip
        if old == 0 and new_available == replicas:
            break
        pending = [r for r in new_ready_times if r > t]
        if not pending:
            break  # stuck: nothing will change any more (cannot happen with valid settings)
        t = min(pending)
    return RolloutPlan(replicas, surge, unavailable, tuple(steps))


def deployment_rollout(
    deployment: Mapping[str, Any], replicas: int, ready_seconds: float, source: str
) -> RolloutPlan:
    """The plan for a rendered Deployment (strategy defaults applied)."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    minimum_ready = float(spec.get("minReadySeconds") or 0)
    if strategy.get("type") == "Recreate":
        return recreate_plan(replicas, ready_seconds + minimum_ready)
    rolling = strategy.get("rollingUpdate") or {}
    surge = rolling.get("maxSurge", DEFAULT_SURGE)
    unavailable = rolling.get("maxUnavailable", DEFAULT_UNAVAILABLE)
    try:
        both_zero = _is_zero(surge) and _is_zero(unavailable)
    except k8s_math.InvalidValueError as exc:
        raise ScenarioError(f"{source}: spec.strategy.rollingUpdate: {exc}") from exc
    if both_zero:
        raise ScenarioError(
            f"{source}: maxSurge and maxUnavailable are both 0: the API server rejects this "
            "(nothing could ever be replaced)"
        )
    return rollout_plan(replicas, surge, unavailable, ready_seconds + minimum_ready)


def recreate_plan(replicas: int, ready_seconds: float) -> RolloutPlan:
    """``rolloutRecreate``: every old pod goes first, then all new pods start together."""
    steps = (
        RolloutStep(0.0, 0, replicas, 0, 0, replicas),
        RolloutStep(ready_seconds, 0, replicas, replicas, replicas, replicas),
    )
    return RolloutPlan(replicas, 0, replicas, steps, "Recreate")


def _is_zero(value: Any) -> bool:
    parsed = k8s_math.parse_int_or_percent(value)
    return parsed.value == 0
