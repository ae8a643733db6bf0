from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.argocd import ArgoState
from gitops.config import load_config
from gitops.discovery import (
    Discovery,
    SelectionError,
    discover_units,
    layout_units,
    select_overlays,
)
from gitops.errors import ConfigError
from gitops.inputs import InputResolver
from gitops.workspace import Workspace
from tests.conftest import FIXTURES


def discover_overlays(repo: Path) -> Discovery:
    return layout_units(InputResolver(repo), load_config(repo))


def test_overlays_are_listed_in_env_order_then_service() -> None:
    repo = FIXTURES / "render-ok"
    discovery = discover_overlays(repo)
    assert [o.rel_path for o in discovery.overlays] == [
        "overlays/dev/web",
        "overlays/dev/worker",
        "overlays/prod/web",
    ]
    assert discovery.problems == ()


def test_directory_without_kustomization_and_unknown_env_are_problems(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("render-ok")
    (repo / "overlays" / "dev" / "empty").mkdir()
    (repo / "overlays" / "qa" / "web").mkdir(parents=True)
    discovery = discover_overlays(repo)
    assert sorted(str(p) for p in discovery.problems) == [
        "overlays/dev/empty: no kustomization.yaml in this overlay directory",
        "overlays/qa: env 'qa' is not listed in gitops.yaml envs (dev, prod)",
    ]
    assert "overlays/dev/empty" not in [o.rel_path for o in discovery.overlays]


def test_selection_by_env_and_service_and_unknown_names() -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    discovery = discover_overlays(repo)
    assert [o.name for o in select_overlays(discovery, config, "dev", None)] == [
        "dev/web",
        "dev/worker",
    ]
    assert [o.name for o in select_overlays(discovery, config, None, "web")] == [
        "dev/web",
        "prod/web",
    ]
    with pytest.raises(SelectionError, match=r"unknown env 'qa': gitops\.yaml envs are dev, prod"):
        select_overlays(discovery, config, "qa", None)
    with pytest.raises(SelectionError, match="unknown service 'api'"):
        select_overlays(discovery, config, None, "api")


def test_an_unreadable_argocd_falls_back_to_the_layout_with_a_note() -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    layout = discover_overlays(repo)
    broken = ArgoState(error=ConfigError("argocd: boom\nmore"))
    discovery = discover_units(layout, broken, InputResolver(repo), config)
    assert discovery.overlays == layout.overlays and discovery.source == "overlays"
    assert discovery.notes[-1] == "argocd: not used for discovery (argocd: boom)"
    assert discover_units(layout, None, InputResolver(repo), config) == layout


def test_one_unit_per_application_rendering_a_chart_and_remote_charts_are_notes() -> None:
    """Argo CD renders a chart folder once per Application (each with its own values): one
    unit each, named by the Application when two would share env/service; an Application of a
    Helm repository's chart has nothing here to render (a note)."""
    repo = FIXTURES / "helm-chart"
    config = load_config(repo)
    workspace = Workspace.open(repo, config, use_cache=False)
    argo = workspace.argocd()
    assert argo is not None
    same_env = [dataclasses.replace(a, destination={"name": "prod"}) for a in argo.applications]
    remote = dataclasses.replace(
        argo.applications[0],
        name="ingress",
        path="",
        repo_url="https://git.example.test/team/web.git",
        spec={"source": {"chart": "ingress-nginx", "repoURL": "https://charts.test"}},
    )
    state = ArgoState(argo.objects, (*same_env, remote))
    discovery = discover_units(
        workspace.layout(), state, workspace.resolver, config, workspace.chart_source
    )
    assert [(o.name, o.key) for o in discovery.overlays] == [
        ("staging/web", "overlays/staging/web"),  # overlays/<env>/ in the path names the env
        ("prod/dev-web", "charts/web@dev-web"),
        ("prod/prod-web", "charts/web@prod-web"),
    ]
    assert discovery.overlays[1].chart is not None
    assert discovery.overlays[1].reason == "chart rendered by Argo CD Application dev-web"
    assert discovery.notes == (
        "Application ingress: chart ingress-nginx latest from https://charts.test: a remote "
        "chart, not rendered (gitops renders charts only from this repository and never pulls "
        "one)",
    )
    # Without chart_of (a caller that knows no helm), chart folders are no units.
    plain = discover_units(workspace.layout(), state, workspace.resolver, config)
    assert [o.key for o in plain.overlays] == ["overlays/staging/web"]
