from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from gitops.errors import CommandError
from gitops.runner import Command, CommandResult
from tests.e2e import preflight
from tests.e2e.harness.tools import find_kubectl, find_toolchain
from tests.e2e.harness.versions import pinned_versions


def _which(available: set[str]):  # type: ignore[no-untyped-def]
    def which(name: str, env: Mapping[str, str]) -> str | None:
        return f"/usr/bin/{name}" if name in available else None

    return which


def _runner(engine_up: bool):  # type: ignore[no-untyped-def]
    def run(command: Command) -> CommandResult:
        if command.argv[1:] == ("info",) and not engine_up:
            raise CommandError(f"{command.quoted()} exited 1: Cannot connect to the Docker daemon")
        return CommandResult(command, 0, "", "")

    return run


def _toolchain(available: set[str], engine_up: bool = True, tmp: Path | None = None):  # type: ignore[no-untyped-def]
    return find_toolchain(
        {"PATH": "/usr/bin"},
        _which(available),
        _runner(engine_up),
        venv_scripts=tmp or Path("/nonexistent"),
    )


def test_complete_toolchain_passes(capsys: pytest.CaptureFixture[str]) -> None:
    toolchain = _toolchain({"docker", "kind", "kubectl"})
    assert toolchain.missing_message() is None
    assert preflight.main([], toolchain) == 0
    assert "e2e preflight ok: docker" in capsys.readouterr().out


def test_missing_kind_is_one_message_naming_it_and_how_to_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preflight.main([], _toolchain({"docker", "kubectl"})) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the e2e suite needs docker (or podman), kind and kubectl; missing: kind\n"
    )
    # the one pin, tests/e2e/versions.yaml (the hint once said v0.29.0 while CI ran v0.32.0)
    kind = pinned_versions().kind
    assert f"install kind {kind}: `go install sigs.k8s.io/kind@{kind}`" in err
    assert "Traceback" not in err
    assert err.count("error:") == 1


def test_everything_missing_is_listed_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main([], _toolchain(set())) == 2
    err = capsys.readouterr().err
    assert "missing: container engine, kind, kubectl" in err
    assert "neither docker nor podman on PATH" in err
    assert "https://docs.docker.com/engine/install/" in err
    assert "make setup" in err


def test_docker_without_a_running_engine_is_reported() -> None:
    message = _toolchain({"docker", "kind", "kubectl"}, engine_up=False).missing_message()
    assert message is not None
    assert "docker is installed but `docker info` failed" in message


def test_podman_is_accepted_instead_of_docker() -> None:
    toolchain = _toolchain({"podman", "kind", "kubectl"})
    assert toolchain.missing_message() is None
    assert toolchain.engine is not None and toolchain.engine.name == "podman"


def test_kubectl_falls_back_to_the_venv(tmp_path: Path) -> None:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text("#!/bin/sh\n")
    kubectl.chmod(0o755)
    assert find_kubectl({"PATH": ""}, _which(set()), tmp_path) == str(kubectl)
    assert find_kubectl({"PATH": ""}, _which({"kubectl"}), tmp_path) == "/usr/bin/kubectl"


def test_module_runs_as_a_script_without_traceback() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.preflight"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/nonexistent", "KUBECTL": "/nonexistent/kubectl"},
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "missing: container engine, kind" in result.stderr
