"""Drain nodes one by one under the PodDisruptionBudgets, as ``kubectl drain`` and the
eviction API do it, and report what each drain waits for.

The cluster is ``nodes`` nodes over ``zones`` zones (node i in zone i mod zones). Each workload
runs its steady-state replicas (the HPA minimum, see ``k8s_math.min_replicas``), placed as the
scheduler's PodTopologySpread would: a hard (DoNotSchedule) constraint filters nodes whose
domain would exceed maxSkew, then the node with the fewest matching pods in its zone, then on
itself, wins (ties: lowest node index). Draining a node: cordon it, then every 5 s (kubectl
drain's retry interval for HTTP 429) try to evict each of its pods; an eviction is allowed when
the PDB's ``disruptionsAllowed`` (``k8s_math``, pkg/controller/disruption) is above 0, and a pod
that is not Ready may always go under ``unhealthyPodEvictionPolicy: AlwaysAllow`` (under
IfHealthyBudget only while the budget is met: pkg/registry/core/pod/storage/eviction.go). The
ReplicaSet replaces an evicted pod at once; the new pod is Ready ``ready_seconds`` later. A drain
that makes no progress for ``timeout`` seconds does not complete. After each drain the node is
uncordoned (rolling node maintenance).

    >>> report = drain_nodes(workloads, nodes=3, zones=3, ready_seconds=20)
    >>> [(n.node, n.completed, n.waited_on_pdb) for n in report.nodes]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops import k8s_math
from gitops.k8s import pdb_selects, pod_spec_of, template_labels

RETRY_SECONDS = 5.0  # kubectl drain: a 429 is retried every 5 s
DEFAULT_TIMEOUT = 900.0


@dataclass(frozen=True)
class SpreadConstraint:
    max_skew: int
    topology_key: str  # kubernetes.io/hostname | topology.kubernetes.io/zone
    hard: bool  # whenUnsatisfiable: DoNotSchedule


@dataclass(frozen=True)
class DrainWorkload:
    name: str
    replicas: int
    labels: Mapping[str, str]
    spread: tuple[SpreadConstraint, ...] = ()
    pdb_name: str | None = None
    pdb_spec: Mapping[str, Any] | None = None
    never_ready: int = 0  # pods that never pass readiness (crash-looping, a broken dependency)


@dataclass
class _Pod:
    workload: str
    node: int
    ready_at: float


@dataclass(frozen=True)
class NodeDrain:
    node: str
    pods: int  # pods on the node when the drain started
    completed: bool
    seconds: float  # until the last pod was evicted (or the timeout)
    waited_on_pdb: float  # seconds during which an eviction was refused (HTTP 429)
    min_ready: Mapping[str, int]  # lowest Ready count per workload during this drain
    blocked_by: tuple[str, ...] = ()
    # (seconds since this drain started, Ready count per workload) at every retry step
    ready_series: tuple[tuple[float, Mapping[str, int]], ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "node": self.node, "pods": self.pods, "completed": self.completed,
            "seconds": self.seconds, "waitedOnPdbSeconds": self.waited_on_pdb,
            "minReady": dict(self.min_ready), "blockedBy": list(self.blocked_by),
        }  # fmt: skip


@dataclass(frozen=True)
class DrainReport:
    nodes: tuple[NodeDrain, ...]
    placement: Mapping[str, tuple[int, ...]]  # workload -> node index of each pod at start
    workloads: tuple[DrainWorkload, ...] = field(default_factory=tuple)

    @property
    def completed(self) -> bool:
        return all(n.completed for n in self.nodes)

    def desired_healthy(self, name: str) -> int | None:
        """The workload's PDB ``desiredHealthy`` at its full replicas (None: no PDB)."""
        workload = next((w for w in self.workloads if w.name == name), None)
        if workload is None or workload.pdb_spec is None:
            return None
        expected = k8s_math.expected_pods(workload.pdb_spec, workload.replicas, workload.replicas)
        return k8s_math.desired_healthy(workload.pdb_spec, expected)


