"""``gitops.locate``: a finding is shown on the line that set the value it is about (the last
patch setting it, else the source file's line), with the other files as related locations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops.cli import main
from gitops.config import RepoConfig
from gitops.locate import Locator
from gitops.model import Finding, Location, Overlay, Resource, ResourceKey
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT

DEPLOYMENTS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: sidecar
          image: envoy:1
        - name: web
          image: web:1
"""


def _resources(repo: Path, files: dict[str, str]) -> dict[str, Resource]:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    workspace = Workspace.open(repo, RepoConfig(envs=("dev",)), use_cache=False)
    (result,) = workspace.render([Overlay(0, "dev", "web", "overlay")])
    assert result.ok, result.error
    return {r.key.short(): r for r in result.resources}


def _container(resource: Resource, name: str, *rest: str) -> tuple[str | int, ...]:
    """The field path of a container's value, by the container's name (a strategic merge
    patch may reorder the rendered list)."""
    names = [c["name"] for c in resource.body["spec"]["template"]["spec"]["containers"]]
    return ("spec", "template", "spec", "containers", names.index(name), *rest)


def _locate(repo: Path, resource: Resource, field: tuple[str | int, ...]) -> Finding:
    finding = Finding("dev", "web", "r", str(resource.key), "m", field=field,
                      source=resource.source, patches=resource.patches)  # fmt: skip
    return Locator(repo).locate(finding, resource)


def test_the_source_files_line_of_the_value_in_a_multi_document_file(tmp_path: Path) -> None:
    resources = _resources(
        tmp_path,
        {
            "base/all.yaml": DEPLOYMENTS,
            "base/kustomization.yaml": "resources: [all.yaml]\n",
            "overlay/kustomization.yaml": "resources: [../base]\n",
        },
    )
    web = resources["Deployment/web"]
    # container "web": its image is on line 22 of the file (in the second document).
    image = _locate(tmp_path, web, _container(web, "web", "image"))
    assert image.location == Location("base/all.yaml", 22)
    assert _locate(tmp_path, web, ()).location == Location("base/all.yaml", 6)
    missing = _locate(tmp_path, web, ("spec", "strategy", "type"))
    assert missing.location == Location("base/all.yaml", 10)  # the deepest line that exists


def test_the_last_patch_that_sets_the_value_wins_and_the_others_are_related(
    tmp_path: Path,
) -> None:
    kustomization = """\
resources: [../base]
patches:
  - path: containers.yaml
  - path: replicas.yaml
    target: {kind: Deployment, name: web}
images:
  - name: envoy
    newTag: "2"
"""
    resources = _resources(
        tmp_path,
        {
            "base/all.yaml": DEPLOYMENTS,
            "base/kustomization.yaml": "resources: [all.yaml]\n",
            "overlay/kustomization.yaml": kustomization,
            # the containers listed in another order: matched by name, not position
            "overlay/containers.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: web\n"
                "          image: web:2\n"
            ),
            "overlay/replicas.yaml": "- op: replace\n  path: /spec/replicas\n  value: 3\n",
        },
    )
    web = resources["Deployment/web"]
    image = _locate(tmp_path, web, _container(web, "web", "image"))
    assert image.location == Location("overlay/containers.yaml", 10)
    assert Location("base/all.yaml", 22) in image.related
    replicas = _locate(tmp_path, web, ("spec", "replicas"))
    assert replicas.location == Location("overlay/replicas.yaml", 2)
    # the images: entry of the kustomization sets the sidecar's tag
    sidecar = _locate(tmp_path, web, _container(web, "sidecar", "image"))
    assert sidecar.location == Location("overlay/kustomization.yaml", 8)
    # a value no patch sets: the source's line
    selector = _locate(tmp_path, web, ("spec", "selector"))
    assert selector.location == Location("base/all.yaml", 12)


