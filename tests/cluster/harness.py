"""A KWOK cluster of upstream components on loopback, for the cluster test tier.

`kwokctl create cluster --runtime binary` starts etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok-controller and metrics-server as local processes from the binaries that
`make cluster-tools` built (tools/cluster/build.py): nothing is downloaded, every verdict comes
from upstream code. kwokctl (not a process starter of ours) because it already does what a real
cluster needs: PKI, kubeconfig, the metrics-server APIService, the component flags per version.

What is ours:
- the kwokctl configuration (local binaries only, bind to 127.0.0.1, admission and RBAC on,
  short HPA sync period);
- the KWOK Stages: upstream's default node and pod stages, read at run time from the kwok
  module source in the Go module cache (never copied into this repo), with one change: the
  pod-ready stage waits for the duration in the pod annotation ``READY_DELAY_ANNOTATION`` so a
  test can give pods a readiness delay (rollouts, drains);
- the metrics-server manifests kwokctl reduces to RBAC + APIService: upstream's kustomize base
  from the metrics-server module source, built by our kubectl (kwokctl's default fetches them
  from GitHub);
- three Nodes in three zones, labelled like a real cloud cluster's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "tools" / "cluster" / "build.py"
DEFAULT_NAME = "gitops-cluster"
ZONES = ("zone-a", "zone-b", "zone-c")
NODE_NAMES = tuple(f"kwok-node-{zone[-1]}" for zone in ZONES)
READY_DELAY_ANNOTATION = "pod-ready.stage.kwok.x-k8s.io/delay"
# KCM flags: the HPA loop every 5 s instead of 15 s keeps the HPA test within a minute or two;
# everything else keeps upstream's defaults.
CONTROLLER_MANAGER_ARGS = {"horizontal-pod-autoscaler-sync-period": "5s"}
# metrics-server: scrape every 10 s (its minimum; kwokctl passes 15 s) so the HPA sees a load
# change and a new pod's first CPU sample sooner; the request timeout must stay below 90 % of
# the resolution (metrics-server's options validation).
METRICS_SERVER_ARGS = {"metric-resolution": "10s", "kubelet-request-timeout": "5s"}


class ClusterError(Exception):
    """Starting or stopping the cluster failed: the message is one line for the user."""


def load_build_module() -> ModuleType:
    """tools/cluster/build.py: the single source of the component versions and binary paths."""
    spec = importlib.util.spec_from_file_location("cluster_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cluster_build", module)
    spec.loader.exec_module(module)
    return module


def built_binaries() -> dict[str, Path]:
    build = load_build_module()
    missing = [c for c in build.components() if not build.is_complete(c)]
    if missing:
        names = ", ".join(f"{c.name} {c.version}" for c in missing)
        raise ClusterError(f"cluster tools not built: {names}: run `make cluster-tools`")
    return {name: Path(path) for name, path in build.binary_paths().items()}


def module_source(module: str, version: str) -> Path:
    """The extracted source of a Go module (already in the module cache after the build)."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    done = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"},
        cwd=BUILD_SCRIPT.parent,
    )
    if done.returncode != 0:
        raise ClusterError(f"go mod download {module}@{version} failed: {done.stderr.strip()}")
    return Path(json.loads(done.stdout)["Dir"])


