"""``gitops.diff.command``: ``gitops diff`` options, output and exit codes."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.diff import DiffOptions, diff_command
from gitops.errors import GitopsError
from tests.unit.diff.scratch import replicas_patch, workspace_of, write


def test_cli_entry_exit_codes(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(7)})
    untouched()
    out = io.StringIO()
    options = DiffOptions(base="HEAD", format="json")
    assert diff_command(workspace_of(scratch_repo), options, out) == 0
    assert json.loads(out.getvalue())["rendered"]["head"] == ["prod/web"]
    assert (
        diff_command(
            workspace_of(scratch_repo), DiffOptions(base="HEAD", exit_code=True), io.StringIO()
        )
        == 1
    )
    assert (
        diff_command(
            workspace_of(scratch_repo),
            DiffOptions(base="HEAD~0", head="HEAD", exit_code=True),
            io.StringIO(),
        )
        == 0
    )
    with pytest.raises(GitopsError) as error:
        diff_command(workspace_of(scratch_repo), DiffOptions(base="nope"), io.StringIO())
    assert error.value.exit_code == 2


def test_cli_diff_exit_codes(
    scratch_repo: Path, untouched: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(8)})
    untouched()
    assert main(["diff", "--repo", str(scratch_repo), "--base", "HEAD", "--exit-code"]) == 1
    assert "=== prod/web: changed Deployment/web" in capsys.readouterr().out
    assert main(["diff", "--repo", str(scratch_repo), "--base", "nope"]) == 2
    assert "unknown git ref 'nope'" in capsys.readouterr().err
