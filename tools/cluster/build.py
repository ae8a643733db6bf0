#!/usr/bin/env python3
"""Build the upstream Go components from Go modules: the cluster test tier's control plane
(`make cluster-tools`), the node tier's kubelet, kube-proxy, container runtime, CNI plugins and
cluster DNS (`make node-tools`), gitops' upstream validator (`make validator`, tools/validator)
and the pinned helm that renders charts (`make helm`).

Every binary is built from the Go module proxy at a pinned version into a cache outside the
repository, one folder per component and version, under one folder per group:

    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/cluster-tools/<component>-<version>/
    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/node-tools/<component>-<version>/
    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/validator/<component>-<version>/
    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/helm/<component>-<version>/

A folder that holds every binary of its component (and the `.complete` stamp written last) is
reused as is; anything else is rebuilt. Go's own module and build caches (GOMODCACHE, GOCACHE)
are used unchanged and shared by every build, so a rebuild after a version bump only compiles
what changed, and the validator compiles little once kube-apiserver is built (and vice versa).

    python3 tools/cluster/build.py                    build the cluster group, print progress
    python3 tools/cluster/build.py --group validator  build the validator instead
    python3 tools/cluster/build.py --group node --install-deps
                                                      the node tier's tools, after installing
                                                      the Debian packages it needs (as root)
    python3 tools/cluster/build.py --group helm       build helm instead
    python3 tools/cluster/build.py --json             the same, then print {"binary": "path"}
    python3 tools/cluster/build.py --check            exit 1 (one line) when something is missing

Exit codes: 0 built or reused; 1 a build failed, (--check) a binary is missing or a Debian
package could not be installed; 2 no Go.
Only the standard library is used: this runs before (and without) the project's .venv.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The repo's target minor is 1.36 (gitops.yaml kubernetesVersion); k8s.io/kubernetes v1.36.3 is
# its newest patch on the module proxy when this was pinned. kwok v0.8.0 is the first release
# that defaults to Kubernetes 1.36 (kwok pkg/consts: k8s 1.36.1, etcd 3.6.10); etcd v3.6.16 is
# the newest 3.6 patch; metrics-server v0.9.0 is built against k8s.io libraries v0.36.2.
KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
METRICS_SERVER_VERSION = "v0.9.0"
# The node tier (each the newest release on the module proxy when pinned): containerd 2.4 is
# the line that supports Kubernetes 1.36 (containerd RELEASES.md), runc 1.5 the runc it is
# tested with; CNI plugins v1.10.0 needs Go 1.26.8 (its go.mod); kube-router v2.1.0 is the only
# v2 release the module proxy serves here (its network-policy controller; docs/node-tier.md).
CONTAINERD_VERSION = "v2.4.2"
RUNC_VERSION = "v1.5.3"
CNI_PLUGINS_VERSION = "v1.10.0"
COREDNS_VERSION = "v1.15.0"
KUBE_ROUTER_VERSION = "v2.1.0"
PAUSE_VERSION = "v1.0.0"  # ours: tools/cluster/pause
# helm renders the charts gitops reads (kustomize's helmCharts, Argo CD chart sources). v4.3.2 is
# the newest v4 release on the module proxy when this was pinned; kustomize v5.8 accepts helm 3
# and 4 (api/internal/builtins/HelmChartInflationGenerator.go checkHelmVersion). Its go.mod has
# no replace directives, so it builds with `go install` from its own module.
HELM_VERSION = "v4.3.2"
MIN_GO = (1, 26)
# Where Go's official tarball installs it, for shells whose PATH lacks it.
GO_FALLBACKS = (Path("/usr/local/go/bin/go"),)


def _kube_version_ldflags(version: str) -> list[str]:
    """What k/k hack/lib/version.sh stamps: unstamped binaries report v0.0.0-master and kwokctl
    (which picks flags by `kube-apiserver --version`) would treat them as the newest release."""
    major, minor = version.lstrip("v").split(".")[:2]
    values = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": _build_date(),
    }
    flags = []
    for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        flags += [f"-X '{package}.{key}={value}'" for key, value in values.items()]
    return flags


def _build_date() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Component:
    """One upstream project: its binaries and how each is built.

    ``module_dir`` set: `go build` inside our wrapper module tools/cluster/<module_dir> (pinned by
    its committed go.mod/go.sum). Unset: `go install <package>@<version>` in module mode, which
    uses the project's own go.mod (allowed because it has no replace directives)."""

    name: str
    version: str
    binaries: dict[str, str]  # binary name -> Go package
    module_dir: str | None = None
    ldflags: tuple[str, ...] = field(default_factory=tuple)
    group: str = "cluster"
    tags: tuple[str, ...] = ()  # Go build tags
    cgo: bool = False  # upstream builds it with cgo (runc: libseccomp)


