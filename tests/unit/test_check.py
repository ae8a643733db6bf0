"""The check pipeline end to end: render failures, the env selection, exit codes. The exact
findings of tests/fixtures/check-pipeline (severity per env, schema findings with their source
and patches) are in its expected.yaml; every report format is a golden file in tests/snapshots/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops.check import check_snapshot
from gitops.cli import main
from gitops.config import load_config
from gitops.schema import SchemaValidator
from gitops.snapshot import take_snapshot
from gitops.workspace import Workspace
from tests.conftest import FIXTURES, REPO_ROOT
from tests.fixturelib import check_fixture

REPO = FIXTURES / "check-pipeline"


def test_a_broken_overlay_is_a_render_failed_finding_and_the_others_are_still_checked() -> None:
    report = check_fixture(REPO.name)
    failed = [f for f in report.findings if f.rule == "render-failed"]
    assert [(f.env, f.service, f.source) for f in failed] == [
        ("dev", "broken", "overlays/dev/broken")
    ]
    assert "resource 'missing.yaml'" in failed[0].message
    assert {f.env for f in report.findings if f.rule == "image-tag-mutable"} == {"dev", "prod"}
    assert report.rendered == ("dev/api", "dev/broken", "prod/api")


def test_cli_service_selection_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--repo", str(REPO), "--env", "prod"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("prod/api\n")
    assert "image-tag-mutable  Deployment/api:" in out
    assert "dev/" not in out


def test_cli_unknown_kubernetes_version_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--repo", str(REPO), "--k8s-version", "1.9"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize("repo", [REPO, REPO_ROOT], ids=["check-pipeline", "this-repo"])
def test_checking_a_snapshot_never_changes_its_objects(repo: Path) -> None:
    """diff compares the objects of a snapshot it has checked: the schema validator, the API
    rules and every policy rule only read them."""
    config = load_config(repo)
    validator = SchemaValidator.for_repo(repo, config)
    workspace = Workspace.open(
        repo, config, validator=validator.validate, learn_crd=validator.add_crd_object
    )
    snapshot = take_snapshot(workspace)
    before = json.dumps([r.body for r in snapshot.resources], sort_keys=True)
    check_snapshot(snapshot)
    assert json.dumps([r.body for r in snapshot.resources], sort_keys=True) == before
