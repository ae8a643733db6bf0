"""README.md's "Use on your repository" snippets, as they stand: the gitops.yaml loads, the
pre-commit config passes pre-commit's own validation and names our hooks, and the workflow job,
pointed at this checkout's action.yml, passes actionlint (which checks the inputs and the
permissions it gives the action)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from gitops.config import load_config
from tests.adoption.test_action import actionlint
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def section_blocks() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Use on your repository\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)


def block(key: str) -> str:
    found = [text for text in section_blocks() if re.search(rf"^{key}", text, re.MULTILINE)]
    assert len(found) == 1, f"expected one yaml block starting with {key!r}"
    return found[0]


def test_the_minimal_gitops_yaml_loads(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(block("kubernetesVersion:"))
    config = load_config(tmp_path)
    assert config.kubernetes_version == "1.36"
    assert list(config.envs) == ["dev", "staging", "prod"]


def test_the_pre_commit_config_is_valid_and_names_our_hooks(tmp_path: Path) -> None:
    text = block("repos:")
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(text)
    result = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {h["id"] for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    [repo] = yaml.safe_load(text)["repos"]
    assert {h["id"] for h in repo["hooks"]} == hooks


def test_the_workflow_job_passes_actionlint_against_our_action(tmp_path: Path) -> None:
    job: dict[str, Any] = yaml.safe_load(block("gitops:"))["gitops"]
    uses = job["steps"][-1]["uses"]
    assert uses.startswith("example-org/integration-gitops@")
    job["steps"][-1]["uses"] = "./"  # this checkout's action.yml stands in for the release
    shutil.copy(REPO_ROOT / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".git").mkdir()
    workflow = tmp_path / ".github" / "workflows" / "gitops.yaml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(yaml.safe_dump({"on": {"pull_request": None}, "jobs": {"gitops": job}}))
    result = actionlint(tmp_path, workflow)
    assert result.returncode == 0, result.stdout
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "security-events": "write",
    }
