"""Issue 13's live comparison: the replica timeline the real HPA controller produced on the KWOK
cluster (hpa_record.py) against `gitops simulate` run on the same inputs.

The scenario is built from the recording only, through the scenario parser `gitops simulate`
reads files with:

* the HPA spec as applied and the pods' CPU request;
* the controller flags the harness passes (tests/cluster/harness.py CONTROLLER_MANAGER_ARGS),
  upstream's defaults for the others (ControllerSettings);
* the load: each pod's CPU *as the metrics API served it* (the mean over the pods it served,
  which gives the same utilisation as the pods' own values when requests are equal). The test
  sets usage on the pods at known times; metrics-server serves it one scrape later, and that
  pipeline is not part of the HPA model, so the served values are the controller's input;
* pod timing: medians of creation -> startTime, startTime -> Ready and startTime -> first
  served metrics of the pods the HPA created;
* the controller's clock: its syncs land every sync period at a phase of its own. The HPA's
  ``lastScaleTime`` shows that phase, and the simulation's syncs are put on it, so a mismatch
  means a different decision, not a clock offset.

A recording matches when every sample's replica count is shown by the simulation within one
sync period (gitops.simulate.compare.compare_timelines: the sampler sees a change up to a
second late), and the replica changes are the same values in the same order, each made at the
same sync as the simulated one: within SAME_SYNC seconds (the 1 s resolution of lastScaleTime
plus the half second of the clock estimate). The API's whole-second stamps leave the phases of
the syncs and of the scrapes open within a second; the comparison runs at their middle and,
if that disagrees, at every tenth of a second across them (PHASE_SHIFTS). Measured on the three
recordings in tests/unit/cluster/data: an HPA whose scale-down window differs by 5 s, whose
target differs by 5 %, or whose scale-up policy or maximum differs, matches at no phase.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from gitops.simulate.compare import Comparison, compare_timelines, go_duration
from gitops.simulate.engine import replica_series, simulate
from gitops.simulate.replicas import ControllerSettings
from gitops.simulate.scenario import Scenario, parse_scenario
from tests.cluster.hpa_record import HpaRecord

TIMESTAMP_RESOLUTION = 1.0  # metav1.Time serialises whole seconds
SAME_SYNC = TIMESTAMP_RESOLUTION + 0.5  # a real and a simulated change at the same sync
FLAG_SETTINGS = {  # kube-controller-manager flag -> scenario `controller:` key
    "horizontal-pod-autoscaler-sync-period": "syncPeriodSeconds",
    "horizontal-pod-autoscaler-tolerance": "tolerance",
    "horizontal-pod-autoscaler-cpu-initialization-period": "cpuInitializationPeriodSeconds",
    "horizontal-pod-autoscaler-initial-readiness-delay": "initialReadinessDelaySeconds",
    "horizontal-pod-autoscaler-downscale-stabilization": "downscaleStabilizationWindowSeconds",
}

Series = Sequence[tuple[float, int]]


def controller_settings(flags: dict[str, str]) -> dict[str, float]:
    """The scenario's ``controller:`` block: the flags given, upstream's defaults otherwise."""
    defaults = ControllerSettings()
    settings = {
        "syncPeriodSeconds": defaults.sync_period,
        "tolerance": defaults.tolerance,
        "cpuInitializationPeriodSeconds": defaults.cpu_initialization_period,
        "initialReadinessDelaySeconds": defaults.initial_readiness_delay,
        "downscaleStabilizationWindowSeconds": defaults.downscale_stabilization_window,
    }
    for flag, value in flags.items():
        if flag in FLAG_SETTINGS:
            key = FLAG_SETTINGS[flag]
            settings[key] = float(value) if key == "tolerance" else go_duration(value)
    return settings


def served_load(record: HpaRecord) -> list[tuple[float, int]]:
    """(t, mean per-pod CPU milli) whenever the metrics API's served value changed."""
    points: list[tuple[float, int]] = []
    for sample in record.samples:
        if not sample.served_cpu:
            continue
        mean = round(statistics.mean(sample.served_cpu.values()))
        if not points or points[-1][1] != mean:
            # Served since its scrape (metrics-server stores a scrape as it completes), which
            # may be up to a sample interval before the sampler saw it.
            at, previous = sample.t, points[-1][0] if points else -math.inf
            if sample.served_at is not None and previous < sample.served_at < at:
                at = sample.served_at
            points.append((at, mean))
    return points


