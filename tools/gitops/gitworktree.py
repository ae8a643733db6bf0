"""The git side of ``gitops diff``: resolve refs, list changed files, and check a commit out in a
throw-away directory without touching the user's working tree, index, stash or branches.

    >>> base = resolve_ref(repo, "origin/main")
    >>> with detached_checkout(repo, base) as tree:
    ...     (tree / "gitops.yaml").is_file()
    True

Every git call goes through :func:`gitops.runner.run`. The temporary worktree is removed (and
``git worktree prune`` run) in a ``finally`` block, with SIGINT/SIGTERM deferred while cleaning up,
so neither an error nor Ctrl-C leaves a stray entry in ``git worktree list``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from gitops.errors import CommandError, GitopsError
from gitops.runner import Command, run

GIT_TIMEOUT = 120.0
DEFAULT_BRANCHES = ("origin/main", "main")


class GitRefError(GitopsError):
    """A ref given on the command line (or the default base) does not name a commit."""


def _git_env() -> dict[str, str]:
    # GIT_OPTIONAL_LOCKS=0: read-only commands must not refresh (write) the user's index.
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def git(repo: Path, *args: str, ok_codes: frozenset[int] = frozenset({0})) -> str:
    """Run ``git <args>`` in ``repo`` and return its stdout."""
    command = Command(
        argv=("git", *args), cwd=repo, timeout=GIT_TIMEOUT, ok_codes=ok_codes, env=_git_env()
    )
    return run(command).stdout


def git_toplevel(repo: Path) -> tuple[Path, str]:
    """The work tree root and the prefix of ``repo`` inside it (``""`` or ``"sub/dir/"``)."""
    try:
        out = git(repo, "rev-parse", "--show-toplevel", "--show-prefix")
    except CommandError as exc:
        raise GitRefError(f"{repo} is not inside a git repository ({exc})") from exc
    lines = out.splitlines()
    return Path(lines[0]), lines[1] if len(lines) > 1 else ""


def resolve_ref(repo: Path, ref: str) -> str:
    """The full commit SHA ``ref`` names, or :class:`GitRefError` naming the ref."""
    if not ref or ref.startswith("-"):
        raise GitRefError(f"unknown git ref {ref!r}: expected a branch, tag or commit")
    out = git(
        repo,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{ref}^{{commit}}",
        ok_codes=frozenset({0, 1, 128}),
    )
    sha = out.strip()
    if not sha:
        raise GitRefError(
            f"unknown git ref {ref!r}: no commit by that name in {repo} "
            "(fetch it first, e.g. `git fetch origin main`)"
        )
    return sha


def default_base(repo: Path, head: str = "HEAD") -> tuple[str, str]:
    """``(description, sha)`` of the merge-base of ``head`` with ``origin/main``, else ``main``."""
    for branch in DEFAULT_BRANCHES:
        try:
            branch_sha = resolve_ref(repo, branch)
        except GitRefError:
            continue
        out = git(repo, "merge-base", head, branch_sha, ok_codes=frozenset({0, 1}))
        if out.strip():
            return f"merge-base({head}, {branch})", out.strip()
    raise GitRefError(
        f"no default base: neither {' nor '.join(DEFAULT_BRANCHES)} shares history with {head}; "
        "pass --base REF"
    )


def changed_files(repo: Path, base: str, head: str | None) -> set[str]:
    """Paths (relative to ``repo``, forward slashes) that differ between commit ``base`` and
    commit ``head``, or the working tree when ``head`` is None (staged, unstaged and untracked
    files that are not ignored). A rename counts as both its old and its new path."""
    diff_args = ["diff", "--name-only", "-z", "--no-renames", "--relative", base]
    if head is not None:
        diff_args.append(head)
    paths = set(filter(None, git(repo, *diff_args, "--").split("\0")))
    if head is None:
        untracked = git(repo, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
        paths.update(filter(None, untracked.split("\0")))
    return paths


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same ``finally`` blocks clean up."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(f"terminated by signal {signum}")


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM for the duration (a second Ctrl-C must not abort the cleanup)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def detached_checkout(repo: Path, sha: str, prefix: str = "") -> Iterator[Path]:
    """Check commit ``sha`` out with ``git worktree add --detach`` in a temp dir and yield the
    directory matching ``repo`` inside it (``prefix`` for a repo below the git top level).

    Only ``.git/worktrees/`` gains a transient entry; it is removed and pruned on exit, also on
    errors, Ctrl-C and SIGTERM. Hooks are disabled so a post-checkout hook never runs."""
    temp = Path(tempfile.mkdtemp(prefix="gitops-diff-"))
    tree = temp / "tree"
    try:
        with _sigterm_as_interrupt():
            git(
                repo,
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(tree),
                sha,
            )
            yield tree / prefix if prefix else tree
    finally:
        with _deferred_signals():
            _remove_worktree(repo, tree, temp)


def _remove_worktree(repo: Path, tree: Path, temp: Path) -> None:
    # Each step is attempted even if an earlier one failed: the goal is that nothing remains.
    with contextlib.suppress(CommandError):
        if tree.exists():
            git(repo, "worktree", "remove", "--force", str(tree))
    shutil.rmtree(temp, ignore_errors=True)
    with contextlib.suppress(CommandError):
        git(repo, "worktree", "prune")
