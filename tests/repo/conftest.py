"""Render the real repository once per test session."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitops.config import RepoConfig, load_config
from gitops.discovery import discover_overlays
from gitops.render import RenderedOverlay, render_overlays
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def repo_config() -> RepoConfig:
    return load_config(REPO_ROOT)


@pytest.fixture(scope="session")
def rendered(repo_config: RepoConfig) -> dict[str, RenderedOverlay]:
    discovery = discover_overlays(REPO_ROOT, repo_config)
    assert discovery.problems == ()
    results = render_overlays(REPO_ROOT, discovery.overlays, repo_config)
    return {r.overlay.name: r for r in results}


@pytest.fixture(scope="session")
def docs(rendered: dict[str, RenderedOverlay]) -> dict[str, list[dict[str, Any]]]:
    """``"<env>/<service>"`` -> parsed documents (only overlays that rendered)."""
    return {
        name: [d for d in yaml.safe_load_all(r.manifest) if d]
        for name, r in rendered.items()
        if r.manifest is not None
    }


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]
