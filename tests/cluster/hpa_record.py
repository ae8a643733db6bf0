"""What the HPA test feeds the real HPA controller and what it saw, in a form a model can be
run on: the HPA spec as applied, each container's CPU request, the controller flags, the
per-pod CPU usage schedule the test set, and once a second the replica counts, the HPA's
``lastScaleTime``, each pod's CPU as the metrics API served it (what the controller reads) and
each pod's creation/start/Ready times. The test writes it to cluster-artifacts/hpa-timeline.json
and compares it with the simulation of the same inputs (hpa_compare.py; `HpaRecord.read`)."""

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
    last_scale: float | None = None  # HPA status.lastScaleTime, seconds since the load started
    # metrics.k8s.io PodMetrics: the pod's CPU (milli, summed over containers) as served now
    served_cpu: dict[str, int] = field(default_factory=dict)
    # the newest PodMetrics timestamp (the scrape that produced the values; the sampler sees
    # them up to a second later, the controller possibly sooner)
    served_at: float | None = None


@dataclass(frozen=True)
class LoadStep:
    t: float  # seconds since the load started
    cpu_per_pod: str  # kwok.x-k8s.io/usage-cpu on every pod from then on


@dataclass(frozen=True)
class PodTimes:
    """A pod's life as the API reports it, in seconds since the load started."""

    created: float
    started: float | None = None  # status.startTime
    ready: float | None = None  # the Ready condition's lastTransitionTime, when True
    first_metrics: float | None = None  # timestamp of the first PodMetrics served for it


@dataclass
class HpaRecord:
    hpa: dict[str, Any]  # spec as applied
    cpu_request_milli_per_pod: int
    controller_flags: dict[str, str]
    load: list[LoadStep] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    pods: dict[str, PodTimes] = field(default_factory=dict)
    start_unix: float = 0.0  # wall-clock time of t = 0 (API timestamps are wall-clock)
    metrics_resolution: float = 15.0  # metrics-server --metric-resolution, seconds

    def replicas_at(self, t: float) -> int:
        """spec.replicas as last sampled at or before ``t`` (the first sample before that)."""
        before = [s for s in self.samples if s.t <= t]
        return (before[-1] if before else self.samples[0]).spec_replicas

    def seen_pod(self, name: str, times: PodTimes) -> None:
        """Record a pod's times; the first time its metrics were served is kept."""
        old = self.pods.get(name)
        first = old.first_metrics if old is not None else None
        self.pods[name] = PodTimes(
            times.created,
            times.started,
            times.ready,
            first if first is not None else times.first_metrics,
        )

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
            pods={name: PodTimes(**times) for name, times in raw.get("pods", {}).items()},
            start_unix=float(raw.get("start_unix", 0.0)),
            metrics_resolution=float(raw.get("metrics_resolution", 15.0)),
        )
