"""Every command in README.md's shell blocks runs, as the README gives it, and exits as it says.

The README's `sh` blocks are read like a doctest of shell snippets: each command (a line, or
lines joined by a trailing backslash; comments skipped) runs with bash in a throwaway copy of
this checkout (a git repository of its own, one commit on `main`, this checkout's `.venv`
linked in and first on PATH, as after `source .venv/bin/activate`), block after block in the
README's order, and must exit 0, or N when its line ends with a `# exit N` comment. A block
that must not run here says why on the line before it, in a comment GitHub does not show:
`<!-- readme-test: skip: REASON -->`. Any other shell-like block (bash, console...), an
unlabelled one or a skip without a reason fails: nothing in the README escapes the test
unnoticed. docs/testing.md describes the convention.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.adoption.checkout import GIT_IDENTITY, commit_all, copy_checkout
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh", "shell-session"}
SKIP = re.compile(r"^<!-- readme-test: skip: (?P<reason>.*\S.*?) -->$")
EXIT = re.compile(r"#\s*exit (\d+)\b")
TIMEOUT = 600


class ReadmeBlockError(ValueError):
    """A code block the test cannot classify: named with its line."""


@dataclass(frozen=True)
class Command:
    line: int  # of README.md, 1-based
    text: str
    exit_code: int = 0


@dataclass(frozen=True)
class ShellBlock:
    line: int  # the opening fence's
    commands: tuple[Command, ...]
    skip_reason: str | None = None


def shell_blocks(markdown: str) -> list[ShellBlock]:
    """Every `sh` block, with its commands and its skip reason; a ReadmeBlockError for a fence
    without a language, a shell block in another language, or a skip marker without a reason
    or a block after it."""
    lines = markdown.splitlines()
    blocks: list[ShellBlock] = []
    index = 0
    while index < len(lines):
        fence = re.match(r"^(```|~~~)(\S*)", lines[index])
        if fence is None:
            _check_marker(lines, index)
            index += 1
            continue
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].startswith(fence.group(1))),
            len(lines),
        )
        language = fence.group(2)
        if not language:
            raise ReadmeBlockError(
                f"README.md:{index + 1}: a code block without a language (sh runs in the "
                "README test; text, yaml... do not)"
            )
        if language in SHELL_LANGUAGES and language != "sh":
            raise ReadmeBlockError(f"README.md:{index + 1}: shell blocks are `sh`, not {language}")
        if language == "sh":
            marker = SKIP.match(lines[index - 1]) if index else None
            blocks.append(
                ShellBlock(
                    index + 1,
                    tuple(_commands(lines[index + 1 : end], index + 2)),
                    marker.group("reason") if marker else None,
                )
            )
        index = end + 1
    return blocks


def _check_marker(lines: list[str], index: int) -> None:
    """A skip marker says why, and stands right before the `sh` block it skips."""
    if not lines[index].startswith("<!-- readme-test:"):
        return
    if not SKIP.match(lines[index]):
        raise ReadmeBlockError(f"README.md:{index + 1}: expected {SKIP.pattern}")
    if index + 1 >= len(lines) or lines[index + 1] != "```sh":
        raise ReadmeBlockError(f"README.md:{index + 1}: a skip marker not followed by a sh block")


def _commands(body: list[str], first_line: int) -> Iterator[Command]:
    pending: list[str] = []
    start = first_line
    for number, raw in enumerate(body, first_line):
        text = raw.strip()
        if not pending:
            start = number
            if not text or text.startswith("#"):
                continue
        if text.endswith("\\"):
            pending.append(text[:-1].rstrip())
            continue
        command = " ".join([*pending, text])
        pending = []
        expected = EXIT.search(command)
        yield Command(start, command, int(expected.group(1)) if expected else 0)


def test_the_parser_reads_commands_exit_codes_and_skips() -> None:
    markdown = "\n".join(
        [
            "```sh",
            "make check   # a comment",
            "# a comment line",
            "gitops diff --exit-code \\",
            "  --base main   # exit 1: differences",
            "```",
            "<!-- readme-test: skip: installs packages -->",
            "```sh",
            "make deps",
            "```",
            "```yaml",
            "key: value",
            "```",
        ]
    )
    assert shell_blocks(markdown) == [
        ShellBlock(
            1,
            (
                Command(2, "make check   # a comment"),
                Command(4, "gitops diff --exit-code --base main   # exit 1: differences", 1),
            ),
        ),
        ShellBlock(8, (Command(9, "make deps"),), "installs packages"),
    ]


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("```\nmake check\n```", "a code block without a language"),
        ("```bash\nmake check\n```", "shell blocks are `sh`, not bash"),
        ("<!-- readme-test: skip: -->\n```sh\nmake deps\n```", "expected"),
        ("<!-- readme-test: skip: a reason -->\n\n```sh\nmake deps\n```", "not followed"),
    ],
)
def test_a_block_the_test_cannot_classify_is_an_error(markdown: str, message: str) -> None:
    with pytest.raises(ReadmeBlockError, match=message):
        shell_blocks(markdown)


BLOCKS = shell_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_commands_to_run_and_says_why_it_skips_the_others() -> None:
    ran = [c.text for b in BLOCKS if b.skip_reason is None for c in b.commands]
    assert "make check   # render, validate and policy-check every overlay and Argo CD app" in ran
    assert any(c.startswith("gitops diff") for c in ran)
    skipped = {c.text.split("#")[0].strip(): b.skip_reason for b in BLOCKS if b.skip_reason
               for c in b.commands}  # fmt: skip
    assert set(skipped) == {"make test", "make ci", "git push -u origin release-healthz"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout to run the README in: its edits and commits stay there."""
    repo = copy_checkout(tmp_path_factory.mktemp("readme") / "integration-gitops")
    commit_all(repo, "the checkout, as the README's reader has it")
    (repo / ".venv").symlink_to(REPO_ROOT / ".venv")
    # make rebuilds .venv when pyproject.toml is newer than its stamp: in this copy that would
    # install the copy into the checkout's venv. The copy keeps the files' times, so make
    # decides as it would in the checkout; refuse to go on if it would rebuild there too.
    stale = subprocess.run(
        ["make", "-q", ".venv/.installed"], cwd=repo, capture_output=True, timeout=60
    )
    assert stale.returncode == 0, ".venv is older than pyproject.toml: run make setup first"
    return repo


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.skip_reason is None],
    ids=lambda b: f"README.md:{b.line}",
)
def test_every_command_of_the_readme_runs_as_documented(block: ShellBlock, scratch: Path) -> None:
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "PATH": f"{scratch / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("PYTHONPATH", None)
    for command in block.commands:
        done = subprocess.run(
            ["bash", "-c", command.text],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == command.exit_code, (
            f"README.md:{command.line}: {command.text!r} exited {done.returncode}, "
            f"expected {command.exit_code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
