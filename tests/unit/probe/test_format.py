"""``gitops.probe.format``: the text and JSON reports, and the exit code of ``gitops probe``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops.cli import main
from gitops.probe.format import format_json, format_text
from gitops.probe.results import ContainerTiming, ProbeCheck, ProbeResult
from tests.unit.probe.overlays import SPEED, add_patch


def test_cli_json_and_exit_code(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "probe",
        "--repo",
        str(repo_copy),
        "--env",
        "dev",
        "--service",
        "healthz",
        "--speed",
        str(SPEED),
        "--format",
        "json",
    ]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out  # the JSON names the failed check and why
    document = json.loads(out)
    assert document["results"][0]["passed"] is True
    add_patch(
        repo_copy,
        "healthz",
        "wrong-path.yaml",
        "- op: replace\n  path: /spec/template/spec/containers/0/livenessProbe/httpGet/path\n"
        "  value: /nope\n",
    )
    assert main(args[:-2]) == 1
    captured = capsys.readouterr()
    assert "FAIL liveness" in captured.out
    assert "error: probes failed in dev/healthz" in captured.err


def test_text_report_marks_each_check_and_the_startup_budget() -> None:
    checks = (
        ProbeCheck("app", "readiness", "GET /", True, "ready"),
        ProbeCheck("app", "liveness", "GET /live", False, "HTTP 500 three times"),
    )
    timing = ContainerTiming("app", None, 35.0, None, 5.0)
    text = format_text([ProbeResult("dev", "web", checks, (timing,), ("no db",))])
    assert text.splitlines() == [
        "dev/web: FAIL",
        "  note: no db",
        "  app: started in never (budget 35s (7s at x5)), ready at never",
        "  ok   readiness          ready",
        "  FAIL liveness           HTTP 500 three times",
    ]
    assert json.loads(format_json([]))["results"] == []
