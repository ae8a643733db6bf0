"""One render pass per side: every kustomize process of ``check`` and ``diff`` goes through the
Workspace's runner, so a counting runner proves each overlay is built once and argocd/ once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops import argocd, kustomize, render
from gitops.check import check_snapshot
from gitops.config import load_config
from gitops.diff import run_diff
from gitops.errors import ToolNotFoundError
from gitops.runner import Command, CommandResult, run
from gitops.snapshot import take_snapshot
from gitops.workspace import Workspace
from tests.conftest import FIXTURES
from tests.unit.diff.scratch import replicas_patch, write


class CountingRunner:
    """Runs each command for real and records, per kustomize process, the overlays it built:
    ``(cwd, targets)``, read from gitops' temporary wrappers (trace, batch) while they exist."""

    def __init__(self) -> None:
        self.builds: list[tuple[str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    def __call__(self, command: Command) -> CommandResult:
        directory = command.argv[2]  # "<kubectl> kustomize <dir>" or "<kustomize> build <dir>"
        if Path(directory).is_absolute():
            targets = tuple(_wrapped(Path(directory)))
        else:
            targets = (str((Path(command.cwd or ".") / directory).resolve()),)
        with self._lock:
            self.builds.append((str(command.cwd), targets))
        return run(command)

    def built(self) -> Counter[str]:
        """How many times each directory was built, whichever process built it."""
        return Counter(target for _cwd, targets in self.builds for target in targets)


def _wrapped(wrapper: Path) -> list[str]:
    """The overlays a temporary wrapper kustomization builds (a batch lists unit wrappers)."""
    lines = (wrapper / "kustomization.yaml").read_text(encoding="utf-8").splitlines()
    found: list[str] = []
    for line in lines:
        if not line.startswith("  - ") or line.strip().endswith(".yaml"):
            continue
        target = (wrapper / line.strip()[2:]).resolve()
        inside = target.is_relative_to(wrapper.resolve())
        found += _wrapped(target) if inside else [str(target)]
    return found


def _no_rediscovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the Workspace is opened, looking the binary up again is a bug."""

    def refuse(*_args: object, **_kwargs: object) -> kustomize.Kustomize:
        raise ToolNotFoundError("find_kustomize called below the Workspace")

    for module in (kustomize, render, argocd):
        monkeypatch.setattr(module, "find_kustomize", refuse)


def test_check_builds_each_overlay_once_and_argocd_once(
    fixture_repo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = fixture_repo("render-ok")
    config = load_config(repo)
    runner = CountingRunner()
    workspace = Workspace.open(repo, config, use_cache=False, runner=runner)
    _no_rediscovery(monkeypatch)
    snapshot = take_snapshot(workspace)
    report = check_snapshot(snapshot)
    units = {str((repo / o.rel_path).resolve()) for o in snapshot.selected}
    assert report.rendered == tuple(o.name for o in snapshot.selected)
    assert len(units) == 3
    argocd_dir = str((repo / "argocd").resolve())
    assert runner.built() == Counter({**dict.fromkeys(units, 1), argocd_dir: 1})
    # dev's two overlays share one process (gitops.batch), prod/web has its own, and argocd/.
    assert len(runner.builds) == 3
    # Traced: every resource knows its file, from the one build.
    assert all(r.source for r in snapshot.resources)


def test_diff_builds_each_overlay_once_per_side_and_argocd_once_per_side(
    scratch_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The diff tests' layout: web in dev, staging and prod, argocd/ with an ApplicationSet.
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(5)})
    runner = CountingRunner()
    workspace = Workspace.open(
        scratch_repo, load_config(scratch_repo), use_cache=False, runner=runner
    )
    _no_rediscovery(monkeypatch)
    result = run_diff(scratch_repo, base="HEAD", workspace=workspace)
    changed = [c for c in result.changes if c.action == "changed"]
    assert [(c.env, c.service, c.key.kind if c.key else "") for c in changed] == [
        ("prod", "web", "Deployment")
    ]
    assert "+  replicas: 5" in changed[0].diff
    by_side = Counter(cwd for cwd, _targets in runner.builds)
    assert len(by_side) == 2  # the working tree and the base's temporary worktree
    for side in by_side:
        root = Path(side).resolve()
        targets = Counter(t for cwd, ts in runner.builds if cwd == side for t in ts)
        # web in three envs (check compares the envs of a changed service) and argocd/
        assert sorted(Path(t).relative_to(root).as_posix() for t in targets) == [
            "argocd",
            "overlays/dev/web",
            "overlays/prod/web",
            "overlays/staging/web",
        ]
        assert set(targets.values()) == {1}
    assert len(runner.builds) == 8


def test_workspace_for_tree_keeps_the_tools_and_the_cache_setting(tmp_path: Path) -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    cached = Workspace.open(repo, config)
    other = cached.for_tree(tmp_path, config)
    assert other.kustomize == cached.kustomize and other.runner is cached.runner
    assert other.cache is not None and cached.cache is not None
    assert other.cache.directory == cached.cache.directory and other.repo == tmp_path
    assert Workspace.open(repo, config, use_cache=False).for_tree(tmp_path, config).cache is None
