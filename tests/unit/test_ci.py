"""CI runs the habits: ``.ci/run`` installs the tests' system prerequisites (``make deps``), then
calls ``make ci`` (the prerequisite check, lint with mypy strict over tools, apps and tests, then
``make test``, the install tier, then ``make check``) before the cluster tier, and the node tier
after it."""

from __future__ import annotations

import re
import subprocess
import tomllib

from tests.conftest import REPO_ROOT


def test_ci_entry_point_installs_prerequisites_then_make_ci_then_cluster_and_node_tiers() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make deps", "make ci", "make test-cluster", "make test-node"]
    # the packages come from `make deps` alone, and under CI nothing skips
    assert "apt-get" not in script
    assert 'export CI="${CI:-true}"' in script


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
        exact = [i for i, line in enumerate(dry_run) if line == command]
        return (exact or [i for i, line in enumerate(dry_run) if line.startswith(command)])[0]

    steps = [
        "python3 tests/prerequisites.py",
        ".venv/bin/ruff check tools tests apps",
        ".venv/bin/ruff format --check tools tests apps",
        ".venv/bin/mypy",
        ".venv/bin/actionlint -shellcheck .venv/bin/shellcheck .github/workflows/",
        ".venv/bin/pytest -q",
        ".venv/bin/pytest -q -m install tests/adoption",
        ".venv/bin/gitops check",
    ]
    assert [position(step) for step in steps] == sorted(position(step) for step in steps)


def test_mypy_is_strict_over_tools_apps_and_tests() -> None:
    mypy = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) >= {"tools", "apps", "tests"}


def test_make_help_lists_every_target_in_aligned_columns() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    documented = re.findall(r"^([a-z0-9-]+):.*## ", makefile, flags=re.MULTILINE)
    lines = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert [line.split()[0] for line in lines] == documented
    # every description starts in one column: two spaces after the longest target name
    widest = max(len(name) for name in documented)
    assert widest > 10  # sigterm-stress, cluster-tools...: the names that used to misalign
    for line, name in zip(lines, documented, strict=True):
        assert line[: 2 + widest + 2] == f"  {name}".ljust(2 + widest + 2), line
        assert line[2 + widest + 2 :] and not line[2 + widest + 2].isspace(), line
