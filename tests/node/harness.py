"""The node test tier's cluster: the cluster tier's upstream control plane (kwokctl, binary
runtime) plus real nodes on this machine, each a containerd, a kubelet and a CNI bridge,
sharing one kube-proxy, one CoreDNS and one kube-router network-policy controller.

    tier = NodeTier(workdir, "gitops-node")
    tier.up()            # control plane, nodes Ready, images imported, DNS and proxy serving
    ...                  # tier.kubeconfig, tier.nodes_file (for GITOPS_E2E_BACKEND=node)
    leftovers = tier.down()   # [] when the host is as it was before up()

What is configured here and why (measured: ../shared/REAL-NODE-FACTS.md):

* the control plane as the cluster tier starts it (tests/cluster/harness.py), and: the API
  server listens on every address and advertises the host's (pods reach it through the
  `kubernetes` Service), uses the admin certificate as its kubelet client (kubelets refuse
  anonymous requests) and dials kubelets by InternalIP; Services get 10.96.0.0/16, apart from
  the pod range 10.244.0.0/16 and from KWOK's simulated pod IPs (10.0.0.0/24);
* kwok manages only the nodes annotated ``kwok.x-k8s.io/node=fake`` (kwokctl passes
  ``--manage-all-nodes=true``, which would take the real nodes over): one KWOK node, tainted,
  is the simulated pool for what cannot run here (Airbyte's images), placed there by a
  MutatingAdmissionPolicy, never by editing a manifest;
* the node tools of `make node-tools` and the images of `make images` (imported into every
  node's containerd; the sandbox image is our pause).

Teardown (:meth:`NodeTier.down`) runs also after a failed ``up``: the real nodes are cordoned
and their pods force-deleted so each kubelet tears its sandboxes down through CNI, every
process is stopped, kube-proxy and kube-router remove their rules, and hoststate.restore()
removes whatever else the run added; the return value is hoststate's diff against the
snapshot taken before ``up``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.harness import KwokCluster, built_binaries, load_build_module
from tests.cluster.kube import Kube
from tests.cluster.workloads import install_crds
from tests.node import hoststate
from tests.node.nodes import POD_CIDR, RealNode
from tests.node.pki import client_cert, write_kubeconfig

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES_SCRIPT = REPO_ROOT / "tools" / "node" / "images.py"
REAL_NODES = (("real-0", "zone-a"), ("real-1", "zone-b"))
KWOK_POOL = (("kwok-pool-c", "zone-c"),)
KWOK_ANNOTATION = "kwok.x-k8s.io/node=fake"
POOL_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
SERVICE_CIDR = "10.96.0.0/16"
COREDNS_READY_PORT = 18181
KUBE_PROXY_HEALTHZ = "127.0.0.1:10256"
KUBE_ROUTER_HEALTH_PORT = 20244
# Pods labelled app.kubernetes.io/part-of=airbyte run on the simulated pool (placement policy).
PART_OF = "app.kubernetes.io/part-of"
SIMULATED_PART_OF = "airbyte"
_TOLERATION = (
    f"Object.spec.tolerations{{key: '{POOL_TAINT['key']}', operator: 'Equal', "
    f"value: '{POOL_TAINT['value']}', effect: '{POOL_TAINT['effect']}'}}"
)
_SELECTOR = "JSONPatch{op: 'add', path: '/spec/nodeSelector', value: {'type': 'kwok'}}"
# CEL (MutatingAdmissionPolicy JSONPatch): the pool's node selector and toleration, appended
# to the pod's own tolerations when it has any.
_POOL_PATCH = (
    f"has(object.spec.tolerations) ? [{_SELECTOR}, JSONPatch{{op: 'add', "
    f"path: '/spec/tolerations/-', value: {_TOLERATION}}}] : [{_SELECTOR}, "
    f"JSONPatch{{op: 'add', path: '/spec/tolerations', value: [{_TOLERATION}]}}]"
)


class NodeTierError(Exception):
    """The tier could not start: one line for the user."""


def _patch(component: str, args: Mapping[str, str], override: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "name": component,
        "extraArgs": [
            {"key": key, "value": value, **({"override": True} if key in override else {})}
            for key, value in args.items()
        ],
    }


def control_plane_patches(host_ip: str, pki: Path) -> tuple[dict[str, Any], ...]:
    """What the node tier adds to the cluster tier's kwokctl configuration (module docstring)."""
    return (
        _patch(
            "kube-apiserver",
            {
                "bind-address": "0.0.0.0",
                "advertise-address": host_ip,
                "kubelet-client-certificate": str(pki / "admin.crt"),
                "kubelet-client-key": str(pki / "admin.key"),
                "kubelet-preferred-address-types": "InternalIP,Hostname",
                "service-cluster-ip-range": SERVICE_CIDR,
            },
            override=("bind-address",),
        ),
        _patch(
            "kwok-controller",
            {
                "manage-all-nodes": "false",
                "manage-nodes-with-annotation-selector": KWOK_ANNOTATION,
            },
            override=("manage-all-nodes",),
        ),
    )


