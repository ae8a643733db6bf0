"""One render pass per side: every kustomize process of ``check`` and ``diff`` goes through the
Workspace's runner, so a counting runner proves each overlay is built once and argocd/ once, and
that a warm diff builds only what the change touched."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops import kustomize, workspace
from gitops.check import check_snapshot
from gitops.config import load_config
from gitops.diff import run_diff
from gitops.errors import ToolNotFoundError
from gitops.runner import Command, CommandResult, run
from gitops.snapshot import take_snapshot
from gitops.workspace import Workspace
from tests.unit.diff.scratch import LAYOUT, replicas_patch, write


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

    for module in (kustomize, workspace):
        monkeypatch.setattr(module, "find_kustomize", refuse)


def test_check_builds_each_overlay_once_and_argocd_once(
    fixture_repo: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = fixture_repo("render-ok")
    config = load_config(repo)
    runner = CountingRunner()
    tools = Workspace.open(repo, config, use_cache=False, runner=runner)
    _no_rediscovery(monkeypatch)
    snapshot = take_snapshot(tools)
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
    tools = Workspace.open(scratch_repo, load_config(scratch_repo), use_cache=False, runner=runner)
    _no_rediscovery(monkeypatch)
    result = run_diff(tools, base="HEAD")
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
        # web in three envs (rules compare the envs of a changed service), the rest of prod
        # (none here) and argocd/
        assert sorted(Path(t).relative_to(root).as_posix() for t in targets) == [
            "argocd",
            "overlays/dev/web",
            "overlays/prod/web",
            "overlays/staging/web",
        ]
        assert set(targets.values()) == {1}
    assert len(runner.builds) == 8


def test_a_warm_diff_builds_only_the_changed_overlays_head_side(
    scratch_repo: Path, tmp_path: Path
) -> None:
    """The base side is a temporary worktree in a new folder each run; its renders still come
    from the cache (keys hold no checkout path), so a second change to an overlay runs one
    kustomize process: that overlay's head side. A change under argocd/ adds argocd/'s."""

    def diff_with(runner: CountingRunner) -> None:
        tools = Workspace.open(scratch_repo, load_config(scratch_repo), runner=runner)
        assert tools.cache is not None
        tools.cache.directory = tmp_path / "cache"
        run_diff(tools, base="HEAD")

    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(5)})
    cold = CountingRunner()
    diff_with(cold)
    # Each side: dev/web, staging/web, prod/web and argocd/ (the sides run at once, so one may
    # find what the other already stored).
    assert len(cold.builds) <= 8
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(6)})
    warm = CountingRunner()
    diff_with(warm)
    assert [
        Path(t).relative_to(scratch_repo.resolve()).as_posix() for _c, ts in warm.builds for t in ts
    ] == ["overlays/prod/web"]
    write(
        scratch_repo,
        {
            "argocd/applicationset.yaml": LAYOUT["argocd/applicationset.yaml"].replace(
                "namespace: demo", "namespace: demo-apps"
            )
        },
    )
    with_argocd = CountingRunner()
    diff_with(with_argocd)
    built = sorted(Path(t).name for _c, ts in with_argocd.builds for t in ts)
    # Every overlay is reached (the app set changed), all from the cache; argocd/'s head side
    # is the one build.
    assert built == ["argocd"]
