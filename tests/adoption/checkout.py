"""A copy of this checkout as a clone would have it, for the tests that install it the way
adopters do (``pip install .``, ``pipx install .``, ``pre-commit try-repo``): every tracked file
and every untracked one git does not ignore, so the copy holds what the working tree holds
(uncommitted edits included) and nothing else (no .venv, no build output)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.conftest import REPO_ROOT

# A commit that names no one in particular: the copies are throwaway repositories.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "gitops tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gitops tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def copy_checkout(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        relative = raw.decode()
        source = REPO_ROOT / relative
        if not source.is_file():  # deleted in the working tree, not yet in the index
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return destination


def commit_all(repo: Path, message: str = "snapshot") -> None:
    """``git init`` (once) and commit everything in ``repo``: a repository of its own, so
    nothing reaches this checkout's index."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run and fail loudly (with both streams) on a non-zero exit."""
    result = run_unchecked(argv, cwd, env, timeout)
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


def run_unchecked(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **GIT_IDENTITY, **(env or {})}
    # The test run's own venv must not leak into what is installed.
    merged.pop("VIRTUAL_ENV", None)
    merged.pop("PYTHONPATH", None)
    return subprocess.run(
        list(argv), cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout
    )


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin")
