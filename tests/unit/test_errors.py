"""``gitops.errors``: the documented exit codes, and one line (no traceback) for each error."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.cli import main
from gitops.errors import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandError,
    ConfigError,
    GitopsError,
    ToolNotFoundError,
)


def test_exit_codes_are_the_documented_ones() -> None:
    assert (EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE) == (0, 1, 2)
    for error in (GitopsError, ConfigError, ToolNotFoundError, CommandError):
        assert issubclass(error, GitopsError)
        assert error("x").exit_code == EXIT_USAGE


def test_an_error_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gitops.yaml").write_text("envs: prod\n")  # not a list: a ConfigError
    assert main(["check", "--repo", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "gitops.yaml" in err and "Traceback" not in err
