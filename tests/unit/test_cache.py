"""The render cache: reused while every input is unchanged, never for remote or failed renders,
kept outside the repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.cache import RenderCache, user_cache_root
from gitops.cli import main
from gitops.config import load_config
from gitops.discovery import discover_overlays
from gitops.kustomize import find_kustomize
from gitops.render import render_overlays
from gitops.runner import Command, CommandResult, run
from tests.conftest import FIXTURES


class CountingRunner:
    def __init__(self) -> None:
        self.calls: list[Command] = []

    def __call__(self, command: Command) -> CommandResult:
        self.calls.append(command)
        return run(command)


def _render(repo: Path, cache: RenderCache, runner: CountingRunner, trace: bool = False) -> list:  # type: ignore[type-arg]
    config = load_config(repo)
    overlays = discover_overlays(repo, config).overlays
    return render_overlays(
        repo,
        overlays,
        config,
        find_kustomize(config),
        runner=runner,
        trace=trace,
        cache=cache,
        workers=1,
    )


def _cache(repo: Path, tmp_path: Path) -> RenderCache:
    config = load_config(repo)
    return RenderCache.for_repo(repo, config, find_kustomize(config), tmp_path / "cache")


def test_unchanged_overlays_are_not_rendered_again(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = fixture_repo("source-tracing")
    first_runner, second_runner = CountingRunner(), CountingRunner()
    first = _render(repo, _cache(repo, tmp_path), first_runner, trace=True)
    second = _render(repo, _cache(repo, tmp_path), second_runner, trace=True)
    assert len(first_runner.calls) == 1 and second_runner.calls == []
    assert [r.manifest for r in second] == [r.manifest for r in first]
    assert second[0].origin_root == first[0].origin_root  # tracing still resolves sources


def test_a_changed_input_anywhere_in_the_chain_renders_again(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = fixture_repo("source-tracing")
    _render(repo, _cache(repo, tmp_path), CountingRunner())
    base_file = repo / "base" / "web" / "deployment.yaml"
    base_file.write_text(base_file.read_text().replace("- name: web", "- name: web-main"))
    runner = CountingRunner()
    (result,) = _render(repo, _cache(repo, tmp_path), runner)
    assert len(runner.calls) == 1
    assert "name: web-main" in (result.manifest or "")
    trace_runner = CountingRunner()
    _render(repo, _cache(repo, tmp_path), trace_runner, trace=True)
    assert len(trace_runner.calls) == 1, "traced and plain renders are cached apart"


def test_remote_resources_and_failures_are_never_cached(tmp_path: Path) -> None:
    repo = FIXTURES / "broken-overlays"
    cache = _cache(repo, tmp_path)
    overlays = {o.service: o for o in discover_overlays(repo, load_config(repo)).overlays}
    assert cache.key(overlays["remote-base-offline"], trace=False) is None
    assert cache.key(overlays["ok"], trace=False) is not None
    _render(repo, cache, CountingRunner())
    runner = CountingRunner()
    _render(repo, _cache(repo, tmp_path), runner)
    rendered_again = sorted(c.argv[2].split("/")[-1] for c in runner.calls)
    assert rendered_again == ["malformed-yaml", "missing-resource", "remote-base-offline"]


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
