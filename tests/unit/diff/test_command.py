"""``gitops.diff.command``: ``gitops diff`` options, output and exit codes."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.diff import DiffOptions, diff_command
from gitops.errors import GitopsError
from tests.unit.diff.scratch import (
    commit,
    overlay_kustomization,
    replicas_patch,
    workspace_of,
    write,
)


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


def test_a_change_that_breaks_a_render_exits_1_whatever_the_options(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    """README: exit 1 when "an overlay failed to render". The head side's failure is the
    change's; a failure the base side already had is not (and its fix is not either)."""
    broken = overlay_kustomization("replicas.yaml", resources=("missing.yaml",))
    write(scratch_repo, {"overlays/dev/web/kustomization.yaml": broken})
    out, err = io.StringIO(), io.StringIO()
    assert diff_command(workspace_of(scratch_repo), DiffOptions(base="HEAD"), out, err) == 1
    assert err.getvalue() == (
        "error: dev/web: does not render with this change: resource 'missing.yaml' listed in "
        "overlays/dev/web/kustomization.yaml does not exist (expected a file or a kustomization "
        "directory at overlays/dev/web/missing.yaml)\n"
    )
    assert "=== dev/web: render error on head" in out.getvalue()
    commit(scratch_repo, "break dev/web")
    # Broken on both sides (another change elsewhere): not this change's doing.
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(7)})
    err = io.StringIO()
    assert (
        diff_command(workspace_of(scratch_repo), DiffOptions(base="HEAD"), io.StringIO(), err) == 0
    )
    assert err.getvalue() == ""
    # The fix of a broken render is not a failure either.
    write(
        scratch_repo,
        {"overlays/dev/web/kustomization.yaml": overlay_kustomization("replicas.yaml")},
    )
    assert diff_command(workspace_of(scratch_repo), DiffOptions(base="HEAD"), io.StringIO()) == 0


def test_a_new_overlay_that_does_not_render_breaks_the_change(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(scratch_repo, {"overlays/dev/api/kustomization.yaml": "resources: [nope.yaml]\n"})
    untouched()
    err = io.StringIO()
    assert (
        diff_command(workspace_of(scratch_repo), DiffOptions(base="HEAD"), io.StringIO(), err) == 1
    )
    assert err.getvalue().startswith("error: dev/api: does not render with this change: ")
