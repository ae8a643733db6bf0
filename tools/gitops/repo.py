"""Resolve which repository a command works on, and read its gitops.yaml as commands do.

``--repo`` wins; otherwise the git top level of the current directory (found as git finds it,
without running git unless GIT_DIR or another discovery variable is set); outside git, the
current directory itself. :func:`open_config` is gitops.yaml as every command reads it: the file's
structure (gitops.config), then the rule ids of ``policy.severity`` against the registry.

    >>> config = open_config(resolve_repo(None))
"""

from __future__ import annotations

import os
from pathlib import Path

from gitops.config import RepoConfig, load_config
from gitops.errors import CommandError, GitopsError
from gitops.runner import Command, run


def open_config(repo: Path) -> RepoConfig:
    """``<repo>/gitops.yaml`` read and checked completely: a misspelt rule id fails at start."""
    config = load_config(repo)
    if config.policy.get("severity"):
        # The registry imports every rule module: only when there are rule ids to check, for
        # the start-up time of every command (no cycle: test_import_graph counts this import).
        from gitops.policy import check_rule_ids

        check_rule_ids(config)
    return config


def resolve_repo(option: str | None, cwd: Path | None = None) -> Path:
    if option is not None:
        path = Path(option).expanduser()
        if not path.is_dir():
            raise GitopsError(f"--repo {option}: not a directory")
        return path.resolve()
    here = (cwd or Path.cwd()).resolve()
    if any(name in os.environ for name in _GIT_DISCOVERY_ENV):
        # git's own discovery, which these variables change.
        try:
            top = run(Command(("git", "rev-parse", "--show-toplevel"), cwd=here, timeout=10))
        except CommandError:
            return here
        return Path(top.stdout.strip()).resolve() if top.stdout.strip() else here
    # git's discovery without spawning git (one less process before every command's work):
    # the nearest folder holding a git directory, or a worktree's or submodule's .git file.
    for folder in (here, *here.parents):
        marker = folder / ".git"
        if (marker / "HEAD").is_file() or (marker.is_file() and _is_gitfile(marker)):
            return folder
    return here


# Environment variables that move or bound git's repository discovery (git(1), ENVIRONMENT).
_GIT_DISCOVERY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)


def _is_gitfile(path: Path) -> bool:
    """A ``.git`` file that points at the git directory (gitrepository-layout(5))."""
    try:
        with path.open("rb") as handle:
            return handle.read(8) == b"gitdir: "
    except OSError:
        return False
