"""``gitops.workspace``: the tools every command renders with, found once; ``--no-cache`` and
its environment alias."""

from __future__ import annotations

from pathlib import Path

from gitops.config import load_config
from gitops.kustomize import find_kustomize
from gitops.runner import Command, CommandResult
from gitops.workspace import Workspace, no_cache_requested
from tests.conftest import FIXTURES


def test_the_environment_alias_of_no_cache() -> None:
    for value in ("1", "true", "YES"):
        assert no_cache_requested({"GITOPS_NO_CACHE": value}), value
    for environ in ({}, {"GITOPS_NO_CACHE": "0"}, {"GITOPS_NO_CACHE": ""}):
        assert not no_cache_requested(environ), environ


def test_open_finds_the_tools_once_and_for_tree_keeps_them(tmp_path: Path) -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    kustomize = find_kustomize(config)

    def runner(command: Command) -> CommandResult:
        return CommandResult(command, 0, "", "")

    cached = Workspace.open(repo, config, kustomize=kustomize, runner=runner)
    assert cached.kustomize is kustomize and cached.cache is not None
    uncached = Workspace.open(repo, config, kustomize=kustomize, use_cache=False)
    assert uncached.cache is None
    other = tmp_path / "base-checkout"
    base = cached.for_tree(other, config)
    # Same binary, runner and cache directory; the other tree's own root.
    assert (base.repo, base.kustomize, base.runner) == (other, kustomize, runner)
    assert base.cache is not None and cached.cache is not None
    assert base.cache.directory == cached.cache.directory
    assert uncached.for_tree(other, config).cache is None