def _documents(folder: Path) -> list[dict[str, Any]]:
    """The resources a kustomize folder lists (plain files only, as upstream's stage folders)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((folder / name).read_text()) if d)
    return docs


def kwok_stages(kwok_dir: Path) -> list[dict[str, Any]]:
    """Upstream's default stage set (what kwokctl writes when given none), with the delayed
    pod-ready. kwokctl writes no default stage once the config holds any Stage, so the whole
    set is passed."""
    stages = _documents(kwok_dir / "kustomize" / "stage" / "node" / "fast")
    stages += _documents(kwok_dir / "kustomize" / "stage" / "node" / "heartbeat-with-lease")
    for stage in _documents(kwok_dir / "kustomize" / "stage" / "pod" / "fast"):
        if stage["metadata"]["name"] == "pod-ready":
            # A pod without the annotation is Ready at once, as with the default stage.
            stage["spec"]["delay"] = {
                "durationMilliseconds": 0,
                "durationFrom": {
                    "expressionFrom": f'.metadata.annotations["{READY_DELAY_ANNOTATION}"]'
                },
            }
        stages.append(stage)
    names = {s["metadata"]["name"] for s in stages}
    expected = {"node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-delete"}
    if not expected <= names:
        raise ClusterError(f"kwok stage set incomplete in {kwok_dir}: {sorted(names)}")
    return stages


def node_manifest(name: str, zone: str, taints: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    """A Node as a cloud provider would register it: hostname, zone and region labels.
    No addresses: kwok's node-initialize stage sets Hostname ``localhost`` and the kubelet port
    to kwok's own, which is where metrics-server then scrapes the emulated resource metrics.
    ``taints`` keep pods off it unless they tolerate them (the node tier's simulated pool)."""
    capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    spec: dict[str, Any] = {"taints": [dict(t) for t in taints]} if taints else {}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": "region-1",
                "type": "kwok",
            },
            "annotations": {
                "kwok.x-k8s.io/node": "fake",
                # metrics-server >= 0.7 reads the resource-metrics path from this annotation.
                "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource",
            },
        },
        "spec": spec,
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def _merged_patches(
    extra: tuple[dict[str, Any], ...], *patches: dict[str, Any]
) -> list[dict[str, Any]]:
    """kwokctl's componentsPatches, one entry per component: ``extra``'s extraArgs are added
    to those of the same component."""
    merged: dict[str, dict[str, Any]] = {}
    for patch in (*patches, *extra):
        entry = merged.setdefault(patch["name"], {"name": patch["name"], "extraArgs": []})
        entry["extraArgs"] = [*entry["extraArgs"], *patch.get("extraArgs", [])]
    return list(merged.values())


