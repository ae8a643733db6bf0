"""README.md and docs/: every link resolves (files and #anchors, as GitHub slugs headings),
every page is reachable from the README's table, the README stays short, its install lines are
the ones tests/prerequisites.py prints, and its pull-request comment sample is what `make docs`
makes of this repository today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import docs_samples
from tests.conftest import REPO_ROOT
from tests.prerequisites import BY_KEY, Environment, Missing, install_command

README = REPO_ROOT / "README.md"
PAGES = sorted((REPO_ROOT / "docs").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.MULTILINE | re.DOTALL)


def _prose(text: str) -> str:
    """The text outside code fences: a link in a code block is no link."""
    return FENCE.sub("", text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation (backticks, colons, commas,
    parentheses, apostrophes...) dropped, each space a hyphen."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", _prose(path.read_text(encoding="utf-8")), re.M)
    return {github_slug(h) for h in headings}


def test_github_slugs_as_github_makes_them() -> None:
    assert github_slug("Release edits: `gitops set-image`, `gitops promote`, `gitops status`") == (
        "release-edits-gitops-set-image-gitops-promote-gitops-status"
    )
    assert github_slug("Secrets (never in git)") == "secrets-never-in-git"
    assert github_slug("The README's commands") == "the-readmes-commands"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(REPO_ROOT)}")
    assert not broken, broken


def test_every_docs_page_is_in_the_readmes_table_and_the_readme_stays_short() -> None:
    readme = README.read_text(encoding="utf-8")
    table = readme.split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)\)", table))
    assert linked == {p.relative_to(REPO_ROOT).as_posix() for p in PAGES}
    assert len(readme.splitlines()) <= 300


@pytest.mark.parametrize(
    ("command", "keys"),
    [("make check", ("python", "git")), ("make test", ("postgresql", "browser", "node"))],
)
def test_the_readmes_install_lines_are_the_prerequisite_checks_own(
    command: str, keys: tuple[str, ...]
) -> None:
    """The README's prerequisites table gives, per command, the Debian/Ubuntu and macOS
    commands that `make test` prints when those prerequisites are missing."""
    [row] = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"| `{command}` |")
    ]
    missing = [Missing(BY_KEY[key], "not found") for key in keys]
    debian = install_command(missing, Environment(system="debian", is_root=False))
    assert debian.startswith("sudo apt-get install -y ")
    assert f"`{debian.split(' (or sudo make deps)')[0]}`" in row
    ubuntu = install_command(missing, Environment(system="ubuntu", is_root=False))
    if ubuntu != debian:
        different = set(ubuntu.split()) - set(debian.split())
        assert all(name in row for name in different), (different, row)
    macos = install_command(missing, Environment(system="macos"))
    assert f"`{macos}`" in row


def test_the_pull_request_comment_sample_is_what_make_docs_makes() -> None:
    readme = README.read_text(encoding="utf-8")
    expected = docs_samples.readme_block(docs_samples.pr_comment())
    assert docs_samples.current_block(readme) == expected, (
        "README.md: the pull-request comment sample is stale: run make docs"
    )
