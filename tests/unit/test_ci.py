"""CI runs the habits: ``.ci/run`` calls ``make ci`` (lint with mypy strict over tools, apps and
tests, then ``make test``, then ``make check``) before the cluster tier, and the node tier
after it."""

from __future__ import annotations

import subprocess
import tomllib

from tests.conftest import REPO_ROOT


def test_ci_entry_point_runs_make_ci_then_the_cluster_tier_then_the_node_tier() -> None:
    commands = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make ")
    ]
    assert commands == ["make ci", "make test-cluster", "make test-node"]


def test_make_ci_lints_then_tests_then_checks() -> None:
    # make's dry run prints the recipes in the order they would run, sub-makes included.
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "ci"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()

    def position(command: str) -> int:
        return next(i for i, line in enumerate(dry_run) if line.startswith(command))

    steps = [
        ".venv/bin/ruff check tools tests apps",
        ".venv/bin/ruff format --check tools tests apps",
        ".venv/bin/mypy",
        ".venv/bin/actionlint .github/workflows/",
        ".venv/bin/pytest -q",
        ".venv/bin/gitops check",
    ]
    assert [position(step) for step in steps] == sorted(position(step) for step in steps)


def test_mypy_is_strict_over_tools_apps_and_tests() -> None:
    mypy = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) >= {"tools", "apps", "tests"}