def pod_timing(record: HpaRecord) -> dict[str, float]:
    """The scenario's ``pod:`` timing, medians over the pods created after the load began.
    A new pod's CPU is first served at a metrics-server scrape; its age then, less half a
    resolution (the scrape falls anywhere in one), is the window it must have run."""
    new = [p for p in record.pods.values() if p.created >= 0 and p.started is not None]
    if not new:
        raise AssertionError("the recording holds no pod the HPA created")
    startup = [p.started - p.created for p in new if p.started is not None]
    ready = [p.ready - p.started for p in new if p.ready is not None and p.started is not None]
    resolution, phase = record.metrics_resolution, scrape_phase(record)
    scrapes = [
        _scrapes_until_served(p.started, p.first_metrics, phase, resolution)
        for p in new
        if p.first_metrics is not None and p.started is not None
    ]
    # The engine serves a pod's first CPU at the first scrape at or after running +
    # metricWindowSeconds (engine.first_sample). A window of (k - 1) scrape intervals gives
    # the k-th scrape after the start whatever the start's phase in the interval; a fitted
    # window (the median delay less half an interval) sits near a scrape boundary and flips
    # to the next scrape when the simulated sync creates the pod a second later than the
    # real one did (a whole scrape interval without metrics: a CI run disagreed that way).
    k = statistics.median_low(scrapes) if scrapes else 1
    window = (k - 1) * resolution if k >= 1 else resolution
    return {
        "startupSeconds": max(0.0, statistics.median(startup)),
        "readinessSeconds": max(0.0, statistics.median(ready)) if ready else 0.0,
        "metricWindowSeconds": max(0.0, window),
    }


def startup_replay(record: HpaRecord) -> tuple[float, ...]:
    """Each pod the HPA created, in creation order: creation -> status.startTime. The medians
    of pod_timing would give every pod the same start; a CI run had three pods start a second
    late, across a scrape, so their CPU was first served a whole scrape later than the model's
    (and the scale-down went 10 -> 6 -> 2, not 10 -> 2)."""
    new = sorted(
        (p for p in record.pods.values() if p.created >= 0 and p.started is not None),
        key=lambda p: p.created,
    )
    return tuple(max(0.0, p.started - p.created) for p in new if p.started is not None)


def _scrapes_until_served(started: float, served: float, phase: float, resolution: float) -> int:
    """How many metrics-server scrapes happened after a pod started, up to the one that first
    served its CPU (both times are whole seconds, truncated)."""
    first = phase + math.ceil((started - phase) / resolution + 1e-9) * resolution
    return math.floor((served + TIMESTAMP_RESOLUTION - first) / resolution + 1e-9) + 1


def scrape_phase(record: HpaRecord) -> float:
    """When metrics-server scrapes (mod its resolution), from the served timestamps (whole
    seconds, truncated: the middle of the second is taken)."""
    stamps = [s.served_at for s in record.samples if s.served_at is not None]
    if not stamps:
        return 0.0
    return (stamps[-1] + TIMESTAMP_RESOLUTION / 2) % record.metrics_resolution


def on_scrape_clock(t: float, phase: float, resolution: float) -> float:
    """The first scrape at or after ``t`` on a clock scraping at ``phase`` (mod
    ``resolution``): for a truncated stamp, the scrape within that second."""
    return phase + math.ceil((t - phase) / resolution - 1e-9) * resolution


