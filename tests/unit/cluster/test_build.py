"""tools/cluster/build.py without building anything: cache layout, reuse, and the one-line
failure when Go is missing."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.cluster.harness import load_build_module


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return load_build_module()


def _fake_complete(build: ModuleType) -> None:
    for component in build.components():
        folder = build.component_dir(component)
        folder.mkdir(parents=True)
        for binary in component.binaries:
            (folder / binary).write_text("#!/bin/sh\n")
            (folder / binary).chmod(0o755)
        (folder / ".complete").write_text(component.version)


def test_cache_is_keyed_by_component_and_version_outside_the_repo(
    build: ModuleType, tmp_path: Path
) -> None:
    paths = build.binary_paths()
    assert set(paths) >= {
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
        "kwok",
        "kwokctl",
        "metrics-server",
    }
    root = tmp_path / "integration-gitops" / "cluster-tools"
    assert Path(paths["kube-apiserver"]).parent == root / f"kubernetes-{build.KUBERNETES_VERSION}"
    assert Path(paths["etcd"]).parent == root / f"etcd-{build.ETCD_VERSION}"


def test_missing_go_is_one_line_and_exit_2(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    monkeypatch.setattr(build, "GO_FALLBACKS", ())
    assert build.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("cluster-tools: Go is missing")
    assert not any("Traceback" in line for line in err)


def test_a_complete_cache_is_reused_without_go(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_complete(build)
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    monkeypatch.setattr(build, "GO_FALLBACKS", ())
    assert build.main([]) == 0
    err = capsys.readouterr().err
    assert err.count("reusing") == len(build.components())
    assert build.main(["--check"]) == 0


def test_check_names_what_is_not_built(
    build: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_complete(build)
    kube = build.component_dir(build.components()[0])
    os.remove(kube / ".complete")  # an interrupted build is not reused
    assert build.main(["--check"]) == 1
    out = capsys.readouterr().out.strip()
    assert out == (
        f"cluster-tools: not built yet: kubernetes {build.KUBERNETES_VERSION} "
        "(run `make cluster-tools`)"
    )
