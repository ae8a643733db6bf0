"""Shared fixtures: paths to the real repository and to the scenario mini-repos."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite the golden files under tests/snapshots/ from the current output",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden snapshots instead of comparing them."""
    return bool(request.config.getoption("--update-snapshots"))


def pytest_configure(config: pytest.Config) -> None:
    """Keep the render and schema caches of a test run away from the user's own cache."""
    os.environ["GITOPS_CACHE_DIR"] = tempfile.mkdtemp(prefix="gitops-test-cache-")
    os.environ.pop("GITOPS_NO_CACHE", None)


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``tests/fixtures/<scenario>`` to a temp dir so a test may modify it."""

    def copy(scenario: str) -> Path:
        target = tmp_path / scenario
        shutil.copytree(FIXTURES / scenario, target)
        return target

    return copy