def controller_clock(record: HpaRecord, period: float) -> tuple[float, float]:
    """The real controller's sync clock as (offset, period). Its syncs happened at each
    ``lastScaleTime`` (whole seconds, truncated: the middle is taken). The HPA's work queue
    re-adds it one sync period after each sync *ends* (upstream horizontal.go
    processNextWorkItem / enqueueHPA: AddRateLimited with a fixed resyncPeriod interval), so
    the clock runs a little slow; its
    period is measured from the first to the last scale. The offset puts the simulation's
    t = 0 one period before the first sync of that clock."""
    scaled = sorted({s.last_scale for s in record.samples if s.last_scale is not None})
    scaled = [t for t in scaled if t >= 0]
    if not scaled:
        return 0.0, period
    first, last = scaled[0] + TIMESTAMP_RESOLUTION / 2, scaled[-1] + TIMESTAMP_RESOLUTION / 2
    syncs = round((last - first) / period)
    measured = (last - first) / syncs if syncs else period
    if abs(measured - period) > period / 10:  # not the same clock: keep the flag's period
        measured = period
    return first % measured - measured, measured


def scenario_from_record(
    record: HpaRecord, offset: float, period: float, scrape_shift: float = 0.0
) -> Scenario:
    """The recorded inputs as a `gitops simulate` scenario, on the controller's clock:
    simulation time = recording time - ``offset``, one sync every ``period``; metrics-server's
    scrapes at :func:`scrape_phase` + ``scrape_shift``."""
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "recorded"},
        "spec": record.hpa,
    }
    # A value served before t = 0 (the idle usage) holds from the start.
    # A value is served from the scrape that measured it: its whole-second stamp put on the
    # scrape clock, so the load and the new pods' first samples move with the phase.
    phase = scrape_phase(record) + scrape_shift
    load = [
        {
            "at": max(0.0, round(on_scrape_clock(t, phase, record.metrics_resolution) - offset, 3)),
            "value": f"{milli}m",
        }
        for t, milli in served_load(record)
    ]
    data = {
        "hpa": {"manifest": hpa},
        "start": {"replicas": record.samples[0].spec_replicas},
        "pod": {"cpuRequest": f"{record.cpu_request_milli_per_pod}m", **pod_timing(record)},
        "load": {"perPodCPU": load},
        "controller": {
            **controller_settings(record.controller_flags),
            "syncPeriodSeconds": period,
        },
        # One sync past the last sample: a change the real controller made just before the
        # test stopped sampling may fall on the simulation's next sync.
        "durationSeconds": math.ceil(record.samples[-1].t - offset + period),
    }
    scenario = parse_scenario(data, "cluster-artifacts/hpa-timeline.json")
    scrapes = dataclasses.replace(
        scenario.template,
        startup_replay=startup_replay(record),
        metric_resolution_seconds=record.metrics_resolution,
        metric_phase_seconds=(phase - offset) % record.metrics_resolution,
    )
    return dataclasses.replace(scenario, template=scrapes)


def changes(series: Series) -> list[tuple[float, int]]:
    """(t, new replicas) at every change of the series."""
    out: list[tuple[float, int]] = []
    for (_, before), (t, after) in itertools.pairwise(series):
        if after != before:
            out.append((t, after))
    return out


def recorded_changes(record: HpaRecord) -> list[tuple[float, int]]:
    """The real changes, timed by the HPA's lastScaleTime when it belongs to the change (the
    sampler sees a change up to a second late), else by the sample."""
    out: list[tuple[float, int]] = []
    for before, after in itertools.pairwise(record.samples):
        if after.spec_replicas == before.spec_replicas:
            continue
        scaled = after.last_scale
        at = scaled if scaled is not None and before.t - 2 <= scaled <= after.t else after.t
        out.append((at, after.spec_replicas))
    return out


