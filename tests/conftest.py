"""Shared fixtures: paths to the real repository and to the scenario mini-repos."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.prerequisites import require

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite the golden files under tests/snapshots/ from the current output",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.requires("postgresql", ...)``: the test needs system prerequisites of
    tests/prerequisites.py; without them it skips with the install line, or fails under CI."""
    for marker in item.iter_markers("requires"):
        require(*marker.args)


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden snapshots instead of comparing them."""
    return bool(request.config.getoption("--update-snapshots"))


def pytest_configure(config: pytest.Config) -> None:
    """Keep the render and schema caches of a test run away from the user's own cache, and
    judge with the Python validator unless a test asks for the upstream one (``--validator
    upstream``, or gitops.upstream directly): the fixture tables and snapshots state the
    fallback's findings whether or not `make validator` has run; the upstream validator's
    verdicts have tests of their own (tests/unit/test_upstream.py, the cluster tier)."""
    os.environ["GITOPS_CACHE_DIR"] = tempfile.mkdtemp(prefix="gitops-test-cache-")
    os.environ.pop("GITOPS_NO_CACHE", None)
    os.environ["GITOPS_VALIDATOR"] = "python"


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``tests/fixtures/<scenario>`` to a temp dir so a test may modify it."""

    def copy(scenario: str) -> Path:
        target = tmp_path / scenario
        shutil.copytree(FIXTURES / scenario, target)
        return target

    return copy


@pytest.fixture
def pinned_helm() -> Path:
    """The helm `make helm` builds (make setup builds it where Go is): a test that renders a
    chart needs it; without it the test skips with the reason, or fails under CI."""
    from gitops.helm.binary import pinned_helm as built
    from tests.prerequisites import skip_or_fail

    binary = built()
    if not (binary.parent / ".complete").is_file():
        skip_or_fail("the pinned helm is not built (make helm; needs Go >= 1.26)")
    return binary
