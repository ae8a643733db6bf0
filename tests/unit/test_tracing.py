"""Source tracing: every resource names the file that defined it and the patches that changed it,
as kustomize itself reports them, without touching the repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from gitops.config import load_config
from gitops.discovery import discover_overlays
from gitops.model import Resource
from gitops.render import render_overlays
from gitops.tracing import ORIGIN, TRANSFORMATIONS, resources_from_render
from tests.conftest import FIXTURES


def _traced(repo: Path) -> dict[str, Resource]:
    config = load_config(repo)
    (result,) = render_overlays(repo, discover_overlays(repo, config).overlays, config, trace=True)
    assert result.ok, result.error
    return {r.key.short(): r for r in resources_from_render(repo, result)}


def test_sources_and_patches_are_repo_relative() -> None:
    resources = _traced(FIXTURES / "source-tracing")
    deployment = resources["Deployment/web"]
    assert deployment.source == "base/web/deployment.yaml"
    # kustomize lists every transformer that ran over the resource; only those that match it
    # are patches: replicas.yaml and the inline patch (by target), the images: entry (by name).
    assert set(deployment.patches) == {
        "overlays/prod/web/replicas.yaml",
        "overlays/prod/web/kustomization.yaml (inline patch)",
        "overlays/prod/web/kustomization.yaml",
    }
    service = resources["Service/web"]
    assert service.source == "base/web/service.yaml"
    assert service.patches == ("overlays/prod/web/service-port.yaml",)
    configmap = resources["ConfigMap/web-settings"]
    assert configmap.source == "overlays/prod/web/configmap.yaml"
    assert configmap.patches == ()


def test_build_metadata_is_stripped_and_the_render_is_otherwise_identical() -> None:
    repo = FIXTURES / "source-tracing"
    resources = _traced(repo)
    deployment = resources["Deployment/web"]
    assert deployment.labels == {"team": "shop"}
    assert "annotations" not in deployment.metadata, (ORIGIN, TRANSFORMATIONS)
    assert deployment.spec["replicas"] == 4
    assert deployment.spec["template"]["spec"]["containers"][0]["image"] == (
        "registry.example.test/web:1.2.0"
    )
    assert "annotations" not in resources["Service/web"].metadata


def test_tracing_leaves_the_working_tree_untouched(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("source-tracing")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    before = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=repo, capture_output=True, text=True
    ).stdout
    _traced(repo)
    after = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=repo, capture_output=True, text=True
    ).stdout
    assert before == after
