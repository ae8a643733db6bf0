#!/usr/bin/env python3
"""Build the upstream Go components from Go modules: the cluster test tier's control plane
(`make cluster-tools`), gitops' upstream validator (`make validator`, tools/validator) and the
pinned helm that renders charts (`make helm`).

Every binary is built from the Go module proxy at a pinned version into a cache outside the
repository, one folder per component and version, under one folder per group:

    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/cluster-tools/<component>-<version>/
    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/validator/<component>-<version>/
    ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/helm/<component>-<version>/

A folder that holds every binary of its component (and the `.complete` stamp written last) is
reused as is; anything else is rebuilt. Go's own module and build caches (GOMODCACHE, GOCACHE)
are used unchanged and shared by every build, so a rebuild after a version bump only compiles
what changed, and the validator compiles little once kube-apiserver is built (and vice versa).

    python3 tools/cluster/build.py                    build the cluster group, print progress
    python3 tools/cluster/build.py --group validator  build the validator instead
    python3 tools/cluster/build.py --group helm       build helm instead
    python3 tools/cluster/build.py --json             the same, then print {"binary": "path"}
    python3 tools/cluster/build.py --check            exit 1 (one line) when something is missing

Exit codes: 0 built or reused; 1 a build failed or (--check) a binary is missing; 2 no Go.
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


# Group -> the cache folder its components live in and the make target that builds it.
GROUPS = {
    "cluster": ("cluster-tools", "cluster-tools"),
    "validator": ("validator", "validator"),
    "helm": ("helm", "helm"),
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


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    # Static binaries like upstream's release builds; no VCS stamping (we build from modules).
    env["CGO_ENABLED"] = "0"
    env.setdefault("GOFLAGS", "-buildvcs=false")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def build_component(go: str, component: Component, log: Path) -> None:
    target = component_dir(component)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{component.name}-", dir=target.parent))
    try:
        ldflags = " ".join(("-s", "-w", *component.ldflags))
        for binary, package in component.binaries.items():
            started = time.monotonic()
            _progress(f"  building {binary} ({package}) ...")
            if component.module_dir is not None:
                command = [
                    go,
                    "build",
                    "-trimpath",
                    "-ldflags",
                    ldflags,
                    "-o",
                    str(staging / binary),
                ]
                command.append(package)
                cwd: Path | None = HERE / component.module_dir
            else:
                command = [go, "install", "-trimpath", "-ldflags", ldflags]
                command.append(f"{package}@{component.version}")
                cwd = None
            env = _go_env()
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


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print binary paths as JSON")
    parser.add_argument("--check", action="store_true", help="only check that all are built")
    parser.add_argument("--group", choices=sorted(GROUPS), default="cluster", help="what to build")
    args = parser.parse_args(argv)

    label, target = GROUPS[args.group][0], GROUPS[args.group][1]
    missing = [c for c in components(args.group) if not is_complete(c)]
    if args.check:
        if missing:
            names = ", ".join(f"{c.name} {c.version}" for c in missing)
            print(f"{label}: not built yet: {names} (run `make {target}`)")
            return 1
    else:
        for component in components(args.group):
            if component not in missing:
                _progress(
                    f"{label}: {component.name} {component.version}: reusing "
                    f"{component_dir(component)}"
                )
        try:
            _build_all(missing, label)
        except BuildError as error:
            print(error, file=sys.stderr)
            return 2 if "Go is missing" in str(error) or "need Go" in str(error) else 1
    if args.json:
        print(json.dumps(binary_paths(args.group), indent=2))
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
