"""Source tracing: every resource names the file that defined it and the patches that changed it,
as kustomize itself reports them, without touching the repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from gitops.config import load_config
from gitops.model import Overlay, Resource
from gitops.tracing import ORIGIN, TRANSFORMATIONS, trace_chart, trace_manifest
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


HELM_OUTPUT = """\
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web

---
# Source: web/templates/tests/connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: web-connection
  annotations:
    helm.sh/hook: test
---
# Source: web/charts/cache/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-cache
"""


def test_a_charts_objects_name_their_templates_and_value_files() -> None:
    """helm's # Source: headers name each object's template; a Helm test hook, which no Argo
    CD sync applies (gitops.helm.hooks), is left out."""
    overlay = Overlay(0, "prod", "web", "deploy/web")
    patches = ("deploy/web/values.yaml", "deploy/web/values-prod.yaml")
    resources, problems = trace_chart(overlay, HELM_OUTPUT, "web", "deploy/web", patches)
    assert problems == []
    assert [(r.kind, r.source, r.patches) for r in resources] == [
        ("Service", "deploy/web/templates/service.yaml", patches),
        ("Deployment", "deploy/web/charts/cache/templates/deployment.yaml", patches),
    ]


def test_objects_no_sync_applies_are_left_out_of_kustomize_renders_too(tmp_path: Path) -> None:
    overlay = Overlay(0, "dev", "web", "overlays/dev/web")
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n"
        "  annotations:\n    argocd.argoproj.io/hook: Skip\n---\n"
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n"
        "  annotations:\n    helm.sh/hook: pre-upgrade\n"
    )
    resources, _problems = trace_manifest(tmp_path, str(tmp_path), overlay, text)
    assert [r.name for r in resources] == ["kept", "migrate"]  # a PreSync hook is applied


def test_an_object_kustomize_inflated_from_a_chart_names_its_template(tmp_path: Path) -> None:
    """kustomize records only the kustomization (HelmChartInflationGenerator); the caller's
    helm_source names the template, and the kustomization becomes a patch of the object."""
    overlay = Overlay(0, "dev", "web", "overlays/dev/web")
    origin = (
        "    config.kubernetes.io/origin: |\n"
        "      configuredIn: overlays/dev/web/kustomization.yaml\n"
        "      configuredBy:\n        apiVersion: builtin\n"
        "        kind: HelmChartInflationGenerator\n"
    )
    text = f"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n{origin}"
    asked: list[tuple[str, str]] = []

    def helm_source(kustomization: str, body: dict[str, object]) -> str | None:
        asked.append((kustomization, str(body["kind"])))
        return "charts/web/templates/service.yaml"

    (resource,), _ = trace_manifest(tmp_path, str(tmp_path), overlay, text, helm_source)
    assert asked == [("overlays/dev/web/kustomization.yaml", "Service")]
    assert resource.source == "charts/web/templates/service.yaml"
    assert resource.patches == ("overlays/dev/web/kustomization.yaml",)
    (unknown,), _ = trace_manifest(tmp_path, str(tmp_path), overlay, text, lambda k, b: None)
    assert (unknown.source, unknown.patches) == ("overlays/dev/web/kustomization.yaml", ())
