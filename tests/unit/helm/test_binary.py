"""``gitops.helm.binary``: which helm renders charts ($HELM, kustomize.helmCommand, the pinned
build), and the one line when there is none."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gitops.config import KustomizeSettings, RepoConfig
from gitops.helm.binary import (
    PINNED_VERSION,
    Helm,
    HelmNotFoundError,
    find_helm,
    missing_helm,
    pinned_helm,
)
from tests.cluster.harness import load_build_module


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\necho v4.0.0\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _pinned(cache: Path, complete: bool = True) -> Path:
    binary = cache / "integration-gitops" / "helm" / f"helm-{PINNED_VERSION}" / "helm"
    binary.parent.mkdir(parents=True)
    _executable(binary)
    if complete:
        (binary.parent / ".complete").write_text(PINNED_VERSION + "\n")
    return binary


def test_helm_env_wins_over_gitops_yaml_and_the_pinned_build(tmp_path: Path) -> None:
    pinned = _pinned(tmp_path / "cache")
    configured = _executable(tmp_path / "configured-helm")
    chosen = _executable(tmp_path / "my-helm")
    config = RepoConfig(kustomize=KustomizeSettings(helm_command=str(configured)))
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert find_helm(config, str(chosen), environ) == Helm(str(chosen.resolve()), "$HELM")
    assert find_helm(config, None, environ) == Helm(
        str(configured.resolve()), "kustomize.helmCommand in gitops.yaml"
    )
    found = find_helm(RepoConfig(), None, environ)
    assert found is not None and found.binary == str(pinned)
    assert found.describe() == f"{pinned} (from pinned {PINNED_VERSION}, make helm)"


def test_an_unfinished_build_or_nothing_at_all_is_no_helm(tmp_path: Path) -> None:
    assert find_helm(RepoConfig(), None, {"XDG_CACHE_HOME": str(tmp_path)}) is None
    _pinned(tmp_path, complete=False)  # an interrupted build is not used
    assert find_helm(RepoConfig(), None, {"XDG_CACHE_HOME": str(tmp_path)}) is None


def test_a_configured_helm_that_is_not_there_is_an_error_at_once(tmp_path: Path) -> None:
    config = RepoConfig(kustomize=KustomizeSettings(helm_command="/nope/helm"))
    with pytest.raises(HelmNotFoundError, match=r"'/nope/helm' \(set by kustomize.helmCommand"):
        find_helm(config, None, {"XDG_CACHE_HOME": str(tmp_path)})
    with pytest.raises(HelmNotFoundError, match=r"'no-such-helm' \(set by \$HELM\)"):
        find_helm(RepoConfig(), "no-such-helm", {"XDG_CACHE_HOME": str(tmp_path)})


def test_no_helm_is_one_line_naming_the_unit_and_how_to_get_one() -> None:
    error = missing_helm("overlays/dev/web", "helmCharts (kustomize --enable-helm)")
    assert error.exit_code == 2
    assert str(error) == (
        "overlays/dev/web: helmCharts (kustomize --enable-helm) needs helm, and no helm binary "
        "was found: run `make helm` (builds the pinned helm from Go modules; needs Go >= 1.26), "
        "or set HELM=/path/to/helm or kustomize.helmCommand in gitops.yaml"
    )


def test_gitops_looks_for_the_helm_the_build_script_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build = load_build_module()
    assert build.HELM_VERSION == PINNED_VERSION
    assert build.binary_paths("helm")["helm"] == str(pinned_helm())
