"""The CLI contract on other people's repositories: global flags in either position, and
nothing found is exit 2 (never a green run that checked nothing)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
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


def test_the_no_cache_variable_still_reaches_a_command_that_renders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITOPS_NO_CACHE", "1")
    monkeypatch.setenv("GITOPS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["render", "--repo", OK]) == 0
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_validate_does_not_load_the_render_core(tmp_path: Path) -> None:
    # validate renders nothing: the upstream validator is started before the validation
    # modules load, and the render core's import would only delay that.
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    script = (
        "import sys, gitops.cli\n"
        f"code = gitops.cli.main(['validate', '--validator', 'python', {str(manifest)!r}])\n"
        "print(code, 'gitops.workspace' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.splitlines()[-1] == "0 False"


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


def test_validator_before_the_command_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --validator upstream for a version nobody built is refused by the command itself, so
    # the flag given before the name must have reached it.
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    argv = ["--validator", "upstream", "validate", "--k8s-version", "1.20", str(manifest)]
    assert main([*argv, "--repo", str(tmp_path)]) == 2
    assert (
        "--validator upstream: no gitops-validator built for Kubernetes 1.20"
        in capsys.readouterr().err
    )