def test_findings_about_files_point_at_existing_files_only(tmp_path: Path) -> None:
    (tmp_path / "overlays/dev/web").mkdir(parents=True)
    (tmp_path / "overlays/dev/web/kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "overlays/dev/empty").mkdir()
    locator = Locator(tmp_path)

    def at(source: str) -> Location | None:
        return locator.locate(Finding("dev", "web", "r", "", "m", source=source), None).location

    assert at("overlays/dev/web") == Location("overlays/dev/web/kustomization.yaml", 1)
    assert at("overlays/dev/empty") is None
    assert at("overlays/dev/nowhere") is None


@pytest.fixture
def this_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for part in ("gitops.yaml", "base", "components", "overlays", "argocd", "policy"):
        source = REPO_ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, repo / part)
    return repo


def test_a_finding_caused_by_an_inline_patch_of_prod_healthz_is_annotated_on_its_line(
    this_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """This repository: an inline patch in overlays/prod/healthz/kustomization.yaml makes the
    HPA's maxReplicas smaller than its minReplicas; SARIF and GitHub show that line (the API
    server names spec.maxReplicas)."""
    kustomization = this_repo / "overlays/prod/healthz/kustomization.yaml"
    lines = kustomization.read_text().splitlines()
    patch = [
        "patches:",
        "  - target: {kind: HorizontalPodAutoscaler, name: healthz-hpa}",
        "    patch: |",
        "      apiVersion: autoscaling/v2",
        "      kind: HorizontalPodAutoscaler",
        "      metadata:",
        "        name: healthz-hpa",
        "      spec:",
        "        maxReplicas: 1",
    ]
    kustomization.write_text("\n".join([*lines, *patch]) + "\n")
    line = len(lines) + len(patch)  # the maxReplicas line
    repo = str(this_repo)
    assert main(["check", "--repo", repo, "--env", "prod", "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "hpa-bounds"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {
            "uri": "overlays/prod/healthz/kustomization.yaml",
            "uriBaseId": "%SRCROOT%",
        },
        "region": {"startLine": line},
    }
    for related in result["relatedLocations"]:
        uri = related["physicalLocation"]["artifactLocation"]["uri"]
        assert (this_repo / uri).is_file(), uri  # always a file, never "... (inline patch)"
    assert main(["check", "--repo", repo, "--env", "prod", "--format", "github"]) == 1
    github = capsys.readouterr().out
    assert (
        f"::error file=overlays/prod/healthz/kustomization.yaml,line={line},title=hpa-bounds::"
    ) in github


def test_a_chart_objects_finding_is_on_its_template_line_with_the_value_files_line(
    tmp_path: Path,
) -> None:
    """A template is no YAML until helm renders it; its YAML shape on its own lines
    (gitops.helm.templates) locates the value; the value file that set what that line reads
    comes first among the related locations."""
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "templates" / "deployment.yaml").write_text(
        "{{- if .Values.enabled }}\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: {{ .Release.Name }}-web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: web\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        "{{- end }}\n"
    )
    (chart / "values.yaml").write_text("image:\n  repository: web\n  tag: '1.0'\n")
    (chart / "values-prod.yaml").write_text("replicas: 3\nimage:\n  tag: latest\n")
    body = {
        "kind": "Deployment",
        "metadata": {"name": "prod-web"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:latest"}]}}},
    }
    patches = ("charts/web/values.yaml", "charts/web/values-prod.yaml")
    resource = Resource("prod", "web", ResourceKey.of(body), body,
                        "charts/web/templates/deployment.yaml", patches)  # fmt: skip
    found = _locate(tmp_path, resource, ("spec", "template", "spec", "containers", 0, "image"))
    assert found.location == Location("charts/web/templates/deployment.yaml", 11)
    assert found.related == (
        Location("charts/web/values-prod.yaml", 3),  # the last value file setting image.tag
        Location("charts/web/values.yaml", 1),
    )
    whole = _locate(tmp_path, resource, ())
    assert whole.location == Location("charts/web/templates/deployment.yaml", 2)
