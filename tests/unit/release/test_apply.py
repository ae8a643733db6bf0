"""Carrying a plan out on a git copy of the release-edits fixture: dry run, write + check,
rollback across several files, and --commit (one commit, nothing else staged or committed)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from gitops.config import load_config
from gitops.model import Finding
from gitops.release import apply as apply_module
from gitops.release.apply import (
    CommitError,
    apply_plan,
    dry_run,
    format_json,
    format_text,
    write_files,
)
from gitops.release.plan import plan_promote, plan_set_image
from gitops.release.refs import ReleaseError, Version
from gitops.schema import SchemaValidator
from gitops.workspace import Workspace

IDENTITY = ("-c", "user.name=Release Tester", "-c", "user.email=release@example.com")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(fixture_repo: Callable[[str], Path]) -> Path:
    path = fixture_repo("release-edits")
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.name", "Release Tester")
    _git(path, "config", "user.email", "release@example.com")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "initial")
    return path


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def _validator(repo: Path) -> Callable[[dict[str, object]], list[str]]:
    return SchemaValidator.for_repo(repo, load_config(repo)).validate


def _ws(repo: Path, validated: bool = False) -> Workspace:
    """The repository's workspace, with the schema validator the CLI gives it when asked."""
    validator = _validator(repo) if validated else None
    return Workspace.open(repo, load_config(repo), validator=validator)


def test_dry_run_shows_the_rendered_diff_and_writes_nothing(repo: Path) -> None:
    before = _snapshot(repo)
    plan = plan_promote(_ws(repo), "staging", "prod", services=["api"])
    outcome = dry_run(_ws(repo, validated=True), plan)
    assert _snapshot(repo) == before
    assert _git(repo, "status", "--porcelain") == ""
    assert outcome.diff is not None and not outcome.written
    changed = [(c.overlay, c.action, c.key.short() if c.key else "") for c in outcome.diff.changes]
    assert changed == [("prod/api", "changed", "Deployment/api")]
    assert "+        image: ghcr.io/acme/api:1.2.0" in outcome.diff.changes[0].diff
    text = format_text(outcome)
    assert text.startswith(
        "prod/api: ghcr.io/acme/api 1.0.0 -> 1.2.0\n"
        "dry run: would write overlays/prod/api/kustomization.yaml; nothing written\n"
    )


def test_dry_run_reports_the_findings_a_promotion_would_add(repo: Path) -> None:
    plan = plan_promote(_ws(repo), "dev", "staging", services=["web"])
    outcome = dry_run(_ws(repo, validated=True), plan)
    assert [(f.env, f.rule, f.resource) for f in outcome.findings_added] == [
        ("staging", "image-tag-mutable", "apps/v1/Deployment/shop/web"),
        ("staging", "image-tag-mutable", "batch/v1/CronJob/shop/web-report"),
    ]
    assert outcome.exit_code == 1


def test_a_clean_promotion_is_written_and_the_index_untouched(repo: Path) -> None:
    plan = plan_promote(_ws(repo), "staging", "prod")
    outcome = apply_plan(_ws(repo, validated=True), plan)
    assert outcome.written and not outcome.rolled_back and outcome.exit_code == 0
    assert outcome.findings_added == ()
    # Unstaged modifications only: " M", never "M " (the index is the user's).
    assert _git(repo, "status", "--porcelain").splitlines() == [
        " M overlays/prod/api/kustomization.yaml",
        " M overlays/prod/web/kustomization.yaml",
    ]
    assert "  newTag: 1.2.0\n" in (repo / "overlays/prod/api/kustomization.yaml").read_text()
    assert format_text(outcome).endswith(
        "wrote overlays/prod/api/kustomization.yaml, overlays/prod/web/kustomization.yaml\n"
        "not committed\n"
    )


def test_a_promotion_that_breaks_a_check_is_rolled_back_in_every_file(repo: Path) -> None:
    before = _snapshot(repo)
    plan = plan_promote(_ws(repo), "dev", "staging")  # api is fine, web brings `latest`
    assert sorted(plan.files) == [
        "overlays/staging/api/kustomization.yaml",
        "overlays/staging/web/kustomization.yaml",
    ]
    outcome = apply_plan(_ws(repo, validated=True), plan)
    assert outcome.rolled_back and not outcome.written and outcome.exit_code == 1
    assert _snapshot(repo) == before
    assert _git(repo, "status", "--porcelain") == ""
    assert {(f.env, f.service, f.rule) for f in outcome.blocking} == {
        ("staging", "web", "image-tag-mutable")
    }
    text = format_text(outcome)
    assert "rolled back: the edit adds 2 error finding(s);" in text
    assert 'image "ghcr.io/acme/web:latest" uses the mutable tag "latest"' in text