# Group -> the cache folder its components live in and the make target that builds it.
GROUPS = {
    "cluster": ("cluster-tools", "cluster-tools"),
    "node": ("node-tools", "node-tools"),
    "validator": ("validator", "validator"),
    "helm": ("helm", "helm"),
}
# Debian packages a group needs on the build machine, with why (`--install-deps` installs the
# missing ones; the node tier's runtime and image tools are here so one step installs all).
DEBIAN_PACKAGES: dict[str, dict[str, str]] = {
    "node": {
        "gcc": "runc is built with cgo",
        "libc6-dev": "runc is built with cgo",
        "libseccomp-dev": "runc's seccomp support (cgo, libseccomp)",
        "pkg-config": "runc's cgo flags for libseccomp",
        "iptables": "kube-proxy (iptables mode), the kubelet and the CNI bridge's masquerading",
        "conntrack": "kube-proxy clears stale conntrack entries with it",
        "ipset": "kube-router's network-policy controller",
        "nftables": "the node tier's leftover check lists (and removes) nf_tables tables",
        "mmdebstrap": "the Debian base image of `make images`",
        "buildah": "builds the images from our Dockerfiles without a daemon",
    },
}


def components(group: str = "cluster") -> tuple[Component, ...]:
    return tuple(c for c in all_components() if c.group == group)


