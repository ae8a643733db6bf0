"""``gitops simulate`` in-process: exit codes and what the user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gitops.cli import main
from gitops.simulate.command import format_drain
from gitops.simulate.drain import DrainReport, DrainWorkload, NodeDrain

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


def test_plot_says_where_it_went(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SCENARIO)
    plot = tmp_path / "web.png"
    assert main(["simulate", path, "--format", "json", "--plot", str(plot)]) == 0
    out, err = capsys.readouterr()
    # Where the plot went is said on stderr, so stdout stays the JSON document.
    assert err == f"wrote {plot}\n"
    assert json.loads(out)["hpa"] == "web"


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--env", "prod"],
            "error: simulate: --env does not apply to a scenario file (it takes "
            "--format, --plot)\n",
        ),
        (["--nodes", "4"], "error: simulate: --nodes does not apply to a scenario file"),
        (["--ready-seconds", "5"], "error: simulate: --ready-seconds does not apply to a scenario"),
    ],
)
def test_an_option_that_does_not_apply_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = write(tmp_path, SCENARIO)
    assert main(["simulate", path, *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message)


def test_rollout_refuses_drain_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "rollout", "--env", "prod", "--zones", "2"]) == 2
    assert capsys.readouterr().err == (
        "error: simulate: --zones does not apply to simulate rollout (it takes --format, "
        "--plot, --env, --service, --ready-seconds)\n"
    )


def _report(dips: bool) -> DrainReport:
    names = [f"a-rather-long-workload-name-number-{i}" for i in range(6)]
    workloads = tuple(DrainWorkload(n, 2, {"app": n}) for n in names)
    min_ready = {n: (1 if dips else 2) for n in names}
    node = NodeDrain("node-0", 12, True, 0.0, 0.0, min_ready)
    return DrainReport((node,), {n: (0, 1) for n in names}, workloads)


def test_drain_table_says_none_when_nothing_dropped() -> None:
    text = format_drain(_report(dips=False), "drain prod", "text", {})
    assert text.splitlines()[2].split()[-1] == "none"


def test_drain_table_fits_120_columns_one_workload_a_line() -> None:
    text = format_drain(_report(dips=True), "drain prod", "text", {})
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 120
    # The node's row, then one continuation line per further workload, in the same column.
    assert len(lines) == 2 + 6
    column = lines[1].index("below full Ready")
    assert lines[2][column:] == "a-rather-long-workload-name-number-0 1/2,"
    assert lines[7].strip() == "a-rather-long-workload-name-number-5 1/2"
    assert lines[7].index("a-rather") == column
