"""gitops.batch and the Workspace's batched builds: one kustomize process per env gives each
overlay exactly what its own traced build gives (resources, source files, patches), falls back
per overlay on a conflict, and fills the render cache under each overlay's own key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.batch import split_batch, write_batch
from gitops.config import load_config
from gitops.model import Overlay
from gitops.render import RenderedOverlay
from gitops.runner import Command, CommandResult, run
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT


class Counting:
    def __init__(self) -> None:
        self.directories: list[str] = []

    def __call__(self, command: Command) -> CommandResult:
        self.directories.append(command.argv[2])
        return run(command)


def _workspace(repo: Path, runner: Counting, cache_dir: Path | None = None) -> Workspace:
    workspace = Workspace.open(
        repo, load_config(repo), use_cache=cache_dir is not None, runner=runner
    )
    if workspace.cache is not None and cache_dir is not None:
        workspace.cache.directory = cache_dir
    return workspace


def _traced(result: RenderedOverlay) -> list[tuple[object, ...]]:
    assert result.ok, result.error
    return [
        (r.key, r.body, r.source, r.patches, r.env, r.service, r.overlay_path)
        for r in result.resources
    ]


def _overlays(workspace: Workspace, env: str) -> list[Overlay]:
    return [o for o in workspace.layout().overlays if o.env == env]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_one_process_per_env_and_the_same_resources_as_each_overlay_alone(env: str) -> None:
    counting = Counting()
    workspace = _workspace(REPO_ROOT, counting)
    overlays = _overlays(workspace, env)
    assert len(overlays) >= 3
    batched = workspace.render(overlays)
    assert len(counting.directories) == 1
    assert [r.overlay for r in batched] == overlays
    for result, overlay in zip(batched, overlays, strict=True):
        (alone,) = workspace.render([overlay])
        assert _traced(result) == _traced(alone)
        # Source tracing still points into the repository, per overlay.
        assert all(r.source for r in result.resources)
    assert len(counting.directories) == 1 + len(overlays)


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
    counting = Counting()
    workspace = _workspace(tmp_path, counting)
    results = workspace.render(_overlays(workspace, "dev"))
    # The batch fails (Namespace/shared twice), then a and b are built on their own.
    assert len(counting.directories) == 3
    assert [r.overlay.service for r in results] == ["a", "b"]
    for result in results:
        names = sorted(r.key.name for r in result.resources)
        assert names == sorted(["shared", result.overlay.service])


def test_each_overlay_part_is_cached_under_its_own_key(tmp_path: Path) -> None:
    workspace = _workspace(REPO_ROOT, Counting(), tmp_path)
    overlays = _overlays(workspace, "staging")
    first = workspace.render(overlays)
    counting = Counting()
    again = _workspace(REPO_ROOT, counting, tmp_path).render(overlays)
    assert counting.directories == []  # every overlay from the cache
    for before, after in zip(first, again, strict=True):
        assert _traced(before) == _traced(after)
    # Each overlay alone finds its part: the key is its own inputs'.
    for overlay, result in zip(overlays, first, strict=True):
        (alone,) = _workspace(REPO_ROOT, counting, tmp_path).render([overlay])
        assert _traced(alone) == _traced(result)
    assert counting.directories == []


def test_write_batch_lists_one_marking_unit_per_overlay(tmp_path: Path) -> None:
    root = tmp_path / "batch"
    root.mkdir()
    key = write_batch(root, REPO_ROOT, ["overlays/dev/healthz", "overlays/dev/shared"])
    assert key.startswith("gitops.internal/batch-unit-")
    assert "  - u0\n  - u1\n" in (root / "kustomization.yaml").read_text()
    unit = (root / "u1" / "kustomization.yaml").read_text()
    assert (root / "u1" / unit.split("  - ")[1].split("\n")[0]).resolve() == (
        REPO_ROOT / "overlays/dev/shared"
    )
    assert f'{key}: "1"' in (root / "u1" / "mark.yaml").read_text()


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
