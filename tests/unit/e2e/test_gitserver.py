"""The snapshot served to Argo CD (HEAD by default, the working tree on opt-in), built with
the real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness.gitserver import GIT_URL, make_snapshot_bundle, publish_commands


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def _dirty_repo(tmp_path: Path) -> Path:
    """A repo with a commit, then an edit, a deletion, an untracked and an ignored file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / ".gitignore").write_text("build/\n")
    (repo / "committed.txt").write_text("v1\n")
    (repo / "gone.txt").write_text("x\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "init", cwd=repo)
    (repo / "committed.txt").write_text("v2 uncommitted\n")
    (repo / "gone.txt").unlink()
    (repo / "new.txt").write_text("untracked\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.yaml").write_text("ignored\n")
    return repo


def test_default_snapshot_is_exactly_the_committed_tree(tmp_path: Path) -> None:
    repo = _dirty_repo(tmp_path)
    status_before = git("status", "--porcelain", cwd=repo)

    bundle = make_snapshot_bundle(repo, tmp_path / "scratch")

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True, timeout=60)
    # HEAD's files with HEAD's content: the edit, the deletion and the untracked file stay home
    assert sorted(git("ls-files", cwd=clone).split()) == [".gitignore", "committed.txt", "gone.txt"]
    assert (clone / "committed.txt").read_text() == "v1\n"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone).strip() == "main"
    assert git("status", "--porcelain", cwd=repo) == status_before  # user's index untouched


def test_opt_in_snapshot_has_head_plus_uncommitted_and_untracked_files_but_not_ignored(
    tmp_path: Path,
) -> None:
    repo = _dirty_repo(tmp_path)

    bundle = make_snapshot_bundle(repo, tmp_path / "scratch", working_tree=True)

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True, timeout=60)
    files = sorted(git("ls-files", cwd=clone).split())
    assert files == [".gitignore", "committed.txt", "new.txt"]
    assert (clone / "committed.txt").read_text() == "v2 uncommitted\n"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone).strip() == "main"


def test_publish_copies_then_clones_bare_in_the_pod(tmp_path: Path) -> None:
    copy, clone = publish_commands("kubectl", {}, tmp_path / "s.bundle", "git-daemon-abc")
    assert copy.argv[:4] == ("kubectl", "cp", "--container", "git-daemon")
    assert copy.argv[-1] == "e2e-git/git-daemon-abc:/tmp/snapshot.bundle"
    assert clone.argv[:7] == (
        "kubectl",
        "exec",
        "--namespace",
        "e2e-git",
        "git-daemon-abc",
        "--container",
        "git-daemon",
    )
    assert "git clone --quiet --bare /tmp/snapshot.bundle" in clone.argv[-1]
    assert GIT_URL == "git://git-daemon.e2e-git.svc.cluster.local/integration-gitops.git"


def test_snapshot_ignores_the_users_signing_config_and_keeps_tracked_ignored_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A laptop with commit signing on: the snapshot commit must neither prompt nor fail.
    global_config = tmp_path / "gitconfig"
    global_config.write_text("[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / ".gitignore").write_text("*.lock\n")
    (repo / "pinned.lock").write_text("tracked although ignored\n")
    git("add", "-A", "--force", cwd=repo)
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "init", cwd=repo)

    bundle = make_snapshot_bundle(repo, tmp_path / "scratch")

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True, timeout=60)
    assert sorted(git("ls-files", cwd=clone).split()) == [".gitignore", "pinned.lock"]
