"""What real nodes change on the host, recorded before a run and put back after it.

A kubelet, containerd, runc, the CNI bridge plugin, kube-proxy and kube-router change shared
host state well outside their work directories: iptables chains and rules, nf_tables tables,
ipsets, network links (bridges, veths), mounts (the kubelet's root dir, pod volumes, network
namespaces), cgroups under every hierarchy, a few fixed paths (/var/log/containers,
/var/lib/kubelet/device-plugins, /var/lib/cni, /run/containerd, /var/run/netns) and sysctls.
:func:`snapshot` records all of it; :func:`restore` removes what a run added (iptables rules
before chains, chains before the ipsets they reference, mounts deepest first, cgroups leaves
first) and puts the sysctls back; :meth:`HostState.diff` lists what still differs, which the
node tier asserts is nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

IPTABLES = ("iptables", "ip6tables")
TABLES = ("filter", "nat", "mangle", "raw")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# The nodes' cgroup roots (tests/node/nodes.py RealNode.cgroup_root): /gitops-<node>.
OWN_CGROUP_PREFIX = "gitops-"
# Paths the kubelet, containerd and CNI use whatever their configuration says.
FIXED_PATHS = (
    Path("/var/lib/kubelet"),
    Path("/var/log/containers"),
    Path("/var/log/pods"),
    Path("/var/lib/cni"),
    Path("/run/containerd"),
    Path("/var/run/netns"),
    Path("/etc/cni"),
    Path("/opt/cni"),
)
# kube-proxy, the kubelet and the harness itself may set these.
SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
)


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    """A host command's stdout ('' when the tool is missing or fails: absent state)."""
    if shutil.which(argv[0]) is None:
        return ""
    done = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout if done.returncode == 0 else ""


@dataclass(frozen=True)
class Table:
    """One iptables table: chain names and rules (as iptables-save prints them)."""

    chains: frozenset[str]
    rules: tuple[str, ...]


def read_tables() -> dict[tuple[str, str], Table]:
    found: dict[tuple[str, str], Table] = {}
    for binary in IPTABLES:
        for table in TABLES:
            text = _run([f"{binary}-save", "-t", table])
            lines = text.splitlines()
            chains = frozenset(line[1:].split()[0] for line in lines if line.startswith(":"))
            rules = tuple(line for line in lines if line.startswith("-A "))
            found[(binary, table)] = Table(chains, rules)
    return found


def _nft_tables() -> frozenset[str]:
    """``table ip filter``, ... (the built-in chains of a table iptables-nft created stay
    listed by iptables-save, so only nft shows that the table itself is new)."""
    return frozenset(line.strip() for line in _run(["nft", "list", "tables"]).splitlines())


def _mountpoints() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        points.append(line.split()[4].replace("\\040", " "))
    return points


def _cgroup_dirs() -> frozenset[str]:
    """Every hierarchy's top-level cgroups, and everything below ours (``OWN_CGROUP_PREFIX``).
    Deeper cgroups of others are not ours to judge: the machine's own services create and
    remove them all the time (a run here saw /sys/fs/cgroup/memory/process_api/<id> appear)."""
    found: set[str] = set()
    if not CGROUP_ROOT.is_dir():
        return frozenset()
    for hierarchy in CGROUP_ROOT.iterdir():
        if not hierarchy.is_dir() or hierarchy.is_symlink():
            continue
        for top in hierarchy.iterdir():
            if not top.is_dir():
                continue
            found.add(str(top))
            if top.name.startswith(OWN_CGROUP_PREFIX):
                for folder, dirs, _files in os.walk(top):
                    found.update(os.path.join(folder, d) for d in dirs)
    return frozenset(found)


def _entries(path: Path) -> frozenset[str] | None:
    """A fixed path's entries (None: it does not exist)."""
    if not path.is_dir():
        return frozenset() if path.exists() else None
    return frozenset(p.name for p in path.iterdir())


def _sysctl(name: str) -> str | None:
    path = Path("/proc/sys") / name
    return path.read_text().strip() if path.is_file() else None


@dataclass(frozen=True)
class HostState:
    tables: dict[tuple[str, str], Table]
    nft_tables: frozenset[str]  # `nft list tables`: iptables-nft creates them on first use
    ipsets: frozenset[str]
    links: frozenset[str]
    mounts: tuple[str, ...]
    cgroups: frozenset[str]
    paths: dict[str, frozenset[str] | None]
    sysctls: dict[str, str | None]
    processes: tuple[str, ...] = field(default=())

    def diff(self, after: HostState) -> list[str]:
        """What ``after`` has that this state had not (and changed sysctls), one line each."""
        out: list[str] = []
        for key, table in after.tables.items():
            before = self.tables.get(key, Table(frozenset(), ()))
            out += [
                f"{key[0]} -t {key[1]}: chain {c}" for c in sorted(table.chains - before.chains)
            ]
            out += [f"{key[0]} -t {key[1]}: {r}" for r in table.rules if r not in before.rules]
        out += [f"nft {name}" for name in sorted(after.nft_tables - self.nft_tables)]
        out += [f"ipset {name}" for name in sorted(after.ipsets - self.ipsets)]
        out += [f"link {name}" for name in sorted(after.links - self.links)]
        out += [f"mount {m}" for m in after.mounts if m not in self.mounts]
        out += [f"cgroup {c}" for c in sorted(after.cgroups - self.cgroups)]
        for path, entries in after.paths.items():
            before_entries = self.paths.get(path)
            if entries is not None and before_entries is None:
                out.append(f"path {path} (created)")
            elif entries is not None and before_entries is not None:
                out += [f"path {path}/{e}" for e in sorted(entries - before_entries)]
        out += [
            f"sysctl {name}: {self.sysctls[name]} -> {value}"
            for name, value in after.sysctls.items()
            if value != self.sysctls.get(name)
        ]
        out += [f"process {p}" for p in after.processes if p not in self.processes]
        return out