def all_components() -> tuple[Component, ...]:
    kube = tuple(_kube_version_ldflags(KUBERNETES_VERSION))
    return (
        Component(
            "kubernetes",
            KUBERNETES_VERSION,
            {
                name: f"k8s.io/kubernetes/cmd/{name}"
                for name in (
                    "kube-apiserver",
                    "kube-controller-manager",
                    "kube-scheduler",
                    "kubectl",
                )
            },
            module_dir="k8s",
            ldflags=kube,
        ),
        # etcd's version is a constant of its api module (go.etcd.io/etcd/api/v3/version).
        Component("etcd", ETCD_VERSION, {"etcd": "."}, module_dir="etcd"),
        # kwok's version is a constant per tag (sigs.k8s.io/kwok/pkg/consts).
        Component(
            "kwok",
            KWOK_VERSION,
            {"kwok": "sigs.k8s.io/kwok/cmd/kwok", "kwokctl": "sigs.k8s.io/kwok/cmd/kwokctl"},
        ),
        # metrics-server's Makefile stamps client-go's gitVersion the same way.
        Component(
            "metrics-server",
            METRICS_SERVER_VERSION,
            {"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
            ldflags=(f"-X 'k8s.io/client-go/pkg/version.gitVersion={METRICS_SERVER_VERSION}'",),
        ),
        *_node_components(kube),
        # gitops' upstream validator: our main over k8s.io/kubernetes' registry, in its own
        # module whose requirements equal tools/cluster/k8s's (the build cache is shared). Its
        # version is the Kubernetes release it judges as; gitops finds it by that folder name.
        Component(
            "gitops-validator",
            KUBERNETES_VERSION,
            {"gitops-validator": "."},
            module_dir="../validator",
            group="validator",
        ),
        # helm's Makefile stamps its version the same way (LDFLAGS += -X .../version.version);
        # unstamped, `helm version` says "v4.3" and kustomize's version check reads that.
        Component(
            "helm",
            HELM_VERSION,
            {"helm": "helm.sh/helm/v4/cmd/helm"},
            ldflags=(f"-X 'helm.sh/helm/v4/internal/version.version={HELM_VERSION}'",),
            group="helm",
        ),
    )


def _node_components(kube: tuple[str, ...]) -> tuple[Component, ...]:
    containerd = "github.com/containerd/containerd/v2"
    cni = "github.com/containernetworking/plugins"
    return (
        # The same wrapper module (and so the same build cache) as the control plane.
        Component(
            "kubernetes-node",
            KUBERNETES_VERSION,
            {name: f"k8s.io/kubernetes/cmd/{name}" for name in ("kubelet", "kube-proxy")},
            module_dir="k8s",
            ldflags=kube,
            group="node",
        ),
        # containerd's Makefile: the version is stamped into version.Version, docs generation
        # is left out by `urfave_cli_no_docs`; the shim gets `no_grpc` too (SHIM_GO_TAGS).
        Component(
            "containerd",
            CONTAINERD_VERSION,
            {name: f"{containerd}/cmd/{name}" for name in ("containerd", "ctr")},
            ldflags=(f"-X '{containerd}/version.Version={CONTAINERD_VERSION}'",),
            group="node",
            tags=("urfave_cli_no_docs",),
        ),
        Component(
            "containerd-shim",
            CONTAINERD_VERSION,
            {"containerd-shim-runc-v2": f"{containerd}/cmd/containerd-shim-runc-v2"},
            ldflags=(f"-X '{containerd}/version.Version={CONTAINERD_VERSION}'",),
            group="node",
            tags=("urfave_cli_no_docs", "no_grpc"),
        ),
        # runc's Makefile adds `libpathrs` to the default tags: a Rust library Debian 12 lacks.
        Component(
            "runc",
            RUNC_VERSION,
            {"runc": "github.com/opencontainers/runc"},
            group="node",
            tags=("seccomp", "urfave_cli_no_docs"),
            cgo=True,
        ),
        Component(
            "cni-plugins",
            CNI_PLUGINS_VERSION,
            {
                "bridge": f"{cni}/plugins/main/bridge",
                "loopback": f"{cni}/plugins/main/loopback",
                "host-local": f"{cni}/plugins/ipam/host-local",
                "portmap": f"{cni}/plugins/meta/portmap",
            },
            ldflags=(f"-X '{cni}/pkg/utils/buildversion.BuildVersion={CNI_PLUGINS_VERSION}'",),
            group="node",
        ),
        Component(
            "coredns",
            COREDNS_VERSION,
            {"coredns": "github.com/coredns/coredns"},
            group="node",
        ),
        Component(
            "kube-router",
            KUBE_ROUTER_VERSION,
            {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
            ldflags=(
                "-X 'github.com/cloudnativelabs/kube-router/v2/pkg/version.Version="
                f"{KUBE_ROUTER_VERSION}'",
            ),
            group="node",
        ),
        Component("pause", PAUSE_VERSION, {"pause": "."}, module_dir="pause", group="node"),
    )


def cache_root(group: str = "cluster") -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integration-gitops" / GROUPS[group][0]


def component_dir(component: Component) -> Path:
    return cache_root(component.group) / f"{component.name}-{component.version}"


def stamp(component: Component) -> str:
    """What `.complete` records: the version, and for a component built through a module of
    ours, a digest of that module's files (go.mod, go.sum, our Go sources), so an edit to them
    rebuilds it although the version is the same."""
    lines = [component.version]
    if component.module_dir is not None:
        digest = hashlib.sha256()
        folder = (HERE / component.module_dir).resolve()
        for path in sorted(folder.iterdir()):
            if path.name in ("go.mod", "go.sum") or path.suffix == ".go":
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        lines.append(f"sources {digest.hexdigest()}")
    return "\n".join(lines) + "\n"


def is_complete(component: Component) -> bool:
    folder = component_dir(component)
    marker = folder / ".complete"
    return (
        marker.is_file()
        and marker.read_text() == stamp(component)
        and all(os.access(folder / binary, os.X_OK) for binary in component.binaries)
    )


def binary_paths(group: str = "cluster") -> dict[str, str]:
    return {
        binary: str(component_dir(component) / binary)
        for component in components(group)
        for binary in component.binaries
    }


class BuildError(Exception):
    """A step failed: the message is the one line to print."""


def find_go(label: str = "cluster-tools") -> str:
    go = shutil.which("go") or next((str(p) for p in GO_FALLBACKS if os.access(p, os.X_OK)), None)
    if go is None:
        raise BuildError(
            f"{label}: Go is missing: install Go >= "
            f"{'.'.join(map(str, MIN_GO))} (https://go.dev/dl) and put `go` on PATH"
        )
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    raw = out.stdout.strip().removeprefix("go")
    try:
        found = tuple(int(part) for part in raw.split(".")[:2])
    except ValueError:
        found = (0, 0)
    if found < MIN_GO:
        raise BuildError(
            f"{label}: {go} is Go {raw or '?'}; the pinned modules need Go >= "
            f"{'.'.join(map(str, MIN_GO))}"
        )
    return go


def _go_env(cgo: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    # Static binaries like upstream's release builds (cgo only where upstream needs it); no
    # VCS stamping (we build from modules).
    env["CGO_ENABLED"] = "1" if cgo else "0"
    env.setdefault("GOFLAGS", "-buildvcs=false")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def build_component(go: str, component: Component, log: Path) -> None:
    target = component_dir(component)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{component.name}-", dir=target.parent))
    try:
        ldflags = " ".join(("-s", "-w", *component.ldflags))
        tags = ("-tags", ",".join(component.tags)) if component.tags else ()
        for binary, package in component.binaries.items():
            started = time.monotonic()
            _progress(f"  building {binary} ({package}) ...")
            if component.module_dir is not None:
                command = [
                    go,
                    "build",
                    "-trimpath",
                    *tags,
                    "-ldflags",
                    ldflags,
                    "-o",
                    str(staging / binary),
                ]
                command.append(package)
                cwd: Path | None = HERE / component.module_dir
            else:
                command = [go, "install", "-trimpath", *tags, "-ldflags", ldflags]
                command.append(f"{package}@{component.version}")
                cwd = None
            env = _go_env(component.cgo)
            if component.module_dir is None:
                env["GOBIN"] = str(staging)
            with log.open("a") as sink:
                sink.write(f"$ {' '.join(command)}\n")
                sink.flush()
                done = subprocess.run(command, cwd=cwd, env=env, stdout=sink, stderr=sink)
            if done.returncode != 0:
                text = log.read_text() if log.is_file() else ""
                tail = text.strip().splitlines()[-1:] or ["?"]
                raise BuildError(
                    f"{component.name}: building {binary} {component.version} failed "
                    f"(exit {done.returncode}): {tail[0]} (full log: {log})"
                )
            _progress(f"  built {binary} in {time.monotonic() - started:.0f}s")
        (staging / ".complete").write_text(stamp(component))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def missing_debian_packages(group: str) -> list[str]:
    """The group's Debian packages that dpkg does not list as installed."""
    wanted = list(DEBIAN_PACKAGES.get(group, {}))
    if not wanted or shutil.which("dpkg-query") is None:
        return []
    done = subprocess.run(
        ["dpkg-query", "--show", "--showformat", "${Package} ${db:Status-Status}\n", *wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0].split(":")[0]
        for line in done.stdout.splitlines()
        if line.endswith(" installed")
    }
    return [name for name in wanted if name not in installed]


def install_debian_packages(group: str, label: str) -> None:
    """apt-get install the group's missing packages (idempotent: nothing runs when all are
    there). Needs root; otherwise one line naming the command to run."""
    missing = missing_debian_packages(group)
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        raise BuildError(f"{label}: Debian packages missing; as root run: {' '.join(command)}")
    _progress(f"{label}: installing Debian packages {' '.join(missing)} ...")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], command):
        done = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["?"]
            raise BuildError(f"{label}: `{' '.join(step)}` failed: {tail[0]}")
    _progress(f"{label}: Debian packages installed in {time.monotonic() - started:.0f}s")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print binary paths as JSON")
    parser.add_argument("--check", action="store_true", help="only check that all are built")
    parser.add_argument("--group", choices=sorted(GROUPS), default="cluster", help="what to build")
    parser.add_argument(
        "--install-deps",
        action="store_true",
        help="first install the Debian packages the group needs (as root; idempotent)",
    )
    parser.add_argument(
        "--deps-only", action="store_true", help="with --install-deps: install, build nothing"
    )
    parser.add_argument(
        "--only", action="append", metavar="COMPONENT", help="only this component (repeatable)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    label, target = GROUPS[args.group][0], GROUPS[args.group][1]
    chosen = [c for c in components(args.group) if not args.only or c.name in args.only]
    unknown = sorted(set(args.only or ()) - {c.name for c in chosen})
    if unknown:
        known = ", ".join(c.name for c in components(args.group))
        print(f"{label}: no component {', '.join(unknown)} (known: {known})", file=sys.stderr)
        return 1
    missing = [c for c in chosen if not is_complete(c)]
    if args.check:
        if missing:
            names = ", ".join(f"{c.name} {c.version}" for c in missing)
            print(f"{label}: not built yet: {names} (run `make {target}`)")
            return 1
    else:
        code = _install_and_build(args, chosen, missing, label)
        if code != 0 or args.deps_only:
            return code
    if args.json:
        print(json.dumps(binary_paths(args.group), indent=2))
    return 0


def _install_and_build(
    args: argparse.Namespace, chosen: list[Component], missing: list[Component], label: str
) -> int:
    try:
        if args.install_deps or args.deps_only:
            install_debian_packages(args.group, label)
        if args.deps_only:
            return 0
        for component in chosen:
            if component not in missing:
                _progress(
                    f"{label}: {component.name} {component.version}: reusing "
                    f"{component_dir(component)}"
                )
        _build_all(missing, label)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 2 if "Go is missing" in str(error) or "need Go" in str(error) else 1
    return 0


def _build_all(missing: list[Component], label: str) -> None:
    go = find_go(label) if missing else ""
    for index, component in enumerate(missing, 1):
        log = cache_root(component.group) / "build.log"
        _progress(
            f"{label}: [{index}/{len(missing)}] {component.name} "
            f"{component.version} -> {component_dir(component)} (log: {log})"
        )
        started = time.monotonic()
        build_component(go, component, log)
        _progress(
            f"{label}: {component.name} {component.version} done in "
            f"{time.monotonic() - started:.0f}s"
        )


if __name__ == "__main__":
    sys.exit(main())