@dataclass(frozen=True)
class HostNetwork:
    interface: str
    address: str
    mtu: int


def host_network() -> HostNetwork:
    """The interface of the default route, its IPv4 address and MTU."""
    route = subprocess.run(
        ["ip", "-4", "-o", "route", "show", "default"], capture_output=True, text=True, check=False
    ).stdout.split()
    if "dev" not in route:
        raise NodeTierError("no IPv4 default route: cannot tell the node's address")
    interface = route[route.index("dev") + 1]
    addresses = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", interface],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    address = addresses[addresses.index("inet") + 1].split("/")[0]
    mtu = int(Path(f"/sys/class/net/{interface}/mtu").read_text())
    return HostNetwork(interface, address, mtu)


def node_binaries() -> dict[str, Path]:
    build = load_build_module()
    missing = [c for c in build.components("node") if not build.is_complete(c)]
    if missing:
        names = ", ".join(f"{c.name} {c.version}" for c in missing)
        raise NodeTierError(f"node tools not built: {names}: run `make node-tools`")
    return {name: Path(path) for name, path in build.binary_paths("node").items()}


def image_index() -> dict[str, dict[str, str]]:
    """`make images`' archives (tools/node/images.py writes the index last)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    index = Path(base) / "integration-gitops" / "images" / "index.json"
    if not index.is_file():
        raise NodeTierError("images not built: run `make images`")
    found: dict[str, dict[str, str]] = json.loads(index.read_text())
    stale = [name for name, entry in found.items() if not Path(entry["archive"]).is_file()]
    if stale:
        raise NodeTierError(f"image archives missing for {', '.join(stale)}: run `make images`")
    return found


@dataclass
class Supervisor:
    """The tier's long-running processes, each logging to ``<logs>/<name>.log``. Their pids
    are also written to ``<logs>/pids.json``, so a later process (``python -m tests.node
    down``) stops them in the same order: :meth:`adopt`."""

    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    adopted: dict[str, int] = field(default_factory=dict)

    def adopt(self) -> None:
        saved = self.logs / "pids.json"
        if saved.is_file():
            pids = json.loads(saved.read_text())
            self.adopted = {name: int(pid) for name, pid in pids.items() if _alive(int(pid))}

    def _save(self) -> None:
        (self.logs / "pids.json").write_text(json.dumps(self.pids()))

    def start(
        self, name: str, argv: Sequence[object], env: Mapping[str, str] | None = None
    ) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            self.running[name] = subprocess.Popen(
                [str(a) for a in argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        self._save()

    def check(self, name: str) -> bool:
        """False while ``name`` runs (so ``check(x) or ready()`` waits on ready()); raises
        NodeTierError with its log's last line once it has exited."""
        process = self.running[name]
        if process.poll() is not None:
            tail = (self.logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
            raise NodeTierError(
                f"{name} exited with {process.returncode}: {(tail or ['?'])[-1][:300]} "
                f"(log: {self.logs / f'{name}.log'})"
            )
        return False

    def stop(self, name: str, timeout: float = 20.0) -> None:
        pid = self.adopted.pop(name, None)
        if pid is not None:
            _terminate(pid, timeout)
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.running.items() if p.poll() is None}

    def knows(self, name: str) -> bool:
        return name in self.running or name in self.adopted


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM a process that is not our child, then SIGKILL it after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # a component still starting
            last = error
        time.sleep(interval)
    raise NodeTierError(f"{what}: not within {timeout:.0f}s" + (f" ({last})" if last else ""))


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return bool(answer.status == 200)


