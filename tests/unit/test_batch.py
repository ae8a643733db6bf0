"""gitops.batch: one kustomize process per env gives each overlay exactly what its own traced
build gives (resources, source files, patches), falls back per overlay on a conflict, and fills
the render cache under each overlay's own key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.batch import render_batched, split_batch
from gitops.cache import RenderCache
from gitops.config import load_config
from gitops.discovery import Overlay, discover_overlays
from gitops.kustomize import find_kustomize
from gitops.render import RenderedOverlay, render_overlay
from gitops.runner import Command, CommandResult, run
from gitops.tracing import resources_from_render
from tests.conftest import REPO_ROOT


class Counting:
    def __init__(self) -> None:
        self.directories: list[str] = []

    def __call__(self, command: Command) -> CommandResult:
        self.directories.append(command.argv[2])
        return run(command)


def _traced(repo: Path, result: RenderedOverlay) -> list[tuple[object, ...]]:
    assert result.ok, result.error
    return [
        (r.key, r.body, r.source, r.patches, r.env, r.service, r.overlay_path)
        for r in resources_from_render(repo, result)
    ]


def _overlays(repo: Path, env: str) -> list[Overlay]:
    return [o for o in discover_overlays(repo, load_config(repo)).overlays if o.env == env]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_one_process_per_env_and_the_same_resources_as_each_overlay_alone(env: str) -> None:
    config = load_config(REPO_ROOT)
    kustomize = find_kustomize(config)
    overlays = _overlays(REPO_ROOT, env)
    assert len(overlays) >= 3
    counting = Counting()
    batched = render_batched(REPO_ROOT, overlays, config, kustomize, counting, None)
    assert len(counting.directories) == 1
    assert [r.overlay for r in batched] == overlays
    for result, overlay in zip(batched, overlays, strict=True):
        alone = render_overlay(REPO_ROOT, overlay, config, kustomize, trace=True)
        assert _traced(REPO_ROOT, result) == _traced(REPO_ROOT, alone)
        # Source tracing still points into the repository, per overlay.
        assert all(r.source for r in resources_from_render(REPO_ROOT, result))


CONFLICT_REPO = {
    "gitops.yaml": 'kubernetesVersion: "1.33"\nenvs: [dev]\n',
    "base/ns/kustomization.yaml": "resources:\n  - namespace.yaml\n",
    "base/ns/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shared\n",
    "overlays/dev/a/kustomization.yaml": "resources:\n  - ../../../base/ns\n  - cm.yaml\n",
    "overlays/dev/a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    "overlays/dev/b/kustomization.yaml": "resources:\n  - ../../../base/ns\n  - cm.yaml\n",
    "overlays/dev/b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
}


def test_two_overlays_defining_the_same_resource_fall_back_to_one_build_each(
    tmp_path: Path,
) -> None:
    for rel, text in CONFLICT_REPO.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    config = load_config(tmp_path)
    overlays = _overlays(tmp_path, "dev")
    counting = Counting()
    results = render_batched(tmp_path, overlays, config, find_kustomize(config), counting, None)
    # The batch fails (Namespace/shared twice), then a and b are built on their own.
    assert len(counting.directories) == 3
    assert [r.overlay.service for r in results] == ["a", "b"]
    for result in results:
        names = sorted(r.key.name for r in resources_from_render(tmp_path, result))
        assert names == sorted(["shared", result.overlay.service])


def test_each_overlay_part_is_cached_under_its_own_key(tmp_path: Path) -> None:
    config = load_config(REPO_ROOT)
    kustomize = find_kustomize(config)
    cache = RenderCache.for_repo(REPO_ROOT, config, kustomize, directory=tmp_path)
    overlays = _overlays(REPO_ROOT, "staging")
    first = render_batched(REPO_ROOT, overlays, config, kustomize, Counting(), cache)
    counting = Counting()
    again = render_batched(REPO_ROOT, overlays, config, kustomize, counting, cache)
    assert counting.directories == []  # every overlay from the cache
    for before, after in zip(first, again, strict=True):
        assert _traced(REPO_ROOT, before) == _traced(REPO_ROOT, after)
    # Each entry is that overlay's own render, found by its own inputs' key.
    for overlay, result in zip(overlays, first, strict=True):
        key = cache.key(overlay, trace=True)
        assert key is not None
        hit = cache.get(key)
        assert hit is not None and hit.manifest == result.manifest


def test_a_document_without_its_mark_cancels_the_split() -> None:
    key = "gitops.internal/batch-unit-abc"
    marked = f'kind: A\nmetadata:\n  annotations:\n    {key}: "0"\n  name: a\n'
    unmarked = "kind: B\nmetadata:\n  name: b\n"
    assert split_batch(marked, key, 1) == ["kind: A\nmetadata:\n  name: a\n"]
    other = marked.replace("  name: a\n", "    team: x\n  name: a\n")
    assert split_batch(other, key, 1) == [
        "kind: A\nmetadata:\n  annotations:\n    team: x\n  name: a\n"
    ]
    assert split_batch(f"{marked}---\n{unmarked}", key, 1) is None
    assert split_batch(marked.replace('"0"', '"3"'), key, 2) is None
