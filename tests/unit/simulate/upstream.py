"""What the HPA model's tests share: the clock and controller settings of upstream's own
controller tests (pkg/controller/podautoscaler replica_calculator_test.go and
horizontal_test.go).

* replica_calculator_test.go builds pods with two containers, each requesting ``request`` and
  using ``level`` (so pod totals are 2x), metrics stamped with the zero time and a 1 min window,
  Ready conditions with a zero transition time; start times zero unless "hot" (now) or "cool"
  (now - 3 min); CPU initialization period 2 min, readiness delay 10 s.
* horizontal_test.go stamps metrics ``now``, sets the Ready transition to the pod's start time
  and, in an ``init()``, raises the legacy scale-up factor from 2 to 8.
"""

from __future__ import annotations

import dataclasses

from gitops.simulate.replicas import ZERO_TIME, ControllerSettings, Tolerances

NOW = 10_000.0
CALC = ControllerSettings(cpu_initialization_period=120, initial_readiness_delay=10)
CONTROLLER = ControllerSettings(
    cpu_initialization_period=120, initial_readiness_delay=10, scale_up_limit_factor=8
)
TOL = Tolerances(0.1, 0.1)
HOT = NOW
COOL = NOW - 180
ZERO = ZERO_TIME


def with_gates(**gates: bool) -> ControllerSettings:
    """CONTROLLER with feature gates set, as ``featuregatetesting.SetFeatureGateDuringTest``."""
    return dataclasses.replace(CONTROLLER, gates=CONTROLLER.gates.with_overrides(**gates))
