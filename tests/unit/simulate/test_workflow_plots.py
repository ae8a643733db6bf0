"""The pull-request workflow writes the diff's Behaviour plots and attaches them: the diff runs in
this repository's action (``uses: ./``), which passes ``diff-args`` to gitops diff
(tests/adoption/test_action.py runs that step with several arguments)."""

from __future__ import annotations

import yaml

from tests.conftest import REPO_ROOT


def test_diff_step_writes_plots_and_the_workflow_uploads_them() -> None:
    path = REPO_ROOT / ".github" / "workflows" / "pull-request.yaml"
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]["check"]["steps"]
    action = next(s for s in steps if s.get("uses") == "./")
    assert action["with"]["diff-args"] == "--plot-dir behaviour-plots"
    action_yml = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    diff = next(s for s in action_yml["runs"]["steps"] if s.get("id") == "diff")
    assert diff["env"]["DIFF_ARGS"] == "${{ inputs.diff-args }}" and "$DIFF_ARGS" in diff["run"]
    upload = next(s for s in steps if s.get("with", {}).get("name") == "behaviour-plots")
    assert steps.index(action) < steps.index(upload)
    assert upload["uses"].startswith("actions/upload-artifact@v")
    assert upload["with"]["path"] == "behaviour-plots/"
    assert upload["if"].replace(" ", "") == "${{!cancelled()}}"
