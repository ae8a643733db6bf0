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
    for component in build.all_components():
        folder = build.component_dir(component)
        folder.mkdir(parents=True)
        for binary in component.binaries:
            (folder / binary).write_text("#!/bin/sh\n")
            (folder / binary).chmod(0o755)
        (folder / ".complete").write_text(build.stamp(component))


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


def test_a_build_from_our_module_is_redone_when_its_sources_change(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_complete(build)
    validator = build.components("validator")[0]
    assert build.is_complete(validator)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.go").write_text("package main\n")
    edited = build.Component(
        validator.name, validator.version, validator.binaries, str(module), group="validator"
    )
    assert not build.is_complete(edited)  # same version, other sources
    assert build.stamp(edited) != build.stamp(validator)


def test_the_validator_is_its_own_group_with_its_own_make_target(
    build: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [c.name for c in build.components("validator")] == ["gitops-validator"]
    assert "gitops-validator" not in build.binary_paths()  # not a cluster-tools binary
    path = Path(build.binary_paths("validator")["gitops-validator"])
    folder = f"gitops-validator-{build.KUBERNETES_VERSION}"
    assert path.parent == tmp_path / "integration-gitops" / "validator" / folder
    assert build.main(["--group", "validator", "--check"]) == 1
    assert capsys.readouterr().out.strip() == (
        f"validator: not built yet: gitops-validator {build.KUBERNETES_VERSION} "
        "(run `make validator`)"
    )


def _requirements(go_mod: Path) -> dict[str, str]:
    """module -> version of every require and replace target line of a go.mod."""
    found: dict[str, str] = {}
    for line in go_mod.read_text().splitlines():
        words = line.split("//")[0].split()
        if len(words) == 2 and "." in words[0] and words[1].startswith("v"):
            found[words[0]] = words[1]
        elif len(words) == 4 and words[1] == "=>":
            found[f"{words[0]} =>"] = words[3]
    return found


def test_the_validator_builds_against_exactly_the_cluster_tiers_module_versions() -> None:
    """Same versions, module for module: the validator judges with the code kube-apiserver of
    the cluster tier runs, and both builds share Go's build cache."""
    root = Path(__file__).resolve().parents[3] / "tools"
    cluster = _requirements(root / "cluster" / "k8s" / "go.mod")
    validator = _requirements(root / "validator" / "go.mod")
    assert validator["k8s.io/kubernetes"] == cluster["k8s.io/kubernetes"]
    assert len([k for k in validator if k.endswith("=>")]) == 33
    different = {m: (v, cluster.get(m)) for m, v in validator.items() if cluster.get(m) != v}
    assert not different


def test_the_node_group_has_its_own_cache_and_every_binary_the_tier_starts(
    build: ModuleType, tmp_path: Path
) -> None:
    paths = build.binary_paths("node")
    wanted = {"kubelet", "kube-proxy", "containerd", "ctr", "containerd-shim-runc-v2", "runc"}
    wanted |= {"bridge", "host-local", "loopback", "portmap", "coredns", "kube-router", "pause"}
    assert set(paths) == wanted
    root = tmp_path / "integration-gitops" / "node-tools"
    assert Path(paths["kubelet"]).parent == root / f"kubernetes-node-{build.KUBERNETES_VERSION}"
    assert Path(paths["runc"]).parent == root / f"runc-{build.RUNC_VERSION}"
    assert "kubelet" not in build.binary_paths()  # not a cluster-tools binary
    node = {c.name: c for c in build.components("node")}
    # kubelet and kube-proxy come from the control plane's module: one build cache.
    assert node["kubernetes-node"].module_dir == build.components()[0].module_dir == "k8s"
    assert node["runc"].cgo and "seccomp" in node["runc"].tags
    assert "libpathrs" not in node["runc"].tags  # a Rust library Debian 12 lacks
    assert [c.name for c in build.components("node") if c.cgo] == ["runc"]


def test_tags_and_cgo_reach_the_go_command(
    build: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[str], str]] = []

    def fake_run(command: list[str], **kwargs: object) -> object:
        env: dict[str, str] = kwargs["env"]  # type: ignore[assignment]
        seen.append((command, env["CGO_ENABLED"]))
        binary = Path(env["GOBIN"]) / "runc"  # `go install` writes into GOBIN
        binary.write_text("")
        binary.chmod(0o755)
        return build.subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    runc = next(c for c in build.components("node") if c.name == "runc")
    build.build_component("go", runc, tmp_path / "log")
    command, cgo = seen[0]
    assert command[:2] == ["go", "install"] and cgo == "1"
    assert command[command.index("-tags") + 1] == "seccomp,urfave_cli_no_docs"
    assert command[-1] == f"github.com/opencontainers/runc@{build.RUNC_VERSION}"
    assert build.is_complete(runc)


def test_debian_packages_are_installed_only_when_missing(
    build: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []
    installed = set(build.DEBIAN_PACKAGES["node"]) - {"ipset"}

    def fake_run(command: list[str], **kwargs: object) -> object:
        calls.append(command)
        out = "".join(f"{name} installed\n" for name in command[4:] if name in installed)
        return build.subprocess.CompletedProcess(command, 0, out, "")

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    monkeypatch.setattr(build.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(build.os, "geteuid", lambda: 1000)
    assert build.main(["--group", "node", "--deps-only"]) == 1
    assert capsys.readouterr().err.strip() == (
        "node-tools: Debian packages missing; as root run: "
        "apt-get install -y -qq --no-install-recommends ipset"
    )
    monkeypatch.setattr(build.os, "geteuid", lambda: 0)
    calls.clear()
    assert build.main(["--group", "node", "--deps-only"]) == 0
    assert [c[:2] for c in calls] == [
        ["dpkg-query", "--show"],
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
    assert calls[-1][-1] == "ipset"
    installed.add("ipset")
    calls.clear()
    assert build.main(["--group", "node", "--deps-only"]) == 0
    assert [c[0] for c in calls] == ["dpkg-query"]  # all there: nothing installed


def test_helm_is_its_own_group_built_from_its_own_module_and_stamped(
    build: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """helm's go.mod has no replace directives: `go install helm.sh/helm/v4/cmd/helm@<v>`
    (no module of ours), with the version stamped as helm's Makefile stamps it."""
    (helm,) = build.components("helm")
    assert helm.module_dir is None
    assert helm.binaries == {"helm": "helm.sh/helm/v4/cmd/helm"}
    assert helm.ldflags == (f"-X 'helm.sh/helm/v4/internal/version.version={build.HELM_VERSION}'",)
    path = Path(build.binary_paths("helm")["helm"])
    assert path == tmp_path / "integration-gitops" / "helm" / f"helm-{build.HELM_VERSION}" / "helm"
    assert "helm" not in build.binary_paths()  # not a cluster-tools binary
    assert build.main(["--group", "helm", "--check"]) == 1
    assert capsys.readouterr().out.strip() == (
        f"helm: not built yet: helm {build.HELM_VERSION} (run `make helm`)"
    )
