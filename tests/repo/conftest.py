"""Render the real repository once per test session."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.config import RepoConfig, load_config
from gitops.render import RenderedOverlay
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def repo_config() -> RepoConfig:
    return load_config(REPO_ROOT)


@pytest.fixture(scope="session")
def rendered(repo_config: RepoConfig) -> dict[str, RenderedOverlay]:
    workspace = Workspace.open(REPO_ROOT, repo_config)
    layout = workspace.layout()
    assert layout.problems == ()
    return {r.overlay.name: r for r in workspace.render(layout.overlays)}


@pytest.fixture(scope="session")
def docs(rendered: dict[str, RenderedOverlay]) -> dict[str, list[dict[str, Any]]]:
    """``"<env>/<service>"`` -> the documents as check parsed them (only overlays that
    rendered)."""
    return {name: [res.body for res in r.resources] for name, r in rendered.items() if r.ok}


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]
