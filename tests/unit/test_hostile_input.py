"""Hostile and large input stays bounded: alias bombs, kustomize memory, one timeout, capped
errors. Peak memory is measured by `make bench` (tools/bench/bench_hostile.py), not here.
`gitops render` of the bomb under a 1536 MiB limit (exit 1, one line naming the limit) is a case
of tests/fixtures/hostile-input/expected.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.cli import main
from gitops.config import load_config
from gitops.errors import CommandError
from gitops.kustomize import Kustomize
from gitops.render import RenderedOverlay
from gitops.runner import Command, CommandResult, Runner
from gitops.schema import MAX_ERRORS_PER_DOCUMENT, SchemaValidator
from gitops.workspace import Workspace
from gitops.yamlio import read_documents
from tests.conftest import FIXTURES

HOSTILE = FIXTURES / "hostile-input"


def _traced_render(runner: Runner) -> RenderedOverlay:
    """The first overlay of the hostile repo, traced, through ``runner`` (one overlay: no
    batch)."""
    kustomize = Kustomize("/bin/kubectl", "t")
    workspace = Workspace.open(
        HOSTILE, load_config(HOSTILE), kustomize=kustomize, use_cache=False, runner=runner
    )
    (result,) = workspace.render(workspace.layout().overlays[:1])
    return result


BOMB = HOSTILE / "overlays" / "dev" / "bomb" / "bomb.yaml"


def test_alias_bomb_is_refused_before_construction() -> None:
    loaded = read_documents(BOMB.read_text(), "bomb.yaml")
    assert loaded.documents == ()
    (error,) = loaded.errors
    assert error.startswith("bomb.yaml:2: document 0 is refused: its aliases expand 38 YAML nodes")
    assert "490,329,074" in error


def test_anchors_within_the_limit_still_load() -> None:
    text = "a: &x {k: v}\nb: *x\nc: {<<: *x, extra: 1}\n"
    (document,) = read_documents(text, "ok.yaml").documents
    assert document.body == {"a": {"k": "v"}, "b": {"k": "v"}, "c": {"k": "v", "extra": 1}}


def test_recursive_alias_is_refused() -> None:
    loaded = read_documents("a: &a [*a]\n", "-")
    assert loaded.errors == (
        "-:1: document 0 is refused: an alias refers to a node that contains it (recursive alias)",
    )


def test_validate_on_the_bomb_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BOMB)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "is refused: its aliases expand" in out[0]
    # validate reads the target version from the repository it runs in (this one).
    version = load_config(Path.cwd()).kubernetes_version
    assert out[-1] == (
        f"0 documents, 0 invalid, 1 unreadable or unparseable input(s) (Kubernetes {version})"
    )


def test_memory_limit_reaches_every_kustomize_command() -> None:
    seen: list[Command] = []

    def fake(command: Command) -> CommandResult:
        seen.append(command)
        return CommandResult(command, 0, "kind: ConfigMap\n", "")

    _traced_render(fake)
    assert [c.memory_limit for c in seen] == [3072 * 2**20]


def test_a_timed_out_traced_render_is_not_retried() -> None:
    seen: list[Command] = []

    def fake(command: Command) -> CommandResult:
        seen.append(command)
        raise CommandError(f"{command.quoted()} timed out after {command.timeout:g}s")

    result = _traced_render(fake)
    assert len(seen) == 1  # was 2: every timeout doubled
    assert result.error == (
        "kustomize timed out after 120s (kustomize.timeoutSeconds in gitops.yaml, --render-timeout)"
    )


def test_a_failed_traced_render_is_retried_within_the_same_budget() -> None:
    seen: list[Command] = []

    def fake(command: Command) -> CommandResult:
        seen.append(command)
        raise CommandError(f"{command.quoted()} exited 1: Error: boom")

    result = _traced_render(fake)
    assert len(seen) == 2
    assert seen[1].argv[2] == result.overlay.rel_path
    assert seen[1].timeout <= 120.0 and seen[0].timeout == 120.0
    assert result.error == "Error: boom"


def test_render_timeout_flag_overrides_the_config(tmp_path: Path) -> None:
    assert main(["--render-timeout", "0", "render", "--repo", str(HOSTILE)]) == 2


def test_errors_per_document_are_capped() -> None:
    validator = SchemaValidator("1.33")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "many"},
        "data": {f"k{i}": i for i in range(500)},
    }
    messages = validator.validate(body)
    assert len(messages) == MAX_ERRORS_PER_DOCUMENT + 1
    assert messages[-1] == "(more errors not shown: at most 100 per document)"
