"""The render cache: reused while every input is unchanged, whatever the checkout's location;
never for remote or failed renders; kept outside the repository."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.cache import RenderCache
from gitops.cachedirs import user_cache_root
from gitops.cli import main
from gitops.config import load_config
from gitops.render import RenderedOverlay
from gitops.runner import Command, CommandResult, run
from gitops.workspace import Workspace
from tests.conftest import FIXTURES


class CountingRunner:
    def __init__(self) -> None:
        self.calls: list[Command] = []

    def __call__(self, command: Command) -> CommandResult:
        self.calls.append(command)
        return run(command)


def _workspace(repo: Path, cache_dir: Path, runner: CountingRunner) -> Workspace:
    workspace = Workspace.open(repo, load_config(repo), runner=runner)
    assert workspace.cache is not None
    workspace.cache.directory = cache_dir
    return workspace


def _render(
    repo: Path, cache_dir: Path, runner: CountingRunner, trace: bool = False
) -> list[RenderedOverlay]:
    workspace = _workspace(repo, cache_dir, runner)
    return workspace.render(workspace.layout().overlays, trace)


def test_unchanged_overlays_are_not_rendered_again(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = fixture_repo("source-tracing")
    first_runner, second_runner = CountingRunner(), CountingRunner()
    first = _render(repo, tmp_path / "cache", first_runner, trace=True)
    second = _render(repo, tmp_path / "cache", second_runner, trace=True)
    assert len(first_runner.calls) == 1 and second_runner.calls == []
    assert [(r.body, r.source, r.patches) for r in second[0].resources] == [
        (r.body, r.source, r.patches) for r in first[0].resources
    ]
    assert any(r.patches for r in second[0].resources)  # tracing survives the cache


def test_keys_and_entries_do_not_depend_on_where_the_checkout_sits(tmp_path: Path) -> None:
    """The working tree and diff's temporary base worktree of the same commit share renders."""
    here, there = tmp_path / "here" / "repo", tmp_path / "elsewhere" / "deeper" / "repo"
    for copy in (here, there):
        shutil.copytree(FIXTURES / "source-tracing", copy)
    runner = CountingRunner()
    first = _render(here, tmp_path / "cache", runner, trace=True)
    assert len(runner.calls) == 1
    again = CountingRunner()
    moved = _render(there, tmp_path / "cache", again, trace=True)
    assert again.calls == []
    deployment = next(r for r in moved[0].resources if r.kind == "Deployment")
    assert deployment.source == "base/web/deployment.yaml"
    assert "overlays/prod/web/replicas.yaml" in deployment.patches
    assert [r.body for r in moved[0].resources] == [r.body for r in first[0].resources]
    config = load_config(here)
    workspace = _workspace(here, tmp_path / "cache", runner)
    cache = RenderCache.for_checkout(there, config, workspace.kustomize, tmp_path / "cache")
    inputs = workspace.resolver.overlay_inputs("overlays/prod/web")
    assert workspace.cache is not None
    assert cache.key("overlays/prod/web", True, inputs) == workspace.cache.key(
        "overlays/prod/web", True, inputs
    )
    assert str(tmp_path) not in cache.identity


def test_a_changed_input_anywhere_in_the_chain_renders_again(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = fixture_repo("source-tracing")
    _render(repo, tmp_path / "cache", CountingRunner())
    base_file = repo / "base" / "web" / "deployment.yaml"
    base_file.write_text(base_file.read_text().replace("- name: web", "- name: web-main"))
    runner = CountingRunner()
    (result,) = _render(repo, tmp_path / "cache", runner)
    assert len(runner.calls) == 1
    assert "name: web-main" in (result.manifest or "")
    trace_runner = CountingRunner()
    _render(repo, tmp_path / "cache", trace_runner, trace=True)
    assert len(trace_runner.calls) == 1, "traced and plain renders are cached apart"


def test_remote_resources_and_failures_are_never_cached(tmp_path: Path) -> None:
    repo = FIXTURES / "broken-overlays"
    workspace = _workspace(repo, tmp_path / "cache", CountingRunner())
    assert workspace.cache is not None
    inputs = workspace.resolver.overlay_inputs
    remote, ok = "overlays/dev/remote-base-offline", "overlays/dev/ok"
    assert workspace.cache.key(remote, False, inputs(remote)) is None
    assert workspace.cache.key(ok, False, inputs(ok)) is not None
    _render(repo, tmp_path / "cache", CountingRunner())
    runner = CountingRunner()
    _render(repo, tmp_path / "cache", runner)
    rendered_again = sorted(c.argv[2].split("/")[-1] for c in runner.calls)
    assert rendered_again == ["malformed-yaml", "missing-resource", "remote-base-offline"]


def test_a_units_other_arguments_and_remote_charts_are_part_of_its_key(tmp_path: Path) -> None:
    """A chart source's key: its chart files and its arguments (values, release name...); a
    unit reading a chart kustomize would pull is never cached."""
    repo = FIXTURES / "render-ok"
    workspace = _workspace(repo, tmp_path / "cache", CountingRunner())
    assert workspace.cache is not None
    inputs = workspace.resolver.overlay_inputs("overlays/dev/web")
    key = workspace.cache.key("charts/web@dev-web", True, inputs, '["a"]')
    assert key is not None
    assert key != workspace.cache.key("charts/web@dev-web", True, inputs, '["b"]')
    assert key == workspace.cache.key("charts/web@dev-web", True, inputs, '["a"]')
    pulled = dataclasses.replace(inputs, remote_charts=frozenset({"helm chart x 1 from y"}))
    assert workspace.cache.key("overlays/dev/web", True, pulled) is None


def test_cache_lives_outside_the_repo_and_can_be_turned_off(
    fixture_repo: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    repo = fixture_repo("render-ok")
    # GITOPS_NO_CACHE is read once by the CLI, as the alias of --no-cache.
    monkeypatch.setenv("GITOPS_NO_CACHE", "")
    monkeypatch.setenv("GITOPS_CACHE_DIR", str(tmp_path / "user-cache"))
    assert user_cache_root() == tmp_path / "user-cache"
    assert main(["render", "--repo", str(repo)]) == 0
    entries = list((tmp_path / "user-cache" / "renders").rglob("*.json"))
    assert len(entries) == 4  # 3 overlays + argocd/, built to discover what Argo CD syncs
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    first = capsys.readouterr().out
    assert main(["render", "--repo", str(repo)]) == 0
    assert capsys.readouterr().out == first
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before
    for entry in entries:
        entry.unlink()
    assert main(["render", "--repo", str(repo), "--no-cache"]) == 0
    assert list((tmp_path / "user-cache" / "renders").rglob("*.json")) == []
    monkeypatch.setenv("GITOPS_NO_CACHE", "1")
    assert main(["render", "--repo", str(repo)]) == 0
    assert list((tmp_path / "user-cache" / "renders").rglob("*.json")) == []
    monkeypatch.setenv("GITOPS_NO_CACHE", "")
    assert main(["render", "--repo", str(repo)]) == 0
    assert len(list((tmp_path / "user-cache" / "renders").rglob("*.json"))) == 4
