"""``gitops.diff.compare``: both sides rendered and compared, resource by resource and for the
expanded Argo CD objects."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from gitops.diff import format_text
from gitops.model import Location
from tests.conftest import FIXTURES
from tests.unit.diff.scratch import (
    LAYOUT,
    changed,
    commit,
    diff,
    git,
    overlay_kustomization,
    write,
)


def test_base_change_fans_out_to_three_envs(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {"base/web/configmap.yaml": LAYOUT["base/web/configmap.yaml"].replace("info", "warn")},
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")  # head: the uncommitted working tree
    assert result.rendered_base == result.rendered_head == ("dev/web", "staging/web", "prod/web")
    assert changed(result) == [
        ("changed", "dev/web", "ConfigMap/web"),
        ("changed", "staging/web", "ConfigMap/web"),
        ("changed", "prod/web", "ConfigMap/web"),
    ]
    assert "-  LOG_LEVEL: info\n+  LOG_LEVEL: warn\n" in result.changes[0].diff
    assert not result.argocd_compared


def test_added_and_removed_resources(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    write(
        scratch_repo,
        {
            "overlays/dev/web/kustomization.yaml": overlay_kustomization(
                "replicas.yaml", resources=("extra.yaml",)
            ),
            "overlays/dev/web/extra.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
            ),
            "base/web/kustomization.yaml": LAYOUT["base/web/kustomization.yaml"].replace(
                "  - configmap.yaml\n", ""
            ),
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    dev = [c for c in changed(result) if c[1] == "dev/web"]
    assert dev == [("removed", "dev/web", "ConfigMap/web"), ("added", "dev/web", "ConfigMap/extra")]
    assert ("removed", "prod/web", "ConfigMap/web") in changed(result)
    rows = {(r["env"], r["service"]): r for r in result.summary_rows()}
    assert (rows["dev", "web"]["added"], rows["dev", "web"]["removed"]) == (1, 1)
    text = format_text(result)
    assert "=== dev/web: added ConfigMap/extra" in text
    assert "+  name: extra" in text


def test_argocd_change_diffs_the_expanded_applications(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "argocd/applicationset.yaml": LAYOUT["argocd/applicationset.yaml"].replace(
                "namespace: demo", "namespace: demo-apps"
            )
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    assert result.argocd_compared
    assert result.rendered_head == ()
    assert [c[2] for c in changed(result)] == [
        "Application/dev-web",
        "Application/prod-web",
        "Application/staging-web",
        "ApplicationSet/demo",
    ]
    assert "+    namespace: demo-apps" in result.changes[0].diff


def test_a_chart_values_change_diffs_the_chart_units_and_their_findings(
    tmp_path: Path, pinned_helm: Path
) -> None:
    """A repository whose apps are a chart: Argo CD chart sources (dev, prod) and kustomize's
    helmCharts (staging). Editing prod's value file re-renders every unit of the chart folder,
    changes prod's objects only, and moves findings located on the chart's templates."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "helm-chart", repo)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "the web chart")
    values = repo / "charts" / "web" / "values-prod.yaml"
    values.write_text(
        values.read_text()
        .replace("tag: latest", 'tag: "1.4.3"')
        .replace("podDisruptionBudget:\n  enabled: true\n", "")
    )
    result = diff(repo, base="HEAD")
    assert result.rendered_base == result.rendered_head == ("dev/web", "staging/web", "prod/web")
    assert changed(result) == [
        ("removed", "prod/web", "PodDisruptionBudget/web"),
        ("changed", "prod/web", "Deployment/web"),
        ("changed", "prod/web", "HorizontalPodAutoscaler/web"),
        ("changed", "prod/web", "Service/web"),
    ]
    deployment = next(c for c in result.changes if c.key and c.key.kind == "Deployment")
    assert "-      - image: ghcr.io/example-org/web:latest\n" in deployment.diff
    assert "+      - image: ghcr.io/example-org/web:1.4.3\n" in deployment.diff
    fixed = [(f.rule, f.env, f.location) for f in result.findings_fixed]
    assert fixed == [
        (
            "image-tag-mutable",
            "prod",
            Location("charts/web/templates/deployment.yaml", 25),
        )
    ]
    # No PDB in prod any more: for the Deployment, whose template's first line is located.
    added = [(f.rule, f.env, f.resource, f.location) for f in result.findings_added]
    deployment_template = Location("charts/web/templates/deployment.yaml", 1)
    assert added == [
        ("env-regression", "prod", "apps/v1/Deployment//web", deployment_template),
        ("pdb-missing", "prod", "apps/v1/Deployment//web", deployment_template),
    ]
    assert "but staging has web" in result.findings_added[0].message  # the helmCharts unit
    assert {result.caused_by[f] for f in result.findings_added} == {("prod/web",)}
    assert "prod/web" in format_text(result)
