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
