"""Carry a release plan out: preview it, or write it, check it and keep it only if it is clean.

- ``--dry-run``: the edited files are written into a temporary copy of the repository and
  ``gitops diff``'s engine compares the repository with that copy: the rendered changes and the
  findings added or fixed. The repository is not touched.
- otherwise: the findings of ``gitops check`` for the touched services (every env, as rules
  compare envs) are computed, the files written (each atomically: a temp file in the same
  folder, then a rename), and the check run again. A new finding of error severity, an error
  or Ctrl-C restores every file's original bytes: no half-applied change across several files.
- ``--commit``: one commit of exactly the touched files (``git commit --only``), with a
  conventional message. Nothing else ever touches the git index.

    >>> outcome = apply_plan(workspace, plan)
    >>> outcome.written, outcome.rolled_back
    (True, False)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.check import run_check
from gitops.diff import DiffResult, compare_findings, compare_trees
from gitops.diff import format_json as format_diff_json
from gitops.diff import format_text as format_diff_text
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, CommandError, GitopsError
from gitops.gitworktree import git
from gitops.model import Finding, Severity
from gitops.release.plan import ReleasePlan, read_text
from gitops.release.refs import ReleaseError
from gitops.workspace import Workspace

# Never copied for a dry run: version control, virtualenvs, build output and caches.
_TOP_LEVEL_SKIP = frozenset({"venv", "build", "e2e-artifacts"})
_ANYWHERE_SKIP = frozenset(
    {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)


class CommitError(ReleaseError):
    """``--commit`` cannot be done (no git identity, untracked file, uncommitted edits)."""


@dataclass(frozen=True)
class Outcome:
    plan: ReleasePlan
    dry_run: bool
    written: bool = False
    rolled_back: bool = False
    findings_added: tuple[Finding, ...] = ()
    findings_fixed: tuple[Finding, ...] = ()
    diff: DiffResult | None = None
    commit: str | None = None

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings_added if f.severity is Severity.ERROR]

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEMS if self.blocking else EXIT_OK


# --- dry run --------------------------------------------------------------------------------------


def dry_run(workspace: Workspace, plan: ReleasePlan) -> Outcome:
    """What the plan would change in the rendered manifests and the findings; writes nothing
    in the workspace's repository."""
    if not plan.files:
        return Outcome(plan, dry_run=True)
    repo = workspace.repo
    with _edited_copy(repo, plan) as copy:
        result = compare_trees(
            workspace, repo, copy, set(plan.files), ("working tree", "with the edit")
        )
    return Outcome(
        plan,
        dry_run=True,
        findings_added=result.findings_added,
        findings_fixed=result.findings_fixed,
        diff=result,
    )


def _skip(directory: str, names: list[str], root: str) -> set[str]:
    skipped = {n for n in names if n in _ANYWHERE_SKIP}
    if os.path.abspath(directory) == root:
        skipped |= {n for n in names if n in _TOP_LEVEL_SKIP}
    return skipped


@contextlib.contextmanager
def _edited_copy(repo: Path, plan: ReleasePlan) -> Iterator[Path]:
    root = os.path.abspath(repo)
    with tempfile.TemporaryDirectory(prefix="gitops-release-") as temp:
        copy = Path(temp) / "tree"
        shutil.copytree(repo, copy, symlinks=True, ignore=lambda d, names: _skip(d, names, root))
        for rel, (_old, new) in plan.files.items():
            (copy / rel).write_bytes(new.encode("utf-8"))
        yield copy


# --- write, check, roll back -------------------------------------------------------------------


def apply_plan(workspace: Workspace, plan: ReleasePlan, commit: bool = False) -> Outcome:
    """Write the plan's files, keep them only if no new error-severity finding appears, and
    optionally commit them."""
    if not plan.files:
        return Outcome(plan, dry_run=False)
    repo = workspace.repo
    if commit:
        check_can_commit(repo, sorted(plan.files))

    def findings() -> list[Finding]:
        # A fresh view of the checkout each time: the files change in between.
        return check_services(workspace.for_tree(repo, workspace.config), plan.services)

    before = findings()
    check_unchanged(repo, plan.files)
    originals = {rel: old for rel, (old, _new) in plan.files.items()}
    try:  # from the first write on, any way out but success restores every file
        write_files(repo, plan.files)
        after = findings()
    except BaseException:
        restore_files(repo, originals)
        raise
    added, fixed = compare_findings(before, after)
    outcome = Outcome(plan, False, True, False, tuple(added), tuple(fixed))
    if outcome.blocking:
        restore_files(repo, originals)
        return Outcome(plan, False, False, True, tuple(added), tuple(fixed))
    if commit:
        sha = commit_files(repo, sorted(plan.files), plan.commit_message())
        outcome = Outcome(plan, False, True, False, tuple(added), tuple(fixed), commit=sha)
    return outcome


def check_services(workspace: Workspace, services: Sequence[str]) -> list[Finding]:
    """``gitops check`` findings for every env of ``services``."""
    found: list[Finding] = []
    for service in services:
        found.extend(run_check(workspace, None, service).findings)
    return found