def test_an_error_during_the_check_restores_the_files(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(repo)
    plan = plan_promote(_ws(repo), "staging", "prod")
    calls: list[int] = []
    real = apply_module.check_services

    def check_then_interrupt(workspace: Workspace, services: Sequence[str]) -> list[Finding]:
        calls.append(1)
        if len(calls) == 2:  # the check after the write
            assert _snapshot(repo) != before
            raise KeyboardInterrupt
        return real(workspace, services)

    monkeypatch.setattr(apply_module, "check_services", check_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        apply_plan(_ws(repo), plan)
    assert _snapshot(repo) == before


def test_a_file_changed_since_planning_is_not_overwritten(repo: Path) -> None:
    plan = plan_set_image(_ws(repo), "staging", "web", Version("1.2.0"))
    target = repo / "overlays/staging/web/kustomization.yaml"
    target.write_text(target.read_text() + "# edited meanwhile\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="changed while the edit was prepared"):
        write_files(repo, plan.files)
    assert target.read_text().endswith("# edited meanwhile\n")


def test_commit_makes_one_conventional_commit_of_exactly_the_edited_files(repo: Path) -> None:
    # Something of the user's is staged: it must stay staged and out of the commit.
    (repo / "NOTES.md").write_text("wip\n", encoding="utf-8")
    _git(repo, "add", "NOTES.md")
    plan = plan_set_image(_ws(repo), "staging", "web", Version("1.2.0"))
    outcome = apply_plan(_ws(repo, validated=True), plan, commit=True)
    assert outcome.commit == _git(repo, "rev-parse", "HEAD").strip()
    assert _git(repo, "log", "-1", "--format=%s%n%n%b").strip() == (
        "chore(staging): set web image to 1.2.0\n\nstaging/web: ghcr.io/acme/web 1.1.0 -> 1.2.0"
    )
    assert _git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "overlays/staging/web/kustomization.yaml"
    ]
    assert _git(repo, "status", "--porcelain").splitlines() == ["A  NOTES.md"]
    assert format_json(outcome).count(outcome.commit or "-") == 1


def test_commit_without_a_git_identity_fails_before_writing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git(repo, "config", "--unset", "user.name")
    _git(repo, "config", "--unset", "user.email")
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("GIT_COMMITTER_EMAIL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # No guessing from the host name either: what a machine without an identity does.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    before = _snapshot(repo)
    plan = plan_set_image(_ws(repo), "staging", "web", Version("1.2.0"))
    with pytest.raises(CommitError) as caught:
        apply_plan(_ws(repo), plan, commit=True)
    assert str(caught.value).startswith("--commit: git has no identity to commit with")
    assert caught.value.exit_code == 2
    assert _snapshot(repo) == before


def test_commit_refuses_a_file_with_uncommitted_edits(repo: Path) -> None:
    target = repo / "overlays/staging/web/kustomization.yaml"
    target.write_text("# mine\n" + target.read_text(), encoding="utf-8")
    plan = plan_set_image(_ws(repo), "staging", "web", Version("1.2.0"))
    with pytest.raises(CommitError, match="has uncommitted changes that the commit would"):
        apply_plan(_ws(repo), plan, commit=True)
    assert target.read_text().startswith("# mine\n")


def test_a_failed_second_write_undoes_the_first(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(repo)
    plan = plan_promote(_ws(repo), "staging", "prod")
    assert len(plan.files) == 2
    real = apply_module._write_atomic
    writes: list[Path] = []

    def disk_full_on_second_file(path: Path, text: str) -> None:
        writes.append(path)
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(apply_module, "_write_atomic", disk_full_on_second_file)
    with pytest.raises(ReleaseError) as caught:
        apply_plan(_ws(repo), plan)
    assert str(caught.value) == (
        "overlays/prod/web/kustomization.yaml: cannot write (No space left on device); "
        "nothing was changed"
    )
    assert _snapshot(repo) == before
    assert not [p for p in repo.rglob("*.tmp")]
