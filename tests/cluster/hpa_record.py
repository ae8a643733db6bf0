"""What the HPA test feeds the real HPA controller and what it saw, in a form a model can be
run on: the HPA spec as applied, each container's CPU request, the per-pod CPU usage schedule,
and the replica timeline sampled once a second. The test writes it to
cluster-artifacts/hpa-timeline.json so an offline simulation of the same inputs can be
compared with it (`HpaRecord.read`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the load started
    spec_replicas: int  # the Deployment's spec.replicas (what the HPA last set)
    ready_replicas: int
    desired_replicas: int  # HPA status.desiredReplicas
    utilization: int | None  # HPA status currentMetrics cpu averageUtilization, percent
    scaling_limited: str | None  # reason when ScalingLimited is True


@dataclass(frozen=True)
class LoadStep:
    t: float  # seconds since the load started
    cpu_per_pod: str  # kwok.x-k8s.io/usage-cpu on every pod from then on


@dataclass
class HpaRecord:
    hpa: dict[str, Any]  # spec as applied
    cpu_request_milli_per_pod: int
    controller_flags: dict[str, str]
    load: list[LoadStep] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def replicas_at(self, t: float) -> int:
        """spec.replicas as last sampled at or before ``t`` (the first sample before that)."""
        before = [s for s in self.samples if s.t <= t]
        return (before[-1] if before else self.samples[0]).spec_replicas

    def dump(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> HpaRecord:
        raw = json.loads(path.read_text())
        return cls(
            hpa=raw["hpa"],
            cpu_request_milli_per_pod=raw["cpu_request_milli_per_pod"],
            controller_flags=raw["controller_flags"],
            load=[LoadStep(**step) for step in raw["load"]],
            samples=[Sample(**sample) for sample in raw["samples"]],
        )