def check_unchanged(repo: Path, files: dict[str, tuple[str, str]]) -> None:
    """Refuse to overwrite a file that changed since the plan read it."""
    for rel, (old, _new) in files.items():
        if read_text(repo / rel) != old:
            raise ReleaseError(f"{rel} changed while the edit was prepared; run the command again")


def write_files(repo: Path, files: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Write every file atomically; returns the original texts. If a file changed since it
    was planned, nothing is written; if one write fails, the ones done are undone."""
    check_unchanged(repo, files)
    done: dict[str, str] = {}
    current = ""
    try:
        for rel, (old, new) in files.items():
            current = rel
            _write_atomic(repo / rel, new)
            done[rel] = old
    except OSError as exc:
        restore_files(repo, done)
        raise ReleaseError(
            f"{current}: cannot write ({exc.strerror or exc}); nothing was changed"
        ) from exc
    except BaseException:
        restore_files(repo, done)
        raise
    return {rel: old for rel, (old, _new) in files.items()}


def restore_files(repo: Path, originals: dict[str, str]) -> None:
    # Ctrl-C during a restore must not leave it half done.
    with _sigint_deferred():
        for rel, text in originals.items():
            _write_atomic(repo / rel, text)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _write_atomic(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# --- commit ---------------------------------------------------------------------------------------


def check_can_commit(repo: Path, paths: Sequence[str]) -> None:
    """Everything ``--commit`` needs, checked before any file is written."""
    try:
        git(repo, "rev-parse", "--show-toplevel")
    except CommandError as exc:
        raise CommitError(f"--commit: {repo} is not a git repository") from exc
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        try:
            git(repo, "var", variable)
        except CommandError as exc:
            raise CommitError(
                "--commit: git has no identity to commit with (set it with "
                'git config user.name "..." and git config user.email "..."), '
                "or run without --commit and commit yourself"
            ) from exc
    try:
        git(repo, "ls-files", "--error-unmatch", "--", *paths)
    except CommandError as exc:
        raise CommitError(
            f"--commit: not every file to edit is tracked by git ({', '.join(paths)})"
        ) from exc
    dirty = git(repo, "diff", "--name-only", "HEAD", "--", *paths).split()
    if dirty:
        raise CommitError(
            f"--commit: {', '.join(dirty)} has uncommitted changes that the commit would "
            "include; commit or stash them first, or run without --commit"
        )


def commit_files(repo: Path, paths: Sequence[str], message: str) -> str:
    """One commit of exactly ``paths`` (other staged changes stay staged, not committed)."""
    try:
        git(repo, "commit", "--only", "--quiet", "-m", message, "--", *paths)
    except CommandError as exc:
        raise GitopsError(
            f"the files were written but the commit failed: {exc}; commit them yourself"
        ) from exc
    return git(repo, "rev-parse", "HEAD").strip()


# --- output ---------------------------------------------------------------------------------------


def format_text(outcome: Outcome, color: bool = False) -> str:
    plan = outcome.plan
    lines = [c.line() for c in plan.changes]
    lines += [f"note: {note}" for note in plan.notes]
    files = ", ".join(sorted(plan.files))
    if outcome.dry_run:
        if plan.files:
            lines.append(f"dry run: would write {files}; nothing written")
            assert outcome.diff is not None
            lines += ["", format_diff_text(outcome.diff, color).rstrip("\n")]
    elif outcome.rolled_back:
        lines.append(
            f"rolled back: the edit adds {len(outcome.blocking)} error finding(s); "
            f"{files} left as they were"
        )
        lines += [f"  {_finding_line(f)}" for f in outcome.blocking]
    elif outcome.written:
        lines.append(f"wrote {files}")
        added = [f for f in outcome.findings_added if f.severity is not Severity.ERROR]
        lines += [f"  new {_finding_line(f)}" for f in added]
        lines.append(f"committed {outcome.commit[:12]}" if outcome.commit else "not committed")
    return "\n".join(lines) + "\n"


def _finding_line(finding: Finding) -> str:
    where = "/".join(p for p in (finding.env, finding.service) if p)
    resource = finding.resource.split("/")
    subject = f" {resource[-3]}/{resource[-1]}" if len(resource) >= 4 else ""
    return f"{finding.severity} {finding.rule} {where}{subject}: {finding.message}"


def format_json(outcome: Outcome) -> str:
    plan = outcome.plan
    document: dict[str, Any] = {
        "action": plan.action,
        "from": plan.from_env,
        "to": plan.to_env,
        "dryRun": outcome.dry_run,
        "changes": [c.to_json() for c in plan.changes],
        "files": sorted(plan.files),
        "written": outcome.written,
        "rolledBack": outcome.rolled_back,
        "commit": outcome.commit,
        "findings": {
            "added": [f.to_json() for f in outcome.findings_added],
            "fixed": [f.to_json() for f in outcome.findings_fixed],
        },
        "notes": list(plan.notes),
        "diff": json.loads(format_diff_json(outcome.diff)) if outcome.diff else None,
    }
    return json.dumps(document, indent=2) + "\n"
