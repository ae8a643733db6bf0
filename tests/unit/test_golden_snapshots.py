"""Golden snapshots: every report format of ``check`` (and the annotations of a fixture whose
findings an overlay caused), ``diff`` and ``simulate`` (a scenario file and ``drain``), byte for
byte.

Each output comes from a fixed fixture and is compared with its file under
``tests/snapshots/``; only what truly varies between machines is normalised (the checkout's
absolute path, the scratch repo's commit SHAs, the package version). A change shows as a
unified diff; when it is intended, ``make snapshots`` (``pytest --update-snapshots``) rewrites
the files, and the diff of the commit is the review.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from gitops import __version__
from tests.fixturelib import FIXTURES, REPO_ROOT, TESTS, commit, git, run_cli

SNAPSHOTS = TESTS / "snapshots"
CHECK_FIXTURE = FIXTURES / "check-pipeline"  # errors, a warning, patches, a failed render
WAIVER_FIXTURE = FIXTURES / "waivers"  # waived, expired and unused waivers
RELEASE_FIXTURE = FIXTURES / "release-edits"  # three envs: the base of the diff scenario
# prod's inline patch, patch file and images: entry set the values three findings are about
LOCATIONS_FIXTURE = FIXTURES / "finding-locations"
# An inline HPA with behavior policies: the scenario needs no repository.
SCENARIO = REPO_ROOT / "examples" / "simulate" / "behavior-ramp.yaml"


def assert_snapshot(name: str, text: str, update: bool) -> None:
    path = SNAPSHOTS / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.is_file():
        pytest.fail(f"tests/snapshots/{name} is missing: run `make snapshots` and review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"tests/snapshots/{name}",
            "current output",
        )
        pytest.fail(
            f"output differs from tests/snapshots/{name} (intended? run `make snapshots`):\n"
            + "".join(diff),
            pytrace=False,
        )


def normalise(text: str, repo: Path) -> str:
    text = text.replace(repo.resolve().as_uri(), "file://<repo>")
    text = text.replace(str(repo.resolve()), "<repo>").replace(str(repo), "<repo>")
    return text.replace(f'"version": "{__version__}"', '"version": "<version>"')


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_check_report_formats(fmt: str, update_snapshots: bool) -> None:
    code, out, err = run_cli(["check", "--repo", str(CHECK_FIXTURE), "--format", fmt])
    assert (code, err) == (1, "")
    suffix = {"text": "txt", "sarif": "sarif.json", "junit": "xml", "github": "txt"}.get(fmt, fmt)
    name = f"check-{fmt}.{suffix}" if fmt != "text" else "check-text.txt"
    assert_snapshot(name, normalise(out, CHECK_FIXTURE), update_snapshots)


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_check_annotations_on_the_line_an_overlay_set(fmt: str, update_snapshots: bool) -> None:
    code, out, err = run_cli(["check", "--repo", str(LOCATIONS_FIXTURE), "--format", fmt])
    assert (code, err) == (1, "")
    suffix = "sarif.json" if fmt == "sarif" else "txt"
    assert_snapshot(
        f"check-locations-{fmt}.{suffix}", normalise(out, LOCATIONS_FIXTURE), update_snapshots
    )


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_report_with_waivers(fmt: str, update_snapshots: bool) -> None:
    code, out, _err = run_cli(["check", "--repo", str(WAIVER_FIXTURE), "--format", fmt])
    assert code == 1
    name = f"check-waivers-{fmt}.{'txt' if fmt == 'text' else fmt}"
    assert_snapshot(name, normalise(out, WAIVER_FIXTURE), update_snapshots)


# The head commit of the diff scenario, one edit per env: a generated Secret in dev (its values
# are masked), a mutable tag in staging and prod api down to one replica (each a new finding).
HEAD_EDITS = {
    "overlays/staging/web/kustomization.yaml": ("newTag: 1.1.0", "newTag: latest"),
    "overlays/prod/api/replicas.yaml": ("replicas: 3", "replicas: 1"),
    "overlays/dev/api/kustomization.yaml": (
        "resources:",
        "secretGenerator:\n  - name: api-token\n    literals: [TOKEN=do-not-print-me]\nresources:",
    ),
}


@pytest.fixture(scope="module")
def diff_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """release-edits committed twice, (repo, {sha: placeholder}) for the normalisation."""
    repo = tmp_path_factory.mktemp("golden") / "repo"
    shutil.copytree(RELEASE_FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "base")
    for rel, (old, new) in HEAD_EDITS.items():
        path = repo / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{rel}: the scenario expects {old!r} in the fixture"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    commit(repo, "head")
    shas: dict[str, str] = {}
    for ref, label in (("HEAD~1", "<base-sha>"), ("HEAD", "<head-sha>")):
        full = git(repo, "rev-parse", ref).strip()
        shas[full] = label
        for length in (12, 7):
            shas.setdefault(full[:length], label)
    return repo, shas


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diff_formats(
    fmt: str, diff_repo: tuple[Path, dict[str, str]], update_snapshots: bool
) -> None:
    repo, shas = diff_repo
    argv = ["diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--format", fmt]
    code, out, err = run_cli(argv)
    assert (code, err) == (0, "")
    assert "do-not-print-me" not in out
    for sha, label in shas.items():
        out = out.replace(sha, label)
    suffix = {"text": "txt", "markdown": "md"}.get(fmt, fmt)
    assert_snapshot(f"diff-{fmt}.{suffix}", normalise(out, repo), update_snapshots)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_simulate_drain_formats(fmt: str, update_snapshots: bool) -> None:
    argv = ["simulate", "drain", "--repo", str(RELEASE_FIXTURE), "--env", "prod", "--format", fmt]
    code, out, err = run_cli(argv)
    assert (code, err) == (0, "")
    suffix = {"text": "txt", "markdown": "md"}.get(fmt, fmt)
    name = f"simulate-drain-{fmt}.{suffix}"
    assert_snapshot(name, normalise(out, RELEASE_FIXTURE), update_snapshots)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_simulate_scenario_formats(fmt: str, update_snapshots: bool) -> None:
    code, out, err = run_cli(["simulate", str(SCENARIO), "--format", fmt])
    assert (code, err) == (0, "")
    suffix = {"text": "txt", "markdown": "md"}.get(fmt, fmt)
    name = f"simulate-scenario-{fmt}.{suffix}"
    assert_snapshot(name, normalise(out, REPO_ROOT), update_snapshots)
