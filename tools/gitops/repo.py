"""Resolve which repository a command works on.

``--repo`` wins; otherwise the git top level of the current directory; outside git, the current
directory itself.
"""

from __future__ import annotations

from pathlib import Path

from gitops.errors import CommandError, GitopsError
from gitops.runner import Command, run


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