@dataclass(frozen=True)
class LiveComparison:
    period: float
    offset: float
    scenario: Scenario
    simulated: list[tuple[float, int]]  # (recording time, replicas) of every simulated sync
    samples: Comparison
    real_changes: list[tuple[float, int]]
    simulated_changes: list[tuple[float, int]]
    # (sync, scrape) phase shifts from the estimates, in seconds, within the timestamps' second
    shifts: tuple[float, float] = (0.0, 0.0)

    @property
    def change_problems(self) -> list[str]:
        tolerance = SAME_SYNC
        real = [r for _, r in self.real_changes]
        simulated = [r for _, r in self.simulated_changes]
        if real != simulated:
            return [f"replica values differ: real {real}, simulated {simulated}"]
        return [
            f"change to {value}: real at {t:.1f} s, simulated at {st:.1f} s "
            f"(more than {tolerance:g} s apart: not the same sync)"
            for (t, value), (st, _) in zip(self.real_changes, self.simulated_changes, strict=True)
            if abs(t - st) > tolerance
        ]

    @property
    def matches(self) -> bool:
        return self.samples.matches and not self.change_problems


# The phases the API's whole-second timestamps leave open: the controller's syncs and
# metrics-server's scrapes each happened somewhere in [stamp, stamp + 1); the estimates take
# stamp + 0.5, so the true phase is a shift of -0.5 up to (not including) +0.5 from it.
PHASE_SHIFTS = tuple(sorted((round(tenths / 10, 1) for tenths in range(-5, 5)), key=abs))


def compare_record(record: HpaRecord) -> LiveComparison:
    """The recording against the model, at the estimated phases; when they disagree, at the
    nearest phases (sync, scrape) the timestamps allow that reproduce the real timeline, each
    change at the same sync. The whole grid is 10 x 10 short simulations."""
    grid = sorted(
        ((sync, scrape) for sync in PHASE_SHIFTS for scrape in PHASE_SHIFTS),
        key=lambda shifts: (abs(shifts[0]) + abs(shifts[1]), shifts),
    )
    estimated = _compare_at(record, 0.0, 0.0)
    if estimated.matches:
        return estimated
    for sync, scrape in grid[1:]:
        shifted = _compare_at(record, sync, scrape)
        if shifted.matches:
            return shifted
    return estimated


def _compare_at(record: HpaRecord, sync_shift: float, scrape_shift: float) -> LiveComparison:
    period = controller_settings(record.controller_flags)["syncPeriodSeconds"]
    offset, clock = controller_clock(record, period)
    offset += sync_shift
    scenario = scenario_from_record(record, offset, clock, scrape_shift)
    simulated = [(t + offset, replicas) for t, replicas in replica_series(simulate(scenario))]
    recorded = [(s.t, s.spec_replicas) for s in record.samples]
    return LiveComparison(
        period,
        offset,
        scenario,
        simulated,
        compare_timelines(recorded, simulated, period),
        recorded_changes(record),
        changes(simulated),
        (sync_shift, scrape_shift),
    )


def side_by_side(record: HpaRecord, result: LiveComparison) -> str:
    """Both timelines at every simulated sync, with the served CPU the controller read."""
    load = served_load(record)
    rows = [
        f"sync period {result.period:g} s (the controller's clock: "
        f"{result.scenario.settings.sync_period:.3f} s); "
        f"simulation t = 0 at {result.offset:+.1f} s; phases shifted from the estimates by "
        f"{result.shifts[0]:+.1f} s (syncs) and {result.shifts[1]:+.1f} s (scrapes)",
        f"{'t (s)':>7} {'real':>5} {'model':>5} {'served cpu/pod':>15}",
    ]
    for t, simulated in result.simulated:
        real = (
            record.replicas_at(t) if t >= record.samples[0].t else record.samples[0].spec_replicas
        )
        cpu = next((f"{m}m" for at, m in reversed(load) if at <= t), "-")
        marker = "" if real == simulated else "   <-"
        rows.append(f"{t:7.1f} {real:5d} {simulated:5d} {cpu:>15}{marker}")
    rows.append(f"real changes:      {[(round(t, 1), r) for t, r in result.real_changes]}")
    rows.append(f"simulated changes: {[(round(t, 1), r) for t, r in result.simulated_changes]}")
    rows.append(result.samples.describe())
    rows += result.change_problems
    return "\n".join(rows)
