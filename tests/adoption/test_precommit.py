"""``.pre-commit-hooks.yaml``: another repository adopts gitops in three lines of its
.pre-commit-config.yaml. ``pre-commit try-repo`` runs the hooks exactly as such a repository
would (pre-commit installs this package in a venv of its own, from a commit of this repository:
here a committed copy of the checkout), on a copy of tests/fixtures/adopter-repo: install tier,
since pre-commit installs from PyPI or pip's cache. The manifest's schema and its file patterns
are checked without installing."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.adoption.checkout import commit_all, copy_checkout, git, run_unchecked
from tests.conftest import FIXTURES, REPO_ROOT

PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(a committed copy of this checkout, a PRE_COMMIT_HOME away from the user's)."""
    root = tmp_path_factory.mktemp("hooks")
    repo = copy_checkout(root / "integration-gitops")
    commit_all(repo)
    yield repo, root / "pre-commit-home"


@pytest.fixture
def adopter(tmp_path: Path) -> Path:
    """The adopting repository: the fixture, a CI workflow beside it (YAML that is not a
    manifest, as every repository has), all committed."""
    repo = tmp_path / "adopter"
    shutil.copytree(FIXTURES / "adopter-repo", repo)
    for name in ("README.md", "expected.yaml"):  # the fixture's own bookkeeping
        (repo / name).unlink()
    workflow = repo / ".github" / "workflows" / "ci.yaml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs: {}\n")
    commit_all(repo, "adopter")
    return repo


def try_repo(hooks: tuple[Path, Path], adopter: Path) -> tuple[int, str]:
    """Every hook of the manifest on the staged files, with their output (--verbose). try-repo
    builds the hook environment anew on each call (~1 min): two calls in all."""
    repo, home = hooks
    result = run_unchecked(
        [PRE_COMMIT, "try-repo", str(repo), "--verbose", "--color=never"],
        adopter,
        env={"PRE_COMMIT_HOME": str(home), "GITOPS_VALIDATOR": "python"},
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.install
def test_on_a_clean_commit_both_hooks_pass_and_validate_sees_only_whole_objects(
    hooks_repo: tuple[Path, Path], adopter: Path
) -> None:
    """A commit touching a base, its kustomization, a prod patch and the CI workflow: gitops
    check renders and passes; gitops validate is given the base manifest alone (a patch and a
    kustomization are not objects, the workflow is not a manifest) and passes."""
    deployment = adopter / "base" / "web" / "deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace("requests: {cpu: 50m", "requests: {cpu: 60m")
    )
    kustomization = adopter / "base" / "web" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# reviewed\n")
    patch = adopter / "overlays" / "prod" / "web" / "replicas.yaml"
    patch.write_text(patch.read_text().replace("replicas: 3", "replicas: 4"))
    (adopter / ".github" / "workflows" / "ci.yaml").write_text("on: [push]\njobs: {}\n")
    git(adopter, "add", "-A")

    code, output = try_repo(hooks_repo, adopter)

    assert code == 0, output
    assert "2 overlays checked against Kubernetes 1.36: 0 error(s)" in output
    assert "1 documents, 0 invalid" in output


@pytest.mark.install
def test_a_mutable_tag_and_an_invalid_base_are_stopped_each_by_its_hook(
    hooks_repo: tuple[Path, Path], adopter: Path
) -> None:
    kustomization = adopter / "overlays" / "prod" / "web" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("newTag: 1.0.0", "newTag: latest"))
    deployment = adopter / "base" / "web" / "deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace("spec:\n  selector", "spec:\n  replicas: -2\n  selector", 1)
    )
    git(adopter, "add", "-A")

    code, output = try_repo(hooks_repo, adopter)

    assert code == 1, output
    check, validate = output.split("gitops validate", 1)
    assert "gitops check" in check and "Failed" in check
    assert (
        'image-tag-mutable  Deployment/web: container web: image "ghcr.io/acme/web:latest"' in check
    )
    assert "Failed" in validate
    assert "base/web/deployment.yaml:" in validate and "Deployment/web: spec.replicas" in validate
    assert "1 documents, 1 invalid" in validate


def test_the_manifest_follows_pre_commit_conventions() -> None:
    manifest = REPO_ROOT / ".pre-commit-hooks.yaml"
    validated = run_unchecked([PRE_COMMIT, "validate-manifest", str(manifest)], REPO_ROOT)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    hooks = {h["id"]: h for h in yaml.safe_load(manifest.read_text())}
    assert list(hooks) == ["gitops-check", "gitops-validate"]
    assert all(h["language"] == "python" and h["files"] for h in hooks.values())
    assert hooks["gitops-check"]["pass_filenames"] is False  # checks the whole repository
    assert hooks["gitops-validate"].get("pass_filenames", True) is True  # the staged files


@pytest.mark.parametrize(
    ("path", "check", "validate"),
    [
        ("base/web/deployment.yaml", True, True),
        ("base/web/kustomization.yaml", True, False),
        ("overlays/prod/web/replicas.yaml", True, False),
        ("overlays/prod/web/app.env", True, False),
        ("components/ha/pdb.yaml", True, False),
        ("argocd/appset.yaml", True, True),
        ("deploy/argocd/project.json", True, True),
        ("policy/waivers.yaml", True, False),
        ("gitops.yaml", True, False),
        (".github/workflows/ci.yaml", False, False),
        (".pre-commit-config.yaml", False, False),
        ("docs/base/notes.md", True, False),
    ],
)
def test_which_files_trigger_which_hook(path: str, check: bool, validate: bool) -> None:
    """pre-commit applies `files` and `exclude` with re.search on the repo-relative path."""
    hooks = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}

    def selects(hook: dict[str, str]) -> bool:
        return bool(re.search(hook["files"], path)) and not (
            "exclude" in hook and re.search(hook["exclude"], path)
        )

    assert selects(hooks["gitops-check"]) is check
    assert selects(hooks["gitops-validate"]) is validate


def test_validate_hook_on_a_commit_of_only_skipped_files_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A base's patch matches the hook's files pattern but is no object: validate skips it.
    The hook's entry, as declared, lets such a commit through; plain `gitops validate` given
    nothing else to validate is exit 2."""
    from gitops.cli import main

    repo = tmp_path / "adopter"
    shutil.copytree(FIXTURES / "adopter-repo", repo)
    patch = repo / "base" / "web" / "limits.yaml"
    patch.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - {name: web, resources: {limits: {cpu: 500m}}}\n"
    )
    kustomization = repo / "base" / "web" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "patches:\n  - path: limits.yaml\n")
    hooks = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["gitops-validate"]
    staged = "base/web/limits.yaml"
    assert re.search(hook["files"], staged) and not re.search(hook["exclude"], staged)
    program, *arguments = hook["entry"].split()
    assert program == "gitops"

    assert main([*arguments, "--repo", str(repo), str(patch)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"note: {patch}: a kustomize patch (validated as part of its kustomization's output), "
        "skipped",
        "0 documents, 1 file(s) skipped: nothing to validate (--allow-no-documents)",
    ]
    assert main(["validate", "--repo", str(repo), str(patch)]) == 2
    assert capsys.readouterr().err.startswith("error: no Kubernetes documents in ")
