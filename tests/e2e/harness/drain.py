"""The drain test's set-up and evidence, as pure functions over nodes, pods and kubectl output.

A drain proves the budget only if it evicts more pods than the budget allows at once: then
the eviction of at least one pod must be refused (HTTP 429) until a replacement is Ready
elsewhere. The test therefore gathers the pods on one node first (every other schedulable
node cordoned during a rollout restart), checks that precondition, and afterwards reads the
refusals from kubectl drain's own output.

    >>> cordon_for_gathering(nodes, keep="integration-e2e-worker")
    ['integration-e2e-worker2']
    >>> drain_refusals(result.stderr)
    ['healthz-6d9f-abcde']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# kubectl drain's line for an eviction answered 429 (k8s.io/kubectl/pkg/drain): current
# releases print `pods/"NAME" -n "NS"`, older ones `pod "NAME"`. The same 429 status is also
# used by API priority and fairness, so only lines naming the disruption budget count.
_REFUSED = re.compile(
    r'error when evicting (?:pods/"(?P<new>[^"]+)" -n "[^"]*"|pod "(?P<old>[^"]+)")'
    r" \(will retry after \d+s\): (?P<reason>.*)"
)


def is_schedulable(node: Mapping[str, Any]) -> bool:
    """Not cordoned (spec.unschedulable). Taints are the scheduler's business, not ours."""
    return not (node.get("spec") or {}).get("unschedulable")


def cordon_for_gathering(nodes: Iterable[Mapping[str, Any]], keep: str) -> list[str]:
    """The nodes to cordon so that new pods can only land on ``keep``: every schedulable node
    but that one. Nodes cordoned already are left out, so uncordoning exactly this list
    afterwards restores the cluster as it was."""
    names = [str((n.get("metadata") or {}).get("name")) for n in nodes]
    if keep not in names:
        raise LookupError(f"no node {keep!r} among {sorted(names)}")
    return sorted(
        str((n.get("metadata") or {}).get("name"))
        for n in nodes
        if is_schedulable(n) and (n.get("metadata") or {}).get("name") != keep
    )


def pods_by_node(pods: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """node name -> pod names (pods not scheduled yet are left out)."""
    placement: dict[str, list[str]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            placement.setdefault(str(node), []).append(str(pod["metadata"]["name"]))
    return {node: sorted(names) for node, names in sorted(placement.items())}


def busiest_node(pods: Iterable[Mapping[str, Any]]) -> str:
    """The node holding the most of ``pods`` (ties: the first name), for a stable choice."""
    placement = pods_by_node(pods)
    if not placement:
        raise LookupError("no scheduled pod to choose a node by")
    return max(placement, key=lambda node: len(placement[node]))


def drain_refusals(output: str) -> list[str]:
    """Pod names whose eviction the disruption budget refused, once per refusal, in order."""
    refused: list[str] = []
    for line in output.splitlines():
        match = _REFUSED.search(line)
        if match and "disruption budget" in match.group("reason"):
            refused.append(match.group("new") or match.group("old"))
    return refused
