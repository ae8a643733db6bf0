"""``gitops simulate`` over this repository's rendered overlays (real kustomize)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops.cli import main
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "simulate"


def test_example_step_reads_prod_healthz(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "healthz-step.yaml")
    assert main(["simulate", path, "--repo", str(REPO_ROOT), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["hpa"] == "healthz-hpa"
    # 2..10 at 70 % with 50m requests: 210m is 6 pods' worth; the legacy window holds it
    # until the last high recommendation is 5 min old (15 s after the load dropped at 960).
    summary = document["summary"]
    assert (summary["peakReplicas"], summary["timeToSettleSeconds"]) == (6, 285)


@pytest.mark.parametrize(
    "name", ["behavior-ramp.yaml", "one-sync-unready.yaml", "one-sync-sidecar.yaml"]
)
def test_inline_examples_run(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(EXAMPLES / name), "--repo", str(REPO_ROOT)]) == 0
    assert "scale events" in capsys.readouterr().out


def test_one_sync_example_reproduces_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "one-sync-unready.yaml")
    assert main(["simulate", path, "--format", "json"]) == 0
    (step,) = json.loads(capsys.readouterr().out)["timeline"]
    assert (step["replicas"], step["utilization"]) == (4, 60)


def test_one_sync_sidecar_example_measures_the_app_container(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(EXAMPLES / "one-sync-sidecar.yaml")
    assert main(["simulate", path, "--format", "json"]) == 0
    (step,) = json.loads(capsys.readouterr().out)["timeline"]
    # app alone: 900m of 1 CPU = 90 % of 50 % -> 2; the deleted pod's 4 CPU sample is ignored.
    assert (step["replicas"], step["utilization"], step["ready"]) == (2, 90, 1)


def test_drain_prod_completes(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "drain", "--env", "prod", "--repo", str(REPO_ROOT), "--format", "json"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["completed"] is True and len(document["drains"]) == 3
    # healthz runs its HPA minimum (2) spread over two nodes; its PDB (minAvailable 1) lets
    # one go at a time, so no drain loses both.
    assert len(set(document["placement"]["healthz"])) == 2
    assert all(d["minReady"]["healthz"] >= 1 for d in document["drains"])


def test_rollout_prod_healthz(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "rollout", "--env", "prod", "--service", "healthz", "--repo",
            str(REPO_ROOT), "--format", "json"]  # fmt: skip
    assert main(args) == 0
    (plan,) = json.loads(capsys.readouterr().out)
    assert plan["deployment"] == "healthz" and plan["replicas"] == 2
    assert min(s["available"] for s in plan["steps"]) >= 2 - plan["unavailable"]
    assert plan["steps"][-1]["newAvailable"] == 2


def test_drain_needs_env(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "drain", "--repo", str(REPO_ROOT)]) == 2
    assert capsys.readouterr().err == "error: simulate drain/rollout: --env is required\n"


@pytest.mark.parametrize("form", ["drain", "rollout"])
def test_drain_and_rollout_plot(
    form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / f"{form}.png"
    args = ["simulate", form, "--env", "prod", "--repo", str(REPO_ROOT), "--plot", str(plot)]
    assert main(args) == 0
    assert capsys.readouterr().err == f"wrote {plot}\n"
    assert plot.read_bytes().startswith(b"\x89PNG")