class _Cluster:
    def __init__(self, nodes: int, zones: int, workloads: Sequence[DrainWorkload]) -> None:
        self.nodes = nodes
        self.zones = max(1, min(zones, nodes))
        self.workloads = {w.name: w for w in workloads}
        self.pods: list[_Pod] = []
        self.cordoned: set[int] = set()

    def zone(self, node: int) -> int:
        return node % self.zones

    def _domain(self, node: int, key: str) -> int:
        return self.zone(node) if "zone" in key else node

    def _count(self, workload: str, key: str, domain: int) -> int:
        return sum(
            1 for p in self.pods if p.workload == workload and self._domain(p.node, key) == domain
        )

    def place(self, workload: DrainWorkload, t: float, ready_seconds: float) -> bool:
        """Schedule one pod of ``workload``; False when every node is filtered out."""
        candidates = []
        for node in range(self.nodes):
            if node in self.cordoned:
                continue
            if not all(self._fits(workload, c, node) for c in workload.spread if c.hard):
                continue
            zone_count = self._count(workload.name, "zone", self.zone(node))
            node_count = self._count(workload.name, "hostname", node)
            candidates.append((zone_count, node_count, node))
        if not candidates:
            return False
        node = min(candidates)[2]
        self.pods.append(_Pod(workload.name, node, t + ready_seconds))
        return True

    def _fits(self, workload: DrainWorkload, constraint: SpreadConstraint, node: int) -> bool:
        key = constraint.topology_key
        domains = {self._domain(n, key) for n in range(self.nodes) if n not in self.cordoned}
        counts = {d: self._count(workload.name, key, d) for d in domains}
        target = self._domain(node, key)
        after = counts.get(target, 0) + 1
        return after - min(counts.values(), default=0) <= constraint.max_skew

    def ready(self, workload: str, t: float) -> int:
        return sum(1 for p in self.pods if p.workload == workload and p.ready_at <= t)

    def disruptions_allowed(self, workload: DrainWorkload, t: float) -> int:
        if workload.pdb_spec is None:
            return 1_000_000  # no budget: evictions always allowed
        matched = sum(1 for p in self.pods if p.workload == workload.name)
        expected = k8s_math.expected_pods(workload.pdb_spec, workload.replicas, matched)
        return k8s_math.disruptions_allowed(
            workload.pdb_spec, self.ready(workload.name, t), expected
        )

    def budget_met(self, workload: DrainWorkload, t: float) -> bool:
        if workload.pdb_spec is None:
            return True
        matched = sum(1 for p in self.pods if p.workload == workload.name)
        expected = k8s_math.expected_pods(workload.pdb_spec, workload.replicas, matched)
        healthy = self.ready(workload.name, t)
        return healthy >= k8s_math.desired_healthy(workload.pdb_spec, expected)


def drain_nodes(
    workloads: Sequence[DrainWorkload],
    nodes: int = 3,
    zones: int = 3,
    ready_seconds: float = 20.0,
    timeout: float = DEFAULT_TIMEOUT,
) -> DrainReport:
    cluster = _Cluster(nodes, zones, workloads)
    for workload in workloads:
        for index in range(workload.replicas):
            # Pods that have been running for a while: Ready from the start, but for the
            # ``never_ready`` ones.
            broken = index < workload.never_ready
            cluster.place(workload, -ready_seconds, math.inf if broken else ready_seconds)
    placement = {
        w.name: tuple(p.node for p in cluster.pods if p.workload == w.name) for w in workloads
    }
    results: list[NodeDrain] = []
    t = 0.0
    for node in range(nodes):
        results.append(_drain_one(cluster, node, t, ready_seconds, timeout))
        t += results[-1].seconds + 60.0  # maintenance, then the next node
        # The drained node comes back; replacements keep running where they are.
        cluster.cordoned.discard(node)
        # Let every pending replacement become Ready before the next node is touched.
        t = max([t, *[p.ready_at for p in cluster.pods if p.ready_at != math.inf]])
    return DrainReport(tuple(results), placement, tuple(workloads))


def _drain_one(
    cluster: _Cluster, node: int, start: float, ready_seconds: float, timeout: float
) -> NodeDrain:
    cluster.cordoned.add(node)
    on_node = [p for p in cluster.pods if p.node == node]
    total = len(on_node)
    min_ready = {name: cluster.ready(name, start) for name in cluster.workloads}
    waited = 0.0
    blocked: set[str] = set()
    unplaced: dict[str, list[float]] = {}
    t = start
    last_progress = start
    series: list[tuple[float, Mapping[str, int]]] = [(0.0, dict(min_ready))]
    while [p for p in cluster.pods if p.node == node]:
        refused, evicted = _evict_round(cluster, node, t, ready_seconds, blocked, unplaced)
        if evicted:
            last_progress = t
        series.append((t - start, _track_ready(cluster, min_ready, t)))
        if not [p for p in cluster.pods if p.node == node]:
            break
        if t - last_progress >= timeout:
            return NodeDrain(
                f"node-{node}", total, False, t - start, waited, min_ready,
                tuple(sorted(blocked)), tuple(series),
            )  # fmt: skip
        if refused:
            waited += RETRY_SECONDS
        t += RETRY_SECONDS
        series.append((t - start, _track_ready(cluster, min_ready, t)))
    # Replacements that found no node stay Pending: the workload runs short until uncordon.
    for name, delays in unplaced.items():
        workload = cluster.workloads[name]
        for delay in delays:
            cluster.cordoned.discard(node)
            cluster.place(workload, t, delay)
            cluster.cordoned.add(node)
    # The series goes on until every replacement is Ready (what the next node waits for).
    t_done, settle = t, max([t, *[p.ready_at for p in cluster.pods if p.ready_at != math.inf]])
    while t < settle:
        t = min(t + RETRY_SECONDS, settle)
        series.append((t - start, {n: cluster.ready(n, t) for n in cluster.workloads}))
    return NodeDrain(
        f"node-{node}", total, True, t_done - start, waited, min_ready, tuple(sorted(blocked)),
        tuple(series),
    )  # fmt: skip


