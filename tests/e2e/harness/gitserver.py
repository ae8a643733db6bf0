"""Serve this repository to Argo CD from inside the cluster.

A snapshot commit is made in a temp repository, bundled, copied into the git-daemon pod
(tests/e2e/manifests/git-daemon) with ``kubectl cp`` and cloned there as a bare repository.
By default the snapshot is exactly the committed tree (HEAD, via ``git archive``): what Argo
CD would sync from the remote, and nothing a developer has lying around (scratch files,
local credentials) leaves the machine. ``E2E_SERVE_WORKING_TREE=1`` opts in to the working
tree instead: tracked and untracked-but-not-ignored files with their current content, so
uncommitted changes are tested too.

    >>> bundle = make_snapshot_bundle(repo, tmp)
    >>> for command in publish_commands(kubectl, env, bundle, pod): runner(command)
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

from gitops.runner import Command, CommandResult, run

Runner = Callable[[Command], CommandResult]

WORKING_TREE_ENV = "E2E_SERVE_WORKING_TREE"
GIT_NAMESPACE = "e2e-git"
GIT_DEPLOYMENT = "git-daemon"
REPO_NAME = "integration-gitops.git"
SERVE_ROOT = "/srv/git"
GIT_URL = f"git://{GIT_DEPLOYMENT}.{GIT_NAMESPACE}.svc.cluster.local/{REPO_NAME}"
# The snapshot commit must not depend on the user's git config: a laptop with commit signing
# on would prompt for (or fail on) a key.
_IDENTITY = (
    "-c",
    "user.name=integration-e2e",
    "-c",
    "user.email=e2e@localhost",
    "-c",
    "commit.gpgsign=false",
)


def list_files_command(repo: Path) -> Command:
    return Command(
        ("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
        cwd=repo,
        timeout=60,
    )


def snapshot_commands(work: Path, bundle: Path) -> list[Command]:
    return [
        Command(("git", "init", "--quiet", "--initial-branch=main", str(work)), timeout=60),
        # --force: the files were chosen by `ls-files` in the real repo; a tracked file that a
        # .gitignore pattern also matches must not silently drop out of the snapshot.
        Command(("git", "add", "--all", "--force"), cwd=work, timeout=120),
        Command(
            ("git", *_IDENTITY, "commit", "--quiet", "--no-verify", "-m", "e2e snapshot"),
            cwd=work,
            timeout=120,
        ),
        Command(("git", "bundle", "create", str(bundle), "HEAD", "main"), cwd=work, timeout=120),
    ]


def archive_head_command(repo: Path, archive: Path) -> Command:
    """The committed tree at HEAD as a tar file (the user's index is not touched)."""
    return Command(
        ("git", "archive", "--format=tar", f"--output={archive}", "HEAD"), cwd=repo, timeout=120
    )


def _copy_working_tree(repo: Path, work: Path, runner: Runner) -> None:
    listed = runner(list_files_command(repo)).stdout.split("\0")
    for rel in filter(None, listed):
        source = repo / rel
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _extract_head(repo: Path, work: Path, scratch: Path, runner: Runner) -> None:
    archive = scratch / "head.tar"
    scratch.mkdir(parents=True, exist_ok=True)
    runner(archive_head_command(repo, archive))
    work.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")  # no absolute paths, links out, or devices
    archive.unlink()


def make_snapshot_bundle(
    repo: Path, scratch: Path, runner: Runner = run, working_tree: bool = False
) -> Path:
    """Bundle the committed tree (default) or, with ``working_tree``, the working tree."""
    work = scratch / "snapshot"
    if working_tree:
        _copy_working_tree(repo, work, runner)
    else:
        _extract_head(repo, work, scratch, runner)
    bundle = scratch / "snapshot.bundle"
    for command in snapshot_commands(work, bundle):
        runner(command)
    return bundle


# Runs in the pod: replace the served repository atomically enough for a test (one writer).
_RECEIVE_SCRIPT = (
    "set -eu; "
    f"rm -rf {SERVE_ROOT}/{REPO_NAME}.new; "
    f"git clone --quiet --bare /tmp/snapshot.bundle {SERVE_ROOT}/{REPO_NAME}.new; "
    f"git --git-dir={SERVE_ROOT}/{REPO_NAME}.new symbolic-ref HEAD refs/heads/main; "
    f"rm -rf {SERVE_ROOT}/{REPO_NAME}; mv {SERVE_ROOT}/{REPO_NAME}.new {SERVE_ROOT}/{REPO_NAME}"
)


def publish_commands(kubectl: str, env: Mapping[str, str], bundle: Path, pod: str) -> list[Command]:
    """Copy the bundle into ``pod`` (kubectl cp needs a pod name and tar in the image; alpine
    has it) and make it the served repository, HEAD -> main (Argo CD's targetRevision HEAD)."""
    return [
        Command(
            (
                kubectl,
                "cp",
                "--container",
                GIT_DEPLOYMENT,
                str(bundle),
                f"{GIT_NAMESPACE}/{pod}:/tmp/snapshot.bundle",
            ),
            timeout=180,
            env=env,
        ),
        Command(
            (
                kubectl,
                "exec",
                "--namespace",
                GIT_NAMESPACE,
                pod,
                "--container",
                GIT_DEPLOYMENT,
                "--",
                "sh",
                "-c",
                _RECEIVE_SCRIPT,
            ),
            timeout=180,
            env=env,
        ),
    ]


def ls_remote_command(kubectl: str, env: Mapping[str, str]) -> Command:
    """Ask the daemon for HEAD through its Service, from inside the pod: proves it serves."""
    return Command(
        (
            kubectl,
            "exec",
            "--namespace",
            GIT_NAMESPACE,
            f"deployment/{GIT_DEPLOYMENT}",
            "--container",
            GIT_DEPLOYMENT,
            "--",
            "git",
            "ls-remote",
            GIT_URL,
            "HEAD",
        ),
        timeout=60,
        env=env,
    )
