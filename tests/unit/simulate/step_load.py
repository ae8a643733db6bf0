"""The step-load scenario the engine, report and plot tests share: 2 pods of 50m on target,
3x the load at t=60, back at t=960."""

from __future__ import annotations

from typing import Any

from gitops.simulate.engine import Timeline
from gitops.simulate.scenario import Scenario, parse_scenario

HPA_2_10_AT_70 = {
    "spec": {
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
    }
}  # fmt: skip


def step_scenario(**overrides: Any) -> Scenario:
    """2 pods of 50m on target (70m total), 3x at t=60, back at t=960."""
    data: dict[str, Any] = {
        "hpa": {"manifest": HPA_2_10_AT_70},
        "pod": {"cpuRequest": "50m", "startupSeconds": 10, "readinessSeconds": 5},
        "load": {"totalCPU": [
            {"at": 0, "value": "70m"}, {"at": 60, "value": "210m"}, {"at": 960, "value": "70m"}]},
        "durationSeconds": 1800,
    }  # fmt: skip
    data.update(overrides)
    return parse_scenario(data, "step.yaml")


def replicas_at(timeline: Timeline, t: float) -> int:
    return next(s.replicas for s in timeline.steps if s.t == t)
