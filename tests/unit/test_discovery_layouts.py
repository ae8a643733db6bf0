"""Discovery on the layouts people use: env-level aggregation, helper folders, Argo CD paths."""

from __future__ import annotations

import pytest

from gitops.cli import main
from gitops.config import load_config
from gitops.discovery import ENV_UNIT, layout_units
from gitops.inputs import InputResolver
from gitops.workspace import Workspace
from tests.conftest import FIXTURES

LAYOUTS = FIXTURES / "discovery-layouts"
ARGOCD = FIXTURES / "discovery-argocd"


def test_env_kustomization_is_the_unit_and_its_folders_are_helpers() -> None:
    discovery = layout_units(InputResolver(LAYOUTS), load_config(LAYOUTS))
    assert [(o.env, o.service, o.rel_path) for o in discovery.overlays] == [
        ("dev", ENV_UNIT, "overlays/dev"),
        ("prod", "web", "overlays/prod/web"),
    ]
    assert discovery.problems == ()
    # A folder referenced as a resource or component is not an overlay of its own, even with a
    # kustomization (overlays/prod/scaling) or as a Component (overlays/dev/hpa).
    assert sorted(n.split(":")[0] for n in discovery.notes) == [
        "overlays/dev/api",
        "overlays/dev/hpa",
        "overlays/dev/web",
        "overlays/prod/patches",
        "overlays/prod/scaling",
    ]
    assert "helper folder read by overlays/prod/web" in " ".join(discovery.notes)


def test_check_on_the_layouts_renders_every_unit_without_problems(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--repo", str(LAYOUTS)]) == 0
    assert "2 overlays checked" in capsys.readouterr().out


def test_argocd_applications_are_the_authoritative_list() -> None:
    workspace = Workspace.open(ARGOCD, load_config(ARGOCD))
    discovery = workspace.discover(workspace.argocd())
    assert discovery.source == "argocd"
    assert [(o.env, o.service, o.rel_path) for o in discovery.overlays] == [
        ("dev", "shop", "clusters/dev/shop"),
        ("prod", "shop", "clusters/prod/shop"),
    ]
    assert discovery.notes == (
        "overlays/dev/legacy: no Argo CD Application syncs it, not rendered",
    )


def test_render_list_shows_what_was_found_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--list", "--repo", str(ARGOCD)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "units from Argo CD Applications:"
    assert out[2].split() == [
        "dev",
        "shop",
        "clusters/dev/shop",
        "synced",
        "by",
        "Argo",
        "CD",
        "Application",
        "shop-dev",
    ]
    assert out[-1] == "skipped: overlays/dev/legacy: no Argo CD Application syncs it, not rendered"


def test_check_renders_the_synced_paths_and_flags_the_unsynced_overlay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--repo", str(ARGOCD), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert '"overlays": 2' in out
    assert "overlays/dev/legacy: no Argo CD Application deploys this overlay" in out
