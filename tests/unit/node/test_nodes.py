"""tests/node/nodes.py: every per-node value is distinct between nodes sharing one machine
(subnets, bridges, ports, cgroup roots, sockets), and the configs carry what this machine
needs (REAL-NODE-FACTS: cgroup v1 allowed, cgroupfs, no OOM score changes, the host MTU)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from tests.node.nodes import POD_CIDR, RealNode


def nodes(tmp_path: Path) -> list[RealNode]:
    return [RealNode(f"real-{i}", i, f"zone-{i}", tmp_path / f"real-{i}") for i in range(3)]


def test_nodes_on_one_machine_share_nothing(tmp_path: Path) -> None:
    found = nodes(tmp_path)
    for attribute in ("subnet", "bridge", "kubelet_port", "healthz_port", "cgroup_root", "socket"):
        values = [getattr(node, attribute) for node in found]
        assert len(set(values)) == len(values), (attribute, values)
    pods = ipaddress.IPv4Network(POD_CIDR)
    subnets = [ipaddress.IPv4Network(node.subnet) for node in found]
    assert all(subnet.subnet_of(pods) for subnet in subnets)
    assert all(len(node.bridge) <= 15 for node in found)  # IFNAMSIZ


def test_containerd_config_points_at_the_nodes_own_folders(tmp_path: Path) -> None:
    node = nodes(tmp_path)[1]
    text = node.containerd_config(Path("/bin/runc"), Path("/opt/cni"), "localhost/pause:1")
    assert f'address = "{node.socket}"' in text
    assert "restrict_oom_score_adj = true" in text  # no CAP_SYS_RESOURCE on this machine
    assert "netns_mounts_under_state_dir = true" in text
    assert 'sandbox = "localhost/pause:1"' in text
    assert f'Root = "{node.root / "runc"}"' in text


def test_cni_and_kubelet_configs(tmp_path: Path) -> None:
    node = nodes(tmp_path)[0]
    bridge = node.cni_conflist(mtu=1400)["plugins"][0]
    assert bridge["bridge"] == node.bridge and bridge["mtu"] == 1400
    assert bridge["ipam"]["ranges"] == [[{"subnet": node.subnet}]]
    kubelet = node.kubelet_config(Path("/pki/ca.crt"), "192.0.2.2")
    assert kubelet["failCgroupV1"] is False and kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["cgroupRoot"] == node.cgroup_root and kubelet["oomScoreAdj"] == 0
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}
    assert kubelet["clusterDNS"] == ["192.0.2.2"]
