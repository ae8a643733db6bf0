"""``gitops.cli_parser``: the grammar a user meets. Each command's --help lists only the
shared flags it reads, worded for it; a mistyped command, choice or option gets a suggestion
and exit 2; a shared flag given before a command that does not read it is refused, not
ignored. The module loads no other gitops module, so --help and `validate` start light."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from gitops.cli_parser import build_parser, parse_arguments
from tests.conftest import FIXTURES

OK = str(FIXTURES / "render-ok")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(build_parser(), [*argv, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", help_text, flags=re.MULTILINE))


SHARED = {"--repo", "--debug"}
RENDERING = {"--no-cache", "--render-timeout", "--render-memory"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("render", SHARED | RENDERING | {"--env", "--service", "--out", "--list"}),
        ("validate", SHARED | {"--validator", "--k8s-version", "--allow-no-documents"}),
        ("apps", SHARED | RENDERING | {"--format"}),
        ("status", SHARED | RENDERING | {"--format", "--differing", "--env"}),
        (
            "check",
            SHARED
            | RENDERING
            | {"--validator", "--env", "--service", "--format", "--k8s-version", "--output"},
        ),
    ],
)
def test_each_command_lists_only_the_options_it_reads(
    command: str, expected: set[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _options(_help(capsys, command)) == expected | {"--help"}


def test_shared_options_are_worded_for_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    def no_cache(command: str) -> str:
        text = " ".join(_help(capsys, command).split())
        return text.split("--no-cache ", 1)[1].split(" (also GITOPS_NO_CACHE=1)", 1)[0]

    assert (
        no_cache("check")
        == "render every selected overlay again instead of reusing unchanged renders"
    )
    assert no_cache("apps") == "render argocd/ again instead of reusing unchanged renders"
    assert (
        no_cache("diff")
        == "render the overlays of both sides again instead of reusing unchanged renders"
    )
    # joined as wrapped: "kube-" ends a line before "apiserver"
    validate = re.sub(r"-\s+", "-", " ".join(_help(capsys, "validate").split()))
    assert "who judges the documents given: upstream is kube-apiserver's own code" in validate
    assert "render" not in validate.split("shared options", 1)[1]


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (
            ["check", "--fromat", "json"],
            "usage: gitops check ",
            "gitops check: error: unrecognized arguments: --fromat json; did you mean --format?",
        ),
        (
            ["--repo", OK, "diff", "--exitcode"],
            "usage: gitops diff ",
            "gitops diff: error: unrecognized argument: --exitcode; did you mean --exit-code?",
        ),
        (
            ["chek"],
            "usage: gitops ",
            "gitops: error: argument COMMAND: invalid choice: 'chek'; did you mean check? "
            "(choose from 'render', 'check', 'validate', 'diff', 'probe', 'apps', 'set-image', "
            "'promote', 'status', 'images', 'simulate')",
        ),
        (
            ["check", "--format", "jsn"],
            "usage: gitops check ",
            "gitops check: error: argument --format: invalid choice: 'jsn'; did you mean json? "
            "(choose from 'text', 'json', 'sarif', 'junit', 'github')",
        ),
        (
            ["check", "--wat"],
            "usage: gitops check ",
            "gitops check: error: unrecognized argument: --wat",
        ),
    ],
)
def test_a_mistyped_flag_or_command_gets_a_suggestion_and_exit_2(
    argv: list[str], usage: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(build_parser(), argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert err.splitlines()[-1] == message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--no-cache", "validate", "x.yaml"],
            "--no-cache does not apply to validate: it renders nothing",
        ),
        (
            ["--render-timeout", "5", "validate", "-"],
            "--render-timeout does not apply to validate: it renders nothing",
        ),
        (
            ["--validator", "python", "status"],
            "--validator does not apply to status: it judges nothing",
        ),
    ],
)
def test_a_shared_option_before_a_command_that_does_not_read_it_is_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(build_parser(), argv)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: {message}")


def test_the_grammar_loads_no_other_gitops_module() -> None:
    # Every `gitops` run builds the parser first: a gitops import here would delay --help and
    # `validate` (whose upstream validator starts before the validation modules load).
    script = (
        "import sys, gitops.cli_parser\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gitops'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "['gitops', 'gitops.cli_parser']"
