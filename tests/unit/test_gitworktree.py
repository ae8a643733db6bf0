"""``gitops.gitworktree``: refs resolve (or are named in the error), the default base is the
merge-base with main, and the base checkout never touches the user's working tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.diff import compare as diff_compare
from gitops.diff import run_diff
from gitops.gitworktree import (
    GitRefError,
    changed_files,
    detached_checkout,
    git_toplevel,
    resolve_ref,
)
from tests.unit.diff.scratch import changed, commit, diff, git, replicas_patch, workspace_of, write


def test_unknown_ref_names_the_ref(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    untouched()
    with pytest.raises(GitRefError, match="unknown git ref 'no-such-branch'"):
        diff(scratch_repo, base="no-such-branch")
    with pytest.raises(GitRefError, match=r"'v9\.9\.9'"):
        diff(scratch_repo, base="HEAD", head="v9.9.9")


def test_default_base_is_the_merge_base_with_main(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    git(scratch_repo, "checkout", "-q", "-b", "feature")
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(5)})
    commit(scratch_repo, "prod: 5")
    untouched()
    result = run_diff(workspace_of(scratch_repo))
    assert result.base.label == "merge-base(HEAD, main)"
    assert result.base.sha == git(scratch_repo, "rev-parse", "main").strip()
    assert changed(result) == [("changed", "prod/web", "Deployment/web")]


def test_working_tree_untouched_when_rendering_fails_or_the_run_is_interrupted(
    scratch_repo: Path, untouched: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(scratch_repo, {"overlays/dev/web/kustomization.yaml": "resources: [nope\n"})
    git(scratch_repo, "add", "overlays/dev/web/kustomization.yaml")  # a staged change too
    git(scratch_repo, "stash", "push", "-q", "--keep-index")
    git(scratch_repo, "stash", "apply", "-q")
    untouched()
    result = diff(scratch_repo, base="HEAD")
    assert ("render-error", "dev/web", "head") in changed(result)

    seen: list[Path] = []

    def interrupted(name: str, root: Path, tools: object) -> object:
        seen.append(root)
        raise KeyboardInterrupt

    monkeypatch.setattr(diff_compare, "load_side", interrupted)
    with pytest.raises(KeyboardInterrupt):
        diff(scratch_repo, base="HEAD")
    assert seen and not seen[0].exists()  # the temporary base checkout is gone


def test_resolve_ref_and_changed_files_on_the_module_itself(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    head = git(scratch_repo, "rev-parse", "HEAD").strip()
    assert resolve_ref(scratch_repo, "main") == head
    with pytest.raises(GitRefError, match="unknown git ref '--output=x'"):
        resolve_ref(scratch_repo, "--output=x")  # never read as an option
    write(scratch_repo, {"overlays/dev/web/replicas.yaml": replicas_patch(9), "new.txt": "x"})
    untouched()
    # Against the working tree: modified and untracked files both count.
    assert changed_files(scratch_repo, head, None) == {"overlays/dev/web/replicas.yaml", "new.txt"}
    assert changed_files(scratch_repo, head, head) == set()
    top, prefix = git_toplevel(scratch_repo / "overlays")
    assert (top.resolve(), prefix) == (scratch_repo.resolve(), "overlays/")


def test_detached_checkout_is_removed_afterwards_even_on_error(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    untouched()
    head = resolve_ref(scratch_repo, "HEAD")
    with pytest.raises(RuntimeError), detached_checkout(scratch_repo, head, "base/") as tree:
        assert (tree / "web" / "deployment.yaml").is_file()
        kept = tree
        raise RuntimeError("render failed")
    assert not kept.exists()
    assert git(scratch_repo, "worktree", "list", "--porcelain").count("worktree ") == 1