class NodeTier:
    """Long because it is the tier's whole life cycle: ``up`` (control plane, PKI, DNS,
    nodes, proxy, policy controller) and ``down`` (the reverse, then the host check)."""

    def __init__(self, workdir: Path, name: str = "gitops-node") -> None:
        self.workdir = workdir
        self.name = name
        self.network = host_network()
        self.logs = workdir / "logs"
        self.supervisor = Supervisor(self.logs)
        self.supervisor.adopt()  # a tier started by another process (`python -m tests.node`)
        self.kwok = KwokCluster(
            name,
            workdir / "kwok",
            extra_patches=control_plane_patches(
                self.network.address, workdir / "kwok" / "clusters" / name / "pki"
            ),
            kwok_nodes=KWOK_POOL,
            node_taints=(POOL_TAINT,),
        )
        self.nodes = tuple(
            RealNode(node, i, zone, workdir / "nodes" / node)
            for i, (node, zone) in enumerate(REAL_NODES)
        )
        self.before: hoststate.HostState | None = None

    # -- paths ---------------------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.kwok.kubeconfig

    @property
    def nodes_file(self) -> Path:
        return self.workdir / "nodes.json"

    @property
    def pki(self) -> Path:
        return self.kwok.cluster_dir / "pki"

    def image_references(self) -> dict[str, str]:
        """What `make images` built and every node imported: short name -> reference."""
        data = json.loads(self.nodes_file.read_text())
        return {str(k): str(v) for k, v in data["images"].items()}

    def markers(self) -> tuple[str, ...]:
        """What identifies our processes on the host: the work dir, the tools' cache folders."""
        build = load_build_module()
        return (str(self.workdir), str(build.cache_root("node")))

    # -- up ------------------------------------------------------------------------------
    def up(self) -> None:
        if os.geteuid() != 0:
            raise NodeTierError("real nodes need root (containerd, kubelet, iptables, mounts)")
        tools, images = node_binaries(), image_index()
        built_binaries()  # the control plane's, with its own message
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.before = hoststate.snapshot(self.markers())
        (self.workdir / "host-before.pickle").write_bytes(pickle.dumps(self.before))
        # Pods on two bridges reach each other, the API and DNS through the host.
        hoststate.set_sysctl("net/ipv4/ip_forward", "1")
        hoststate.set_sysctl("net/bridge/bridge-nf-call-iptables", "1")
        with self.timed("control plane (kwokctl create, KWOK pool)"):
            self.kwok.create()
        # Our CRDs (tools/gitops/schemas), as the cluster tier installs them: every rendered
        # env has ServiceMonitors, and upstream's CRD is on GitHub.
        install_crds(Kube(self.kubeconfig))
        self._apply_placement_policy()
        admin = self.kwok.kubeconfig
        self._start_coredns(tools["coredns"], admin)
        for node in self.nodes:
            with self.timed(f"{node.name}: containerd, image imports, kubelet start"):
                self._start_node(node, tools, images)
        self._start_kube_proxy(tools["kube-proxy"])
        self._start_kube_router(tools["kube-router"], admin)
        with self.timed("nodes Ready, kube-proxy synced, kube-router healthy"):
            self._wait_nodes_ready()
        self._write_nodes_file(tools, images)

    def _apply_placement_policy(self) -> None:
        """Airbyte's pods (their images are not built here) go to the simulated pool: a
        MutatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in 1.36) adds the pool's
        toleration and node selector to pods of app.kubernetes.io/part-of=airbyte, the way a
        cluster pins a workload to a node pool. The manifests stay as rendered."""
        policy = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": "gitops-node-simulated-pool"},
            "spec": {
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                        }
                    ]
                },
                "matchConditions": [
                    {
                        "name": "simulated-workload",
                        "expression": "has(object.metadata.labels) && "
                        f"'{PART_OF}' in object.metadata.labels && "
                        f"object.metadata.labels['{PART_OF}'] == '{SIMULATED_PART_OF}'",
                    }
                ],
                "failurePolicy": "Fail",
                "reinvocationPolicy": "Never",
                "mutations": [
                    {"patchType": "JSONPatch", "jsonPatch": {"expression": _POOL_PATCH}},
                ],
            },
        }
        binding = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": "gitops-node-simulated-pool"},
            "spec": {"policyName": "gitops-node-simulated-pool"},
        }
        self.kubectl("apply", "--filename", "-", stdin=yaml.safe_dump_all([policy, binding]))

    def kubectl_binary(self) -> Path:
        """The cluster tools' kubectl: the control plane's own version."""
        return built_binaries()["kubectl"]

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        done = subprocess.run(
            [str(self.kubectl_binary()), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise NodeTierError(f"kubectl {' '.join(args[:3])} failed: {done.stderr.strip()}")
        return done.stdout

    def _start_coredns(self, coredns: Path, admin: Path) -> None:
        """Cluster DNS on the host's address (the kubelets' clusterDNS): the kubernetes plugin
        answers for cluster.local from the API, the rest goes to the host's resolver."""
        folder = self.workdir / "coredns"
        folder.mkdir(parents=True, exist_ok=True)
        corefile = folder / "Corefile"
        corefile.write_text(
            f""".:53 {{
    bind {self.network.address}
    errors
    ready 127.0.0.1:{COREDNS_READY_PORT}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {admin}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    forward . /etc/resolv.conf
    cache 30
}}
"""
        )
        self.supervisor.start("coredns", [coredns, "-conf", corefile])
        wait_for(
            "CoreDNS ready",
            lambda: (
                self.supervisor.check("coredns")
                or _http_ok(f"http://127.0.0.1:{COREDNS_READY_PORT}/ready")
            ),
            timeout=60,
        )

    def _node_env(self, tools: Mapping[str, Path]) -> dict[str, str]:
        # containerd finds containerd-shim-runc-v2 on PATH.
        shim_dir = tools["containerd-shim-runc-v2"].parent
        return {**os.environ, "PATH": f"{shim_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}

    def _start_node(
        self, node: RealNode, tools: Mapping[str, Path], images: Mapping[str, Mapping[str, str]]
    ) -> None:
        for folder in node.folders():
            folder.mkdir(parents=True, exist_ok=True)
        self._make_cgroup_root(node.cgroup_root)
        config = node.root / "containerd" / "config.toml"
        config.write_text(
            node.containerd_config(
                tools["runc"], tools["bridge"].parent, images["pause"]["reference"]
            )
        )
        (node.cni_conf_dir / "10-gitops.conflist").write_text(
            json.dumps(node.cni_conflist(self.network.mtu), indent=1)
        )
        name = f"{node.name}-containerd"
        self.supervisor.start(
            name, [tools["containerd"], "--config", config], self._node_env(tools)
        )
        wait_for(
            f"{name} socket",
            lambda: self.supervisor.check(name) or node.socket.is_socket(),
            timeout=60,
        )
        for image in images.values():
            self.ctr(tools, node, "images", "import", image["archive"], timeout=300)
        self._start_kubelet(node, tools["kubelet"])

    def ctr(
        self, tools: Mapping[str, Path], node: RealNode, *args: str, timeout: float = 60
    ) -> str:
        done = subprocess.run(
            [str(tools["ctr"]), "--address", str(node.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise NodeTierError(f"ctr {' '.join(args[:2])} on {node.name}: {done.stderr.strip()}")
        return done.stdout

    def _make_cgroup_root(self, root: str) -> None:
        """The kubelet's cgroupRoot must exist in every hierarchy (runc also uses the cgroup v2
        one of this hybrid setup); a new cpuset needs its parent's cpus and mems."""
        for hierarchy in hoststate.CGROUP_ROOT.iterdir():
            if not hierarchy.is_dir() or hierarchy.is_symlink():
                continue
            folder = hierarchy / root.lstrip("/")
            folder.mkdir(exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):
                if (hierarchy / name).is_file() and not (folder / name).read_text().strip():
                    (folder / name).write_text((hierarchy / name).read_text())

    def _start_kubelet(self, node: RealNode, kubelet: Path) -> None:
        cert = client_cert(
            self.pki / "ca.crt",
            self.pki / "ca.key",
            node.root / "kubelet-pki",
            "client",
            f"/O=system:nodes/CN=system:node:{node.name}",
        )
        kubeconfig = write_kubeconfig(
            node.root / "kubelet.kubeconfig", self._server(), self.pki / "ca.crt", node.name, cert
        )
        config = node.root / "kubelet.yaml"
        config.write_text(
            yaml.safe_dump(node.kubelet_config(self.pki / "ca.crt", self.network.address))
        )
        labels = ",".join(
            (
                "type=real",
                f"topology.kubernetes.io/zone={node.zone}",
                "topology.kubernetes.io/region=region-1",
            )
        )
        self.supervisor.start(
            f"{node.name}-kubelet",
            [
                kubelet,
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={node.kubelet_root}",
                f"--cert-dir={node.root / 'kubelet-pki'}",
                f"--hostname-override={node.name}",
                f"--node-ip={self.network.address}",
                f"--node-labels={labels}",
                "--v=2",
            ],
        )

    def _server(self) -> str:
        cluster = yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"]
        return str(cluster["server"])

    def _start_kube_proxy(self, kube_proxy: Path) -> None:
        """One kube-proxy for the machine (iptables mode): every node here shares its network
        stack, so one set of Service rules serves them all."""
        folder = self.workdir / "kube-proxy"
        cert = client_cert(
            self.pki / "ca.crt", self.pki / "ca.key", folder, "client", "/CN=system:kube-proxy"
        )
        kubeconfig = write_kubeconfig(
            folder / "kubeconfig", self._server(), self.pki / "ca.crt", "kube-proxy", cert
        )
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "iptables",
            "clusterCIDR": POD_CIDR,
            "hostnameOverride": self.nodes[0].name,
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "conntrack": {"maxPerCore": 0},  # leave the host's conntrack sysctls alone
            "iptables": {"localhostNodePorts": False},  # no route_localnet change
            "oomScoreAdj": 0,  # no CAP_SYS_RESOURCE here
            "metricsBindAddress": "127.0.0.1:10249",
            "healthzBindAddress": KUBE_PROXY_HEALTHZ,
        }
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        self.supervisor.start(
            "kube-proxy", [kube_proxy, f"--config={folder / 'config.yaml'}", "--v=2"]
        )

    def _start_kube_router(self, kube_router: Path, admin: Path) -> None:
        """kube-router's network-policy controller only (no routing, no service proxy). It
        enforces policies for the pods whose hostIP is this machine's address (kube-router
        pkg/controllers/netpol/pod.go getLocalPods), i.e. every real node here at once."""
        self.supervisor.start(
            "kube-router",
            [
                kube_router,
                f"--kubeconfig={admin}",
                f"--hostname-override={self.nodes[0].name}",
                "--run-firewall=true",
                "--run-router=false",
                "--run-service-proxy=false",
                "--enable-cni=false",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--health-port={KUBE_ROUTER_HEALTH_PORT}",
                "--v=2",
            ],
        )

    def _wait_nodes_ready(self) -> None:
        names = [node.name for node in self.nodes]

        def ready() -> bool:
            for name in self.supervisor.pids():
                self.supervisor.check(name)
            out = self.kubectl("get", "nodes", *names, "--output=json")
            items = json.loads(out)["items"]
            return len(items) == len(names) and all(
                any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n["status"]["conditions"]
                )
                for n in items
            )

        wait_for("real nodes Ready", ready, timeout=180, interval=1)
        wait_for(
            "kube-proxy synced",
            lambda: _http_ok(f"http://{KUBE_PROXY_HEALTHZ}/healthz"),
            timeout=120,
        )
        wait_for(
            "kube-router healthy",
            lambda: (
                self.supervisor.check("kube-router")
                or _http_ok(f"http://127.0.0.1:{KUBE_ROUTER_HEALTH_PORT}/healthz")
            ),
            timeout=120,
        )

    def _write_nodes_file(
        self, tools: Mapping[str, Path], images: Mapping[str, Mapping[str, str]]
    ) -> None:
        """What the e2e suite's node backend needs besides the kubeconfig: where each node's
        containerd listens, the ctr to talk to it, and the images imported."""
        self.nodes_file.write_text(
            json.dumps(
                {
                    "ctr": str(tools["ctr"]),
                    "nodes": {node.name: str(node.socket) for node in self.nodes},
                    "images": {name: entry["reference"] for name, entry in images.items()},
                    "simulatedPool": {"taint": POOL_TAINT, "partOf": SIMULATED_PART_OF},
                },
                indent=1,
            )
        )

    # -- down ----------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop everything and put the host back; returns what still differs from before."""
        before = self.before
        saved = self.workdir / "host-before.pickle"
        if before is None and saved.is_file():
            before = pickle.loads(saved.read_bytes())
        # The kubelets remove a deleted pod's logs: keep them with ours first.
        self._keep_pod_logs(self.logs)
        try:
            with self.timed("releasing the real nodes' pods"):
                self._release_pods()
        finally:
            with self.timed("stopping every process"):
                self._stop_processes()
        if before is None:
            return []
        with self.timed("restoring the host"):
            hoststate.restore(before)
        return before.diff(hoststate.snapshot(self.markers()))

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Log how long ``step`` took to logs/tier.log (kept with the components' logs)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.logs.mkdir(parents=True, exist_ok=True)
            with (self.logs / "tier.log").open("a") as log:
                log.write(f"{step}: {time.monotonic() - started:.1f}s\n")

    def _release_pods(self) -> None:
        """Cordon the real nodes (or controllers put replacements right back), force-delete
        every pod on them so each kubelet stops its containers and tears the sandboxes'
        networks down through CNI, then wait until containerd runs none."""
        if not self.kwok.exists() or not any(
            self.supervisor.knows(f"{n.name}-kubelet") for n in self.nodes
        ):
            return
        try:
            self.kubectl("cordon", *(node.name for node in self.nodes))
            for node in self.nodes:
                self.kubectl(
                    "delete",
                    "pods",
                    "--all-namespaces",
                    f"--field-selector=spec.nodeName={node.name}",
                    "--grace-period=0",
                    "--force",
                    "--wait=false",
                    timeout=120,
                )
            tools = node_binaries()
            wait_for(
                "real nodes' sandboxes stopped",
                lambda: all(not self._running_tasks(tools, node) for node in self.nodes),
                timeout=120,
                interval=1,
            )
        except (NodeTierError, subprocess.TimeoutExpired):
            pass  # the processes are stopped below whatever happened here

    def _running_tasks(self, tools: Mapping[str, Path], node: RealNode) -> list[str]:
        out = self.ctr(tools, node, "tasks", "list")
        return [line for line in out.splitlines()[1:] if "RUNNING" in line]

    def _stop_processes(self) -> None:
        """kube-router and kube-proxy first (then their cleanup modes), kubelets, then each
        containerd with every container it still runs, CoreDNS, the control plane."""
        tools: dict[str, Path] = {}
        with contextlib.suppress(NodeTierError):
            tools = node_binaries()
        for name in ("kube-router", "kube-proxy"):
            self.supervisor.stop(name)
        if tools:
            _quiet([tools["kube-router"], "--cleanup-config"])
            _quiet([tools["kube-proxy"], "--cleanup"])
        for node in self.nodes:
            self.supervisor.stop(f"{node.name}-kubelet")
        for node in self.nodes:
            if tools and node.socket.is_socket():
                self._kill_containers(tools, node)
            self.supervisor.stop(f"{node.name}-containerd")
        self.supervisor.stop("coredns")
        # kwokctl deletes the cluster's folder, logs included: keep them with ours first.
        with contextlib.suppress(OSError):
            self.kwok.copy_logs(self.logs / "control-plane")
        with contextlib.suppress(Exception):  # half-created: its processes are found below
            self.kwok.delete()
        for line in hoststate.processes_mentioning(self.markers()):
            pid = int(line.split(":", 1)[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(1)

    def _kill_containers(self, tools: Mapping[str, Path], node: RealNode) -> None:
        """Whatever a kubelet left running (it was killed, or the run failed early)."""
        ctr = [str(tools["ctr"]), "--address", node.socket, "-n", "k8s.io", "tasks"]
        try:
            for action, pause in ((["kill", "-s", "SIGKILL"], 1.0), (["delete", "-f"], 0.0)):
                for line in self.ctr(tools, node, "tasks", "list").splitlines()[1:]:
                    _quiet([*ctr, *action, line.split()[0]])
                time.sleep(pause)
        except (NodeTierError, subprocess.TimeoutExpired):
            pass

    def copy_logs(self, destination: Path) -> Path:
        """Every component's log: ours (logs/), kwokctl's, and the kubelets' pod logs."""
        destination.mkdir(parents=True, exist_ok=True)
        if self.logs.is_dir():
            shutil.copytree(self.logs, destination, dirs_exist_ok=True)
        if self.kwok.exists():  # still up (before down())
            self.kwok.copy_logs(destination / "control-plane")
        self._keep_pod_logs(destination)
        return destination

    def _keep_pod_logs(self, destination: Path) -> None:
        for node in self.nodes:
            pod_logs = node.root / "pod-logs"
            if pod_logs.is_dir():
                shutil.copytree(pod_logs, destination / f"{node.name}-pod-logs", dirs_exist_ok=True)


def _quiet(argv: Sequence[object]) -> None:
    """Run a cleanup command whose failure changes nothing (what it undoes may be gone)."""
    subprocess.run([str(a) for a in argv], capture_output=True, check=False, timeout=120)
