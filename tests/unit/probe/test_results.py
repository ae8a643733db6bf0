"""``gitops.probe.results``: an overlay passes only when every check passed; JSON field names."""

from __future__ import annotations

from gitops.probe.results import ContainerTiming, ProbeCheck, ProbeResult, seconds_text
from gitops.probe.spec import Attempt

OK = ProbeCheck("app", "readiness", "GET http://127.0.0.1:1/", True, "ready after 1 attempt")
FAILED = ProbeCheck(
    "app", "liveness", "GET http://127.0.0.1:1/live", False, "failed",
    (Attempt(0.5, False, "HTTP 500"),),
)  # fmt: skip


def test_one_failed_check_fails_the_overlay() -> None:
    assert ProbeResult("dev", "web", (OK,), ()).passed
    assert not ProbeResult("dev", "web", (OK, FAILED), ()).passed
    assert ProbeResult("dev", "web", (), ()).passed  # nothing to probe: nothing failed


def test_json_names_the_probe_and_its_attempts() -> None:
    timing = ContainerTiming("app", 0.8, 35.0, 1.2, 5.0)
    document = ProbeResult("dev", "web", (FAILED,), (timing,), ("note",)).to_json()
    assert document["passed"] is False
    assert document["checks"][0]["probe"] == "liveness"
    assert document["checks"][0]["attempts"] == [
        {"at": 0.5, "success": False, "detail": "HTTP 500"}
    ]
    assert document["timings"] == [
        {
            "container": "app",
            "measuredStartupSeconds": 0.8,
            "startupBudgetSeconds": 35.0,
            "timeToReadySeconds": 1.2,
            "speed": 5.0,
        }
    ]
    assert document["notes"] == ["note"]


def test_seconds_are_kubelet_seconds_with_the_scaled_value_when_sped_up() -> None:
    assert seconds_text(35, 1) == "35s"
    assert seconds_text(35, 5) == "35s (7s at x5)"
