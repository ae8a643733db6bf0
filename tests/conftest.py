"""Shared fixtures: paths to the real repository and to the scenario mini-repos."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``tests/fixtures/<scenario>`` to a temp dir so a test may modify it."""

    def copy(scenario: str) -> Path:
        target = tmp_path / scenario
        shutil.copytree(FIXTURES / scenario, target)
        return target

    return copy
