"""Serve this working tree to Argo CD from inside the cluster.

A snapshot commit is made in a temp repository from the files git would see (tracked and
untracked-but-not-ignored, with their working-tree content, so uncommitted changes are
tested too), bundled, copied into the git-daemon pod (tests/e2e/manifests/git-daemon)
with ``kubectl cp`` and cloned there as a bare repository.

    >>> bundle = make_snapshot_bundle(repo, tmp)
    >>> for command in publish_commands(kubectl, env, bundle, pod): runner(command)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from gitops.runner import Command, CommandResult, run

Runner = Callable[[Command], CommandResult]

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


def make_snapshot_bundle(repo: Path, scratch: Path, runner: Runner = run) -> Path:
    listed = runner(list_files_command(repo)).stdout.split("\0")
    work = scratch / "snapshot"
    for rel in filter(None, listed):
        source = repo / rel
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
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
