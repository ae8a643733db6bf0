"""Source tracing: every resource names the file that defined it and the patches that changed it,
as kustomize itself reports them, without touching the repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from gitops.config import load_config
from gitops.model import Overlay, Resource
from gitops.tracing import ORIGIN, TRANSFORMATIONS, trace_manifest
from gitops.workspace import Workspace
from tests.conftest import FIXTURES


def _traced(repo: Path) -> dict[str, Resource]:
    workspace = Workspace.open(repo, load_config(repo), use_cache=False)
    (result,) = workspace.render(workspace.layout().overlays)
    assert result.ok, result.error
    return {r.key.short(): r for r in result.resources}


def test_sources_and_patches_are_repo_relative() -> None:
    resources = _traced(FIXTURES / "source-tracing")
    deployment = resources["Deployment/web"]
    assert deployment.source == "base/web/deployment.yaml"
    # kustomize lists every transformer that ran over the resource; only those that match it
    # are patches: replicas.yaml and the inline patch (by target), the images: entry (by name);
    # the last two are written in the kustomization, which is named once, as a file.
    assert deployment.patches == (
        "overlays/prod/web/replicas.yaml",
        "overlays/prod/web/kustomization.yaml",
    )
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


def test_origins_resolve_against_the_folder_kustomize_built(tmp_path: Path) -> None:
    """A build's origin paths are relative to the folder built (a temporary wrapper); the
    resources name files relative to the checkout, and what is not an object is a problem."""
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    wrapper = tmp_path / "wrapper"
    overlay = Overlay(0, "dev", "web", "overlays/dev/web")
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
        "    config.kubernetes.io/origin: |\n      path: ../repo/base/cm.yaml\n"
        "---\n- not an object\n"
    )
    resources, problems = trace_manifest(repo, str(wrapper), overlay, text)
    assert [(r.source, r.metadata) for r in resources] == [("base/cm.yaml", {"name": "a"})]
    assert problems == [
        "overlays/dev/web:9: document 1 is a list, expected a mapping (a Kubernetes object)"
    ]
