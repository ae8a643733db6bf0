"""``gitops simulate`` in-process: exit codes and what the user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gitops.cli import main

SCENARIO = {
    "hpa": {"manifest": {"metadata": {"name": "web"}, "spec": {"minReplicas": 2,
        "maxReplicas": 10, "metrics": [{"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 70}}}]}}},
    "pod": {"cpuRequest": "50m"},
    "load": {"totalCPU": [{"at": 0, "value": "70m"}, {"at": 60, "value": "210m"}]},
    "durationSeconds": 600,
}  # fmt: skip


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_text_report_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIO)
    assert main(["simulate", path, "--repo", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == path
    assert "  HPA             web: 2..10 at 70 % CPU, no behavior (legacy limits)" in out
    assert "  replicas        2 -> 6 (peak 6, low 2)" in out
    assert err == ""


def test_json_timeline_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIO)
    plot = tmp_path / "out" / "web.png"
    assert main(["simulate", path, "--format", "json", "--plot", str(plot)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["timeline"]) == 41
    assert [s["replicas"] for s in document["timeline"][3:6]] == [2, 4, 6]
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_bad_scenario_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, dict(SCENARIO, durationSeconds="forever"))
    assert main(["simulate", path]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {path}: durationSeconds: expected a number, got 'forever'\n"


def test_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: {tmp_path / 'nope.yaml'}: cannot read") and "Traceback" not in err
    )
