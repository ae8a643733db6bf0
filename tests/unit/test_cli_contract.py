"""The CLI contract on other people's repositories: global flags in either position, and
nothing found is exit 2 (never a green run that checked nothing)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from gitops.cli import main
from tests.conftest import FIXTURES

OK = str(FIXTURES / "render-ok")
EMPTY = str(FIXTURES / "empty-layout")


@pytest.mark.parametrize(
    "argv",
    [
        ["--repo", OK, "render", "--env", "prod"],
        ["render", "--repo", OK, "--env", "prod"],
    ],
)
def test_repo_flag_works_before_and_after_the_subcommand(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Run from an empty folder: ignoring --repo would render nothing and fail.
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    assert "# Source: overlays/prod/web" in capsys.readouterr().out


def test_repo_before_check_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    layouts = str(FIXTURES / "discovery-layouts")
    assert main(["--repo", layouts, "check", "--format", "json"]) == 0
    assert '"overlays": 2' in capsys.readouterr().out


def test_debug_before_the_subcommand_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUSTOMIZE", "/nonexistent/kustomize")
    from gitops.errors import ToolNotFoundError

    with pytest.raises(ToolNotFoundError):
        main(["--debug", "render", "--repo", OK])


def test_no_cache_before_the_subcommand(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITOPS_NO_CACHE", "")
    monkeypatch.setenv("GITOPS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["--no-cache", "--repo", OK, "render"]) == 0
    # The option travels as an argument (the Workspace's cache), never through the environment.
    assert os.environ["GITOPS_NO_CACHE"] == ""
    assert not list((tmp_path / "cache").rglob("*.json"))


@pytest.mark.parametrize("command", ["check", "render"])
def test_nothing_found_is_exit_2_naming_the_expected_layout(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--repo", EMPTY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no overlays found in ")
    assert "overlays/<env>/<service>/kustomization.yaml" in err
    assert len(err.splitlines()) == 1


def test_validate_folder_without_kubernetes_documents_is_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", str(Path(EMPTY) / "manifests")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no Kubernetes documents in ")
    assert "Traceback" not in err


def test_validate_binary_stdin_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"))
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["validate", "-", "--repo", OK]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "-: binary data (a NUL byte), expected UTF-8 YAML or JSON text"
    assert "internal error" not in err


def test_non_ascii_input_on_an_ascii_terminal_is_escaped_not_a_crash(tmp_path: Path) -> None:
    import subprocess
    import sys

    manifest = tmp_path / "cafe.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: café}\n", "utf-8")
    gitops = str(Path(sys.executable).with_name("gitops"))
    done = subprocess.run(
        [gitops, "validate", str(manifest)],
        capture_output=True,
        text=True,
        encoding="ascii",
        errors="strict",
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        check=False,
    )
    assert done.returncode == 1
    assert "metadata.name: 'caf\\xe9' is not a DNS-1123 subdomain" in done.stdout
    assert done.stderr == ""
