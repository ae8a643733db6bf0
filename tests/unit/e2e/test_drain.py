"""The drain test's set-up and evidence (harness/drain.py): which nodes to cordon so the
pods gather on one, and the budget's refusals read from kubectl drain's output."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness.drain import (
    busiest_node,
    cordon_for_gathering,
    drain_refusals,
    pods_by_node,
)


def node(name: str, cordoned: bool = False) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"unschedulable": True} if cordoned else {}}


def pod(name: str, on: str | None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"nodeName": on} if on else {}}


NODES = [node("cp"), node("worker"), node("worker2"), node("worker3", cordoned=True)]


def test_cordon_every_other_schedulable_node_and_leave_cordoned_ones_alone() -> None:
    # worker3 was cordoned before the test: uncordoning the returned list must not touch it.
    assert cordon_for_gathering(NODES, keep="worker") == ["cp", "worker2"]
    with pytest.raises(LookupError, match="no node 'gone'"):
        cordon_for_gathering(NODES, keep="gone")


def test_pods_by_node_and_the_busiest_node() -> None:
    pods = [pod("a", "worker2"), pod("b", "worker"), pod("c", "worker2"), pod("d", None)]
    assert pods_by_node(pods) == {"worker": ["b"], "worker2": ["a", "c"]}
    assert busiest_node(pods) == "worker2"
    # a tie goes to the first name, so reruns pick the same node
    assert busiest_node([pod("a", "worker2"), pod("b", "worker")]) == "worker"
    with pytest.raises(LookupError):
        busiest_node([pod("d", None)])


# kubectl drain output (k8s.io/kubectl/pkg/drain): the current and the older format of a 429.
DRAIN_STDERR = """\
evicting pod integration/healthz-7c9-aaaaa
evicting pod integration/healthz-7c9-bbbbb
error when evicting pods/"healthz-7c9-bbbbb" -n "integration" (will retry after 5s): \
Cannot evict pod as it would violate the pod's disruption budget.
error when evicting pods/"healthz-7c9-bbbbb" -n "integration" (will retry after 5s): \
Cannot evict pod as it would violate the pod's disruption budget.
error when evicting pod "healthz-old-ccccc" (will retry after 5s): Cannot evict pod as it \
would violate the pod's disruption budget.
error when evicting pods/"healthz-7c9-ddddd" -n "integration" (will retry after 5s): \
the server has received too many requests and has asked us to try again later
pod/healthz-7c9-aaaaa evicted
pod/healthz-7c9-bbbbb evicted
"""


def test_drain_refusals_count_only_budget_429s() -> None:
    assert drain_refusals(DRAIN_STDERR) == [
        "healthz-7c9-bbbbb",
        "healthz-7c9-bbbbb",
        "healthz-old-ccccc",
    ]
    # A drain the budget never held up (what the old, spread-out test always saw).
    assert drain_refusals("evicting pod integration/healthz-7c9-aaaaa\n") == []
