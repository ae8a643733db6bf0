"""tests/cluster/hpa_compare.py without a cluster: a recording of the real HPA controller on the
KWOK cluster (tests/cluster/test_hpa.py, kept in data/) matches `gitops simulate` run on its
inputs, and recordings that differ from the model in value or timing are caught."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from gitops.simulate.engine import first_sample
from tests.cluster.hpa_compare import (
    PHASE_SHIFTS,
    SAME_SYNC,
    _compare_at,
    _scrapes_until_served,
    compare_record,
    controller_clock,
    controller_settings,
    served_load,
    side_by_side,
    startup_replay,
)
from tests.cluster.hpa_record import HpaRecord, Sample

RECORDING = Path(__file__).parent / "data" / "hpa-timeline-kwok.json"
# A CI run in which new pods' first metrics came 0.7 s after a scrape boundary of the fitted
# metric window: the model then served them one scrape later and scaled down 10 -> 6, not 2.
BOUNDARY_RECORDING = Path(__file__).parent / "data" / "hpa-timeline-kwok-scrape-boundary.json"
# A CI run in which a controller sync and the scrape that first served the load fell in the
# same second: whole-second timestamps cannot order them, and the middle-of-the-second estimate
# put the simulated sync after the scrape (the model scaled up one period early and reached
# 10 at 29.8 s, not 44.3 s).
SAME_SECOND_RECORDING = Path(__file__).parent / "data" / "hpa-timeline-kwok-same-second.json"
# A CI run in which three of the pods the HPA created started a second after their creation,
# across a scrape: their CPU was served a scrape later than the other pods', and the scale-down
# went 10 -> 6 -> 2 (the model with median timing: 10 -> 2). Replayed per pod (startup_replay).
LATE_START_RECORDING = Path(__file__).parent / "data" / "hpa-timeline-kwok-late-start.json"
ALL_RECORDINGS = pytest.mark.parametrize(
    "path",
    [RECORDING, BOUNDARY_RECORDING, SAME_SECOND_RECORDING, LATE_START_RECORDING],
    ids=["first", "scrape-boundary", "same-second", "late-start"],
)


@pytest.fixture
def record() -> HpaRecord:
    return HpaRecord.read(RECORDING)


@ALL_RECORDINGS
def test_the_recorded_real_controller_matches_the_model(path: Path) -> None:
    record = HpaRecord.read(path)
    result = compare_record(record)
    assert result.matches, side_by_side(record, result)
    # prod healthz: minReplicas 2 -> +4 pods (default scale-up policy) -> 9 (pods without
    # metrics count as 0 % on scale-up) -> maxReplicas 10 -> back to 2 after the 30 s window
    # (through 6 when pods still without metrics count at the target on scale-down).
    real = [r for _, r in result.real_changes]
    assert real in ([6, 9, 10, 2], [6, 9, 10, 6, 2])
    assert [r for _, r in result.simulated_changes] == real


def test_a_different_replica_value_is_reported_side_by_side(record: HpaRecord) -> None:
    capped = dataclasses.replace(record, hpa={**record.hpa, "maxReplicas": 8})
    result = compare_record(capped)
    assert not result.matches
    assert any("replica values differ" in p for p in result.change_problems)
    table = side_by_side(capped, result)
    assert "real" in table and "model" in table and "<-" in table


def test_a_change_more_than_one_sync_period_late_is_caught(record: HpaRecord) -> None:
    first_change = next(
        s.t for s, n in zip(record.samples, record.samples[1:], strict=False)
        if n.spec_replicas != s.spec_replicas
    )  # fmt: skip
    late = 3 * controller_settings(record.controller_flags)["syncPeriodSeconds"]

    def delayed(sample: Sample) -> Sample:
        if first_change < sample.t <= first_change + late:
            return dataclasses.replace(sample, spec_replicas=record.samples[0].spec_replicas)
        return sample

    shifted = dataclasses.replace(record, samples=[delayed(s) for s in record.samples])
    result = compare_record(shifted)
    assert not result.matches
    assert not result.samples.matches


def test_controller_clock_follows_the_last_scale_times() -> None:
    def sample(t: float, last_scale: float | None) -> Sample:
        return Sample(t, 2, 2, 2, None, None, last_scale=last_scale)

    record = HpaRecord({}, 50, {}, samples=[sample(1, None), sample(15, 14.3), sample(101, 100.3)])
    offset, period = controller_clock(record, 5.0)
    # 86 s over 17 syncs: the work queue re-adds the HPA a period after each sync ends.
    assert period == pytest.approx(86 / 17)
    assert offset == pytest.approx(14.8 % period - period)
    no_scale = HpaRecord({}, 50, {}, samples=[sample(1, None)])
    assert controller_clock(no_scale, 5.0) == (0.0, 5.0)


def test_served_load_starts_at_the_scrape_not_at_the_sample() -> None:
    samples = [
        Sample(0.5, 2, 2, 2, None, None, served_cpu={"a": 1, "b": 1}, served_at=-3.0),
        Sample(9.7, 2, 2, 2, None, None, served_cpu={"a": 150, "b": 151}, served_at=9.0),
        Sample(10.7, 2, 2, 2, None, None, served_cpu={"a": 150, "b": 151}, served_at=9.0),
    ]
    record = HpaRecord({}, 50, {}, samples=samples)
    assert served_load(record) == [(-3.0, 1), (9.0, 150)]


def test_flags_override_upstream_defaults() -> None:
    settings = controller_settings({"horizontal-pod-autoscaler-sync-period": "5s"})
    assert settings["syncPeriodSeconds"] == 5.0
    assert settings["downscaleStabilizationWindowSeconds"] == 300.0  # upstream default
    assert settings["tolerance"] == 0.1


def test_first_sample_waits_for_a_scrape_when_scrapes_are_modelled(record: HpaRecord) -> None:
    template = compare_record(record).scenario.template
    assert template.metric_resolution_seconds == 15.0
    scrape = first_sample(template, 0.0)
    assert scrape >= template.metric_window_seconds
    assert (scrape - template.metric_phase_seconds) % 15.0 == pytest.approx(0.0, abs=1e-6)


def test_junit_outcomes_reads_passes_skips_and_failures(tmp_path: Path) -> None:
    from tests.cluster.test_e2e_shared import junit_outcomes

    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.e2e.test_hpa" name="test_up"/>'
        '<testcase classname="tests.e2e.test_probes" name="test_p">'
        '<skipped type="pytest.skip" message="needs real containers (probes)"/></testcase>'
        '<testcase classname="tests.e2e.test_pdb" name="test_d">'
        '<failure message="AssertionError: no 429">trace</failure></testcase>'
        "</testsuite></testsuites>"
    )
    outcomes = junit_outcomes(report)
    assert [(o.nodeid, o.status) for o in outcomes] == [
        ("tests/e2e/test_hpa.py::test_up", "passed"),
        ("tests/e2e/test_probes.py::test_p", "skipped"),
        ("tests/e2e/test_pdb.py::test_d", "failed"),
    ]
    assert outcomes[1].message == "needs real containers (probes)"


@pytest.mark.parametrize(
    ("started", "served", "scrapes"),
    [
        (26.0, 49.0, 3),  # scrapes at 29.5, 39.5, 49.5 (served truncated to 49)
        (29.0, 49.0, 3),
        (30.0, 59.0, 3),  # started after the 29.5 scrape: 39.5, 49.5, 59.5
        (11.0, 39.0, 3),
        (41.0, 69.0, 3),
        (26.0, 39.0, 2),
    ],
)
def test_scrapes_are_counted_from_the_first_one_after_the_start(
    started: float, served: float, scrapes: int
) -> None:
    assert _scrapes_until_served(started, served, phase=9.5, resolution=10.0) == scrapes


def test_phases_are_shifted_only_within_the_timestamps_second() -> None:
    record = HpaRecord.read(SAME_SECOND_RECORDING)
    estimated = _compare_at(record, 0.0, 0.0)
    assert not estimated.matches  # the estimate sits on the wrong side of the scrape
    result = compare_record(record)
    assert result.matches and result.shifts != (0.0, 0.0)
    assert all(
        abs(real - simulated) <= SAME_SYNC
        for (real, _), (simulated, _) in zip(
            result.real_changes, result.simulated_changes, strict=True
        )
    )
    assert "phases shifted from the estimates by" in side_by_side(record, result)
    # A recording the estimate already reproduces is compared there, unshifted.
    assert compare_record(HpaRecord.read(RECORDING)).shifts == (0.0, 0.0)


def _wrong(record: HpaRecord, change: str) -> HpaRecord:
    hpa = copy.deepcopy(record.hpa)
    if change.startswith("window"):
        hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] = int(change[len("window") :])
    elif change.startswith("target"):
        hpa["metrics"][0]["resource"]["target"]["averageUtilization"] += int(
            change[len("target") :]
        )
    elif change == "scale-up 2 pods per 15 s":
        hpa["behavior"]["scaleUp"] = {
            "policies": [{"type": "Pods", "value": 2, "periodSeconds": 15}]
        }
    return dataclasses.replace(record, hpa=hpa)


@pytest.mark.parametrize(
    "change", ["window20", "window40", "target+5", "target-5", "scale-up 2 pods per 15 s"]
)
@ALL_RECORDINGS
def test_a_slightly_wrong_model_matches_at_no_phase(path: Path, change: str) -> None:
    """The phase search must not make the comparison lax: an HPA whose window is 10 s off or
    whose target is 5 % off (the recorded one: 30 s and 70 %) is told apart at every phase the
    timestamps allow. (A 5 s window error is told apart on three of the four recordings.)"""
    wrong = _wrong(HpaRecord.read(path), change)
    assert not any(
        _compare_at(wrong, sync, scrape).matches for sync in PHASE_SHIFTS for scrape in PHASE_SHIFTS
    )


def test_startup_replay_is_each_created_pod_in_creation_order() -> None:
    replay = startup_replay(HpaRecord.read(LATE_START_RECORDING))
    assert len(replay) == 8  # 4 + 3 + 1 pods created by the HPA
    assert replay.count(1.0) == 3 and replay.count(0.0) == 5
    assert replay[4:7] == (1.0, 1.0, 1.0)  # the second scale-up's pods started late
