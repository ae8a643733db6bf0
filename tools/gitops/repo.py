"""Resolve which repository a command works on, and read its gitops.yaml as commands do.

``--repo`` wins; otherwise the git top level of the current directory; outside git, the current
directory itself. :func:`open_config` is gitops.yaml as every command reads it: the file's
structure (gitops.config), then the rule ids of ``policy.severity`` against the registry.

    >>> config = open_config(resolve_repo(None))
"""

from __future__ import annotations

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
    try:
        top = run(Command(("git", "rev-parse", "--show-toplevel"), cwd=here, timeout=10)).stdout
    except CommandError:
        return here
    return Path(top.strip()).resolve() if top.strip() else here
