"""One real node's configuration: containerd, its CNI bridge network and the kubelet, each in
the node's own folder, so several nodes share one machine (REAL-NODE-FACTS sections 5-6).

Every value that differs per node is derived from its index: the pod subnet (10.244.<i>.0/24
of the tier's 10.244.0.0/16), the bridge (``gitopsbr<i>``), the kubelet's ports, its cgroup
root (``/gitops-<name>`` in every cgroup hierarchy) and all paths. Field names are upstream's:
containerd's CRI plugin config (containerd internal/cri/config/config.go, config version 3),
the CNI bridge/host-local/portmap plugins (containernetworking/plugins README of each), the
kubelet's KubeletConfiguration (k8s.io/kubelet config/v1beta1/types.go).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

POD_CIDR = "10.244.0.0/16"
CNI_VERSION = "1.0.0"


@dataclass(frozen=True)
class RealNode:
    name: str  # real-0
    index: int
    zone: str
    root: Path  # the node's folder

    @property
    def subnet(self) -> str:
        return f"10.244.{self.index}.0/24"

    @property
    def bridge(self) -> str:
        return f"gitopsbr{self.index}"

    @property
    def kubelet_port(self) -> int:
        return 10250 + self.index

    @property
    def healthz_port(self) -> int:
        return 10248 + 10 * self.index

    @property
    def cgroup_root(self) -> str:
        # hoststate.OWN_CGROUP_PREFIX: the leftover check looks below these.
        return f"/gitops-{self.name}"

    @property
    def socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    def folders(self) -> list[Path]:
        names = ["containerd/root", "containerd/state", "cni/net.d", "cni/ipam", "kubelet"]
        names += ["kubelet-pki", "pod-logs", "runc"]
        return [self.root / name for name in names]

    def containerd_config(self, runc: Path, cni_bin: Path, sandbox_image: str) -> str:
        """containerd's config (version 3). ``restrict_oom_score_adj``: this machine lacks
        CAP_SYS_RESOURCE in the bounding set, so the kubelet's -998 for the sandbox would fail
        every pod ("failed to update /proc/self/oom_score_adj: Permission denied")."""
        root = self.root / "containerd"
        return f"""version = 3
root = "{root / "root"}"
state = "{root / "state"}"

[grpc]
  address = "{self.socket}"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{sandbox_image}"

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{runc}"
        Root = "{self.root / "runc"}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{cni_bin}"]
    conf_dir = "{self.cni_conf_dir}"
"""

    def cni_conflist(self, mtu: int) -> dict[str, Any]:
        """A bridge with this node's subnet, the node as gateway, masquerading for traffic
        leaving the pod range, hairpin (a pod reaching itself through its Service) and the
        host interface's MTU; portmap for hostPort."""
        return {
            "cniVersion": CNI_VERSION,
            "name": f"gitops-{self.name}",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipMasq": True,
                    "hairpinMode": True,
                    "mtu": mtu,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": str(self.root / "cni" / "ipam"),
                        "ranges": [[{"subnet": self.subnet}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }

    def kubelet_config(self, client_ca: Path, dns: str) -> dict[str, Any]:
        """This node's KubeletConfiguration."""
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # This machine runs cgroup v1 (hybrid); 1.35+ refuses it unless told not to.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",  # no systemd here
            "cgroupRoot": self.cgroup_root,
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "podLogsDir": str(self.root / "pod-logs"),
            "port": self.kubelet_port,
            "healthzPort": self.healthz_port,
            "healthzBindAddress": "127.0.0.1",
            "readOnlyPort": 0,
            # The process cannot lower its own OOM score (no CAP_SYS_RESOURCE, see above).
            "oomScoreAdj": 0,
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(client_ca)},
            },
            "authorization": {"mode": "Webhook"},
            "clusterDomain": "cluster.local",
            "clusterDNS": [dns],
            "failSwapOn": False,
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "5%",
                "imagefs.available": "5%",
            },
            "serializeImagePulls": False,
        }
