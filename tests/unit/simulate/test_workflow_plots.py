"""The pull-request workflow writes the diff's Behaviour plots and attaches them."""

from __future__ import annotations

import yaml

from tests.conftest import REPO_ROOT


def test_diff_step_writes_plots_and_the_workflow_uploads_them() -> None:
    path = REPO_ROOT / ".github" / "workflows" / "pull-request.yaml"
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]["check"]["steps"]
    diff = next(s for s in steps if s.get("id") == "diff")
    assert "--plot-dir behaviour-plots" in diff["run"]
    upload = next(s for s in steps if s.get("with", {}).get("name") == "behaviour-plots")
    assert upload["uses"].startswith("actions/upload-artifact@v")
    assert upload["with"]["path"] == "behaviour-plots/"
    assert "steps.diff.outcome == 'success'" in upload["if"]
