"""What a probe run found: per probe, per container, per overlay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops.probe.spec import Attempt

# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeCheck:
    container: str
    kind: str  # startup | readiness | liveness | readiness-db-down | liveness-db-down | ...
    url: str
    passed: bool
    message: str
    attempts: tuple[Attempt, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "probe": self.kind,
            "url": self.url,
            "passed": self.passed,
            "message": self.message,
            "attempts": [
                {"at": a.at, "success": a.success, "detail": a.detail} for a in self.attempts
            ],
        }


@dataclass(frozen=True)
class ContainerTiming:
    container: str
    measured_startup: float | None  # seconds until the process first answered its probe
    startup_budget: float  # kubelet seconds (unscaled)
    time_to_ready: float | None  # seconds until readiness passed, on kubelet's schedule
    speed: float

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "measuredStartupSeconds": self.measured_startup,
            "startupBudgetSeconds": self.startup_budget,
            "timeToReadySeconds": self.time_to_ready,
            "speed": self.speed,
        }


@dataclass(frozen=True)
class ProbeResult:
    env: str
    service: str
    checks: tuple[ProbeCheck, ...]
    timings: tuple[ContainerTiming, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "service": self.service,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "timings": [t.to_json() for t in self.timings],
            "notes": list(self.notes),
        }


def seconds_text(value: float, speed: float) -> str:
    """A budget in kubelet's seconds, and what it is at the run's speed-up."""
    return f"{value:g}s" if speed == 1 else f"{value:g}s ({value / speed:g}s at x{speed:g})"
