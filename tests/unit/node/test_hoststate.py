"""tests/node/hoststate.py without touching the host: what counts as left behind, and the
iptables-restore script that undoes a run's rules (rules in old chains deleted, new chains
flushed before they are deleted, so a jump into a new chain never blocks its removal)."""

from __future__ import annotations

from tests.node.hoststate import HostState, Table, _iptables_script


def state(**changes: object) -> HostState:
    base: dict[str, object] = {
        "tables": {("iptables", "filter"): Table(frozenset({"INPUT", "FORWARD"}), ())},
        "nft_tables": frozenset({"table ip filter"}),
        "ipsets": frozenset(),
        "links": frozenset({"lo", "eth0"}),
        "mounts": ("/", "/proc"),
        "cgroups": frozenset({"/sys/fs/cgroup/cpu/system"}),
        "paths": {"/var/lib/kubelet": None, "/run/containerd": None},
        "sysctls": {"net/ipv4/ip_forward": "0"},
        "processes": (),
    }
    base.update(changes)
    return HostState(**base)  # type: ignore[arg-type]


def test_an_unchanged_host_differs_in_nothing() -> None:
    assert state().diff(state()) == []


def test_everything_a_run_adds_is_named_once() -> None:
    after = state(
        tables={
            ("iptables", "filter"): Table(
                frozenset({"INPUT", "FORWARD", "KUBE-FORWARD"}),
                ("-A FORWARD -j KUBE-FORWARD",),
            )
        },
        nft_tables=frozenset({"table ip filter", "table ip nat"}),
        ipsets=frozenset({"KUBE-DST-1"}),
        links=frozenset({"lo", "eth0", "gitopsbr0"}),
        mounts=("/", "/proc", "/tmp/gitops-node-x/kubelet"),
        cgroups=frozenset({"/sys/fs/cgroup/cpu/system", "/sys/fs/cgroup/cpu/gitops-real-0"}),
        paths={"/var/lib/kubelet": frozenset({"device-plugins"}), "/run/containerd": None},
        sysctls={"net/ipv4/ip_forward": "1"},
        processes=("42: containerd --config /tmp/gitops-node-x/config.toml",),
    )
    assert state().diff(after) == [
        "iptables -t filter: chain KUBE-FORWARD",
        "iptables -t filter: -A FORWARD -j KUBE-FORWARD",
        "nft table ip nat",
        "ipset KUBE-DST-1",
        "link gitopsbr0",
        "mount /tmp/gitops-node-x/kubelet",
        "cgroup /sys/fs/cgroup/cpu/gitops-real-0",
        "path /var/lib/kubelet (created)",
        "sysctl net/ipv4/ip_forward: 0 -> 1",
        "process 42: containerd --config /tmp/gitops-node-x/config.toml",
    ]


def test_new_entries_of_an_existing_fixed_path_are_named() -> None:
    before = state(paths={"/var/log/containers": frozenset({"old.log"})})
    after = state(paths={"/var/log/containers": frozenset({"old.log", "healthz_x.log"})})
    assert before.diff(after) == ["path /var/log/containers/healthz_x.log"]


def test_the_undo_script_deletes_rules_then_flushes_and_deletes_new_chains() -> None:
    before = Table(frozenset({"INPUT", "FORWARD"}), ("-A INPUT -j ACCEPT",))
    now = Table(
        frozenset({"INPUT", "FORWARD", "KUBE-FORWARD", "KUBE-SVC-X"}),
        (
            "-A INPUT -j ACCEPT",
            '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
            "-A KUBE-FORWARD -j KUBE-SVC-X",
            "-A KUBE-SVC-X -j ACCEPT",
        ),
    )
    script = _iptables_script("filter", before, now).splitlines()
    assert script == [
        "*filter",
        '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        "-F KUBE-FORWARD",
        "-F KUBE-SVC-X",
        "-X KUBE-FORWARD",
        "-X KUBE-SVC-X",
        "COMMIT",
    ]
