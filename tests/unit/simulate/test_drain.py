"""``gitops.simulate.drain``: node drains through PDBs, as the eviction API and the
disruption controller decide."""

from __future__ import annotations

import pytest

from gitops.simulate.drain import DrainWorkload, SpreadConstraint, drain_nodes


def test_drain_waits_on_the_pdb_for_the_replacement() -> None:
    workload = DrainWorkload("api", 3, {"app": "api"}, (), "api-pdb", {"maxUnavailable": 1})
    report = drain_nodes([workload], nodes=2, zones=1, ready_seconds=20)
    assert report.placement["api"] == (0, 1, 0)
    first = report.nodes[0]
    # Two pods on node-0: the first eviction uses the one disruption; the second waits until
    # the first one's replacement is Ready (20 s, retried every 5 s).
    assert first.completed and first.waited_on_pdb == 20 and first.min_ready["api"] == 2
    assert first.blocked_by == ("api-pdb",)


def test_drain_blocked_by_a_budget_that_allows_nothing() -> None:
    workload = DrainWorkload("db", 2, {"app": "db"}, (), "db-pdb", {"minAvailable": 2})
    report = drain_nodes([workload], nodes=2, zones=2, ready_seconds=20, timeout=60)
    assert not report.completed and not report.nodes[0].completed
    assert report.nodes[0].blocked_by == ("db-pdb",)


def test_drain_without_pdb_loses_the_single_replica() -> None:
    report = drain_nodes([DrainWorkload("cron", 1, {"app": "cron"})], nodes=2, zones=2)
    assert report.nodes[0].completed and report.nodes[0].min_ready["cron"] == 0


def test_hard_zone_spread_filters_nodes() -> None:
    spread = (SpreadConstraint(1, "topology.kubernetes.io/zone", hard=True),)
    report = drain_nodes([DrainWorkload("web", 3, {"app": "web"}, spread)], nodes=3, zones=3)
    assert sorted(report.placement["web"]) == [0, 1, 2]


@pytest.mark.parametrize(
    ("policy", "completed"),
    [("AlwaysAllow", True), ("IfHealthyBudget", False), (None, False)],
)
def test_unhealthy_pod_eviction_policy(policy: str | None, completed: bool) -> None:
    """A crash-looping pod (never Ready) with the budget not met: AlwaysAllow lets the drain
    evict it; IfHealthyBudget (the default) refuses until the budget is met, which it never is."""
    pdb: dict[str, object] = {"minAvailable": 2}
    if policy:
        pdb["unhealthyPodEvictionPolicy"] = policy
    workload = DrainWorkload("api", 2, {"app": "api"}, (), "api-pdb", pdb, never_ready=1)
    report = drain_nodes([workload], nodes=2, zones=2, timeout=60)
    assert report.placement["api"] == (0, 1)
    assert report.nodes[0].completed is completed  # node-0 holds the never-ready pod
    assert not report.nodes[1].completed  # the Ready pod is protected by the unmet budget