def processes_mentioning(markers: Iterable[str]) -> tuple[str, ...]:
    """``pid: command line`` of every process whose command line names one of ``markers``
    (our work directory, our binaries' cache folders)."""
    wanted = tuple(m for m in markers if m)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(marker in cmdline for marker in wanted):
            found.append(f"{proc.name}: {cmdline.strip()[:200]}")
    return tuple(found)


def snapshot(markers: Iterable[str] = ()) -> HostState:
    links = _run(["ip", "-o", "link", "show"])
    return HostState(
        tables=read_tables(),
        nft_tables=_nft_tables(),
        ipsets=frozenset(_run(["ipset", "list", "-n"]).split()),
        links=frozenset(line.split(": ")[1].split("@")[0] for line in links.splitlines()),
        mounts=tuple(_mountpoints()),
        cgroups=_cgroup_dirs(),
        paths={str(p): _entries(p) for p in FIXED_PATHS},
        sysctls={name: _sysctl(name) for name in SYSCTLS},
        processes=processes_mentioning(markers),
    )


def set_sysctl(name: str, value: str) -> None:
    (Path("/proc/sys") / name).write_text(value + "\n")


def _iptables_script(table: str, before: Table, now: Table) -> str:
    """An iptables-restore --noflush script undoing ``now`` back to ``before``: added rules in
    pre-existing chains are deleted, added chains flushed, then deleted."""
    new_chains = sorted(now.chains - before.chains)
    lines = [f"*{table}"]
    for rule in now.rules:
        chain = rule.split()[1]
        if rule not in before.rules and chain not in new_chains:
            lines.append("-D" + rule[2:])
    lines += [f"-F {chain}" for chain in new_chains]
    lines += [f"-X {chain}" for chain in new_chains]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def restore_iptables(before: HostState) -> None:
    for (binary, table), now in read_tables().items():
        old = before.tables.get((binary, table), Table(frozenset(), ()))
        if now.chains - old.chains or any(r not in old.rules for r in now.rules):
            _run([f"{binary}-restore", "--noflush"], stdin=_iptables_script(table, old, now))


def kill_cgroup_members(created: Iterable[str]) -> None:
    """SIGKILL every process still in a cgroup the run created: a container whose runtime
    died before it (only pods of our nodes live below our cgroup roots)."""
    for folder in created:
        procs = Path(folder) / "cgroup.procs"
        with contextlib.suppress(OSError):
            for pid in procs.read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def _remove_cgroups(created: Iterable[str], attempts: int = 10) -> None:
    """rmdir leaves first; a cgroup whose last member was just killed stays busy until the
    kernel has released it, so retry for a few seconds."""
    left = sorted(created, key=lambda p: p.count("/"), reverse=True)
    for _ in range(attempts):
        busy = []
        for folder in left:
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError:
                busy.append(folder)  # reported by diff() if it stays
        if not busy:
            return
        left = busy
        time.sleep(1)


def _remove_paths(before: HostState) -> None:
    for name, old in before.paths.items():
        path = Path(name)
        if not path.exists():
            continue
        if old is None:
            shutil.rmtree(path, ignore_errors=True)
            continue
        for entry in path.iterdir():
            if entry.name not in old:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def restore(before: HostState) -> None:
    """Undo what the run added: mounts, links, iptables, ipsets, cgroups, fixed paths,
    sysctls. Processes must be gone first (the caller stops them)."""
    kill_cgroup_members(_cgroup_dirs() - before.cgroups)
    for point in reversed(_mountpoints()):
        if point not in before.mounts:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
    for name in sorted(snapshot().links - before.links):
        _run(["ip", "link", "delete", name])
    restore_iptables(before)
    for table in sorted(_nft_tables() - before.nft_tables):
        _run(["nft", "delete", *table.split()])
    for name in sorted(frozenset(_run(["ipset", "list", "-n"]).split()) - before.ipsets):
        _run(["ipset", "destroy", name])
    _remove_cgroups(_cgroup_dirs() - before.cgroups)
    _remove_paths(before)
    for name, value in before.sysctls.items():
        if value is not None and _sysctl(name) != value:
            set_sysctl(name, value)