@dataclass(frozen=True)
class KwokCluster:
    name: str
    workdir: Path  # KWOK_WORKDIR: kwokctl's state, logs, PKI; never the user's ~/.kwok
    # More componentsPatches (the node tier's), their extraArgs added to the ones below.
    extra_patches: tuple[dict[str, Any], ...] = ()
    # The KWOK nodes (name, zone) and the taints they carry.
    kwok_nodes: tuple[tuple[str, str], ...] = tuple(zip(NODE_NAMES, ZONES, strict=True))
    node_taints: tuple[dict[str, str], ...] = ()

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / "clusters" / self.name

    @property
    def kubeconfig(self) -> Path:
        return self.cluster_dir / "kubeconfig.yaml"

    @property
    def logs_dir(self) -> Path:
        return self.cluster_dir / "logs"

    @property
    def config_file(self) -> Path:
        return self.workdir / f"{self.name}-kwokctl.yaml"

    def exists(self) -> bool:
        return self.kubeconfig.is_file()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KWOK_WORKDIR"] = str(self.workdir)
        env.pop("KWOK_RUNTIME", None)
        return env

    def _kwokctl(self, binaries: dict[str, Path], *args: str, timeout: float) -> str:
        command = [str(binaries["kwokctl"]), *args]
        try:
            done = subprocess.run(
                command,
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise ClusterError(
                f"kwokctl {args[0]} {args[1]} timed out after {timeout:.0f}s"
            ) from error
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            raise ClusterError(f"kwokctl {' '.join(args[:2])} failed: {' | '.join(last)}")
        return done.stdout

    def write_config(self, binaries: dict[str, Path]) -> Path:
        build = load_build_module()
        kwok_dir = module_source("sigs.k8s.io/kwok", build.KWOK_VERSION)
        metrics_dir = module_source("sigs.k8s.io/metrics-server", build.METRICS_SERVER_VERSION)
        options = {
            "runtime": "binary",
            "bindAddress": "127.0.0.1",
            "kubeApiserverBinary": str(binaries["kube-apiserver"]),
            "kubeControllerManagerBinary": str(binaries["kube-controller-manager"]),
            "kubeSchedulerBinary": str(binaries["kube-scheduler"]),
            "kubectlBinary": str(binaries["kubectl"]),
            "etcdBinary": str(binaries["etcd"]),
            "kwokControllerBinary": str(binaries["kwok"]),
            "metricsServerBinary": str(binaries["metrics-server"]),
            "metricsServerManifests": [str(metrics_dir / "manifests" / "base")],
            "enable": ["metrics-server"],
            "kubeAuthorization": True,
            "kubeAdmission": True,
            "cacheDir": str(self.workdir / "cache"),
        }
        config: dict[str, Any] = {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": options,
            "componentsPatches": _merged_patches(
                self.extra_patches,
                {
                    "name": "kube-controller-manager",
                    "extraArgs": [
                        {"key": key, "value": value}
                        for key, value in CONTROLLER_MANAGER_ARGS.items()
                    ],
                },
                {
                    "name": "metrics-server",
                    "extraArgs": [
                        {"key": key, "value": value} for key, value in METRICS_SERVER_ARGS.items()
                    ],
                },
            ),
        }
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump_all([config, *kwok_stages(kwok_dir)]))
        return self.config_file

    def create(self, timeout: float = 240.0) -> None:
        binaries = built_binaries()
        config = self.write_config(binaries)
        started = time.monotonic()
        self._kwokctl(
            binaries,
            "create",
            "cluster",
            "--name",
            self.name,
            "--config",
            str(config),
            # kwokctl adds a context to this kubeconfig: a file of ours, not ~/.kube/config.
            "--kubeconfig",
            str(self.workdir / "contexts.kubeconfig"),
            "--wait",
            f"{int(timeout)}s",
            timeout=timeout + 30,
        )
        self.add_nodes(timeout=max(30.0, timeout - (time.monotonic() - started)))
        self.wait_metrics_api(binaries, timeout=120)

    def wait_metrics_api(self, binaries: dict[str, Path], timeout: float) -> None:
        """kwokctl's binary runtime starts every component at once and restarts none;
        metrics-server exits when the API server is not serving yet (a loaded machine). `kwokctl
        start cluster` starts whichever component is not running, so call it until the metrics
        API is Available."""
        from kubernetes import client, config

        api_client = config.new_client_from_config(str(self.kubeconfig))  # type: ignore[no-untyped-call]
        api = client.ApiregistrationV1Api(api_client)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._kwokctl(binaries, "start", "cluster", "--name", self.name, timeout=60)
            for _ in range(20):
                service = api.read_api_service("v1beta1.metrics.k8s.io")
                conditions = service.status.conditions or [] if service.status else []
                if any(c.type == "Available" and c.status == "True" for c in conditions):
                    return
                time.sleep(1)
        raise ClusterError(
            f"metrics API not Available within {timeout:.0f}s (logs: {self.logs_dir})"
        )

    def delete(self) -> None:
        if not self.cluster_dir.exists():
            return
        binaries = built_binaries()
        self._kwokctl(
            binaries,
            "delete",
            "cluster",
            "--name",
            self.name,
            "--kubeconfig",
            str(self.workdir / "contexts.kubeconfig"),
            timeout=120,
        )

    def copy_logs(self, destination: Path) -> Path:
        destination.mkdir(parents=True, exist_ok=True)
        if self.logs_dir.is_dir():
            for log in self.logs_dir.iterdir():
                shutil.copy2(log, destination / log.name)
        if self.config_file.is_file():
            shutil.copy2(self.config_file, destination / self.config_file.name)
        return destination

    def add_nodes(self, timeout: float) -> None:
        from kubernetes import client, config

        api_client = config.new_client_from_config(str(self.kubeconfig))  # type: ignore[no-untyped-call]
        api = client.CoreV1Api(api_client)
        for name, zone in self.kwok_nodes:
            try:
                body: Any = node_manifest(name, zone, self.node_taints)  # sent as it is
                api.create_node(body)
            except client.ApiException as error:
                if error.status != 409:
                    raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            nodes = api.list_node().items
            ready = [
                n.metadata.name
                for n in nodes
                if n.metadata is not None
                and n.status is not None
                and any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
            ]
            if {name for name, _ in self.kwok_nodes} <= set(ready):
                return
            time.sleep(1)
        raise ClusterError(f"KWOK nodes not Ready within {timeout:.0f}s (logs: {self.logs_dir})")