def _evict_round(
    cluster: _Cluster,
    node: int,
    t: float,
    ready_seconds: float,
    blocked: set[str],
    unplaced: dict[str, list[float]],
) -> tuple[bool, bool]:
    """One pass of ``kubectl drain`` over the node's pods at ``t``: (some eviction was refused,
    some pod was evicted). Refusing budgets go to ``blocked``; replacements that find no node
    to ``unplaced``."""
    refused = evicted = False
    for pod in [p for p in cluster.pods if p.node == node]:
        workload = cluster.workloads[pod.workload]
        if not _eviction_allowed(cluster, workload, pod, t):
            refused = True
            blocked.add(workload.pdb_name or workload.name)
            continue
        cluster.pods.remove(pod)
        evicted = True
        # A pod that never got Ready is replaced by one that will not either.
        delay = math.inf if pod.ready_at == math.inf else ready_seconds
        if not cluster.place(workload, t, delay):
            unplaced.setdefault(workload.name, []).append(delay)
    return refused, evicted


def _eviction_allowed(cluster: _Cluster, workload: DrainWorkload, pod: _Pod, t: float) -> bool:
    """The eviction API's answer: an unready pod may go when the budget is met anyway (or the
    PDB says AlwaysAllow); otherwise only while disruptions are allowed."""
    policy = (workload.pdb_spec or {}).get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
    if pod.ready_at > t and (policy == "AlwaysAllow" or cluster.budget_met(workload, t)):
        return True
    return cluster.disruptions_allowed(workload, t) > 0


def _track_ready(cluster: _Cluster, min_ready: dict[str, int], t: float) -> dict[str, int]:
    """Lower ``min_ready`` to the Ready counts at ``t``, and return those counts."""
    now = {name: cluster.ready(name, t) for name in cluster.workloads}
    for name, ready in now.items():
        min_ready[name] = min(min_ready[name], ready)
    return now


def _spread(template_spec: Mapping[str, Any]) -> tuple[SpreadConstraint, ...]:
    out = []
    for constraint in template_spec.get("topologySpreadConstraints") or []:
        key = str(constraint.get("topologyKey", ""))
        if key not in ("kubernetes.io/hostname", "topology.kubernetes.io/zone"):
            continue
        out.append(
            SpreadConstraint(
                int(constraint.get("maxSkew") or 1),
                key,
                constraint.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule",
            )
        )
    return tuple(out)


def workloads_from_objects(objects: Sequence[Mapping[str, Any]]) -> list[DrainWorkload]:
    """Deployments and StatefulSets of a rendered overlay with their HPA minimum, PDB and
    topology spread constraints."""
    hpas = [o for o in objects if o.get("kind") == "HorizontalPodAutoscaler"]
    pdbs = [o for o in objects if o.get("kind") == "PodDisruptionBudget"]
    out: list[DrainWorkload] = []
    for obj in objects:
        if obj.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        labels = dict(template_labels(obj))
        try:
            replicas = k8s_math.min_replicas(obj, hpas)
        except k8s_math.InvalidValueError:
            continue
        if replicas <= 0:
            continue
        pdb = next(
            (p for p in pdbs if pdb_selects(_spec(p), labels)),
            None,
        )
        out.append(
            DrainWorkload(
                name=str((obj.get("metadata") or {}).get("name")),
                replicas=replicas,
                labels=labels,
                spread=_spread(pod_spec_of(obj)),
                pdb_name=str(pdb["metadata"]["name"]) if pdb else None,
                pdb_spec=(pdb.get("spec") or {}) if pdb else None,
            )
        )
    return out


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}
