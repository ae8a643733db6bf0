from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.config import load_config
from gitops.discovery import discover_overlays
from tests.conftest import FIXTURES


def test_overlays_are_listed_in_env_order_then_service() -> None:
    repo = FIXTURES / "render-ok"
    discovery = discover_overlays(repo, load_config(repo))
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
    discovery = discover_overlays(repo, load_config(repo))
    assert sorted(str(p) for p in discovery.problems) == [
        "overlays/dev/empty: no kustomization.yaml in this overlay directory",
        "overlays/qa: env 'qa' is not listed in gitops.yaml envs (dev, prod)",
    ]
    assert "overlays/dev/empty" not in [o.rel_path for o in discovery.overlays]
