"""The ``repo_copy`` fixture of the ``gitops probe`` tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The parts of this repository that the dev healthz and kpis-api overlays read."""
    target = tmp_path / "repo"
    for part in ("base", "components", "overlays/dev/healthz", "overlays/dev/kpis-api"):
        shutil.copytree(REPO_ROOT / part, target / part)
    shutil.copy(REPO_ROOT / "gitops.yaml", target / "gitops.yaml")
    for app in ("healthz", "kpis-api"):
        (target / "apps" / app).mkdir(parents=True)
        shutil.copy(REPO_ROOT / "apps" / app / "Dockerfile", target / "apps" / app / "Dockerfile")
    return target
