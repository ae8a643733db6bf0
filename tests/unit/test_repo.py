"""``gitops.repo``: --repo wins, else the git top level of the working directory, else the
directory itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops.errors import GitopsError
from gitops.repo import resolve_repo


def test_the_option_wins_and_must_be_a_directory(tmp_path: Path) -> None:
    assert resolve_repo(str(tmp_path / "." / "")) == tmp_path.resolve()
    with pytest.raises(GitopsError, match=r"--repo .*/missing: not a directory"):
        resolve_repo(str(tmp_path / "missing"))


def test_inside_git_the_top_level_outside_the_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "overlays" / "dev").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert resolve_repo(None, cwd=repo / "overlays" / "dev") == repo.resolve()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert resolve_repo(None, cwd=plain) == plain.resolve()


def _git_top_level(cwd: Path) -> Path:
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True
    )
    return Path(top.stdout.strip()).resolve() if top.returncode == 0 else cwd.resolve()


def test_the_top_level_found_without_git_is_the_one_git_reports(tmp_path: Path) -> None:
    """The walk up to the nearest .git against `git rev-parse --show-toplevel` itself: a
    folder deep in a repository, a linked worktree (a .git file), and a stray .git folder
    that is not a git directory (git looks past it, and so do we)."""
    repo = tmp_path / "repo"
    deep = repo / "overlays" / "dev"
    deep.mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "init"], check=True)
    subprocess.run([*git, "worktree", "add", "-q", str(tmp_path / "wt")], check=True)
    (tmp_path / "wt" / "base").mkdir()
    (deep / "stray" / ".git").mkdir(parents=True)
    for cwd in (deep, tmp_path / "wt" / "base", deep / "stray"):
        assert resolve_repo(None, cwd=cwd) == _git_top_level(cwd), cwd
    assert resolve_repo(None, cwd=tmp_path / "wt" / "base") == (tmp_path / "wt").resolve()


def test_git_discovery_variables_are_left_to_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_WORK_TREE moves the top level where no walk could find it: git is asked."""
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(elsewhere))
    assert resolve_repo(None, cwd=elsewhere) == elsewhere.resolve() == _git_top_level(elsewhere)
    assert resolve_repo(None, cwd=repo) == elsewhere.resolve()  # a walk would say repo
