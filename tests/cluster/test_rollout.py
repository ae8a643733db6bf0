"""Rollout: an image change of the prod healthz Deployment, at its HPA maximum, rolled out by
the real Deployment controller with pods that take a moment to become Ready (KWOK readiness
delay). Observed every 50 ms, with the surge/unavailable the rendered strategy implies:

- the ReplicaSets' ``spec.replicas`` never sum to more than replicas + maxSurge. That is the
  bound the Deployment controller enforces (k/k pkg/controller/deployment/util
  ``NewRSNewReplicas`` counts ``GetReplicaCountForReplicaSets``, the specs, not the pods);
- never fewer than replicas - maxUnavailable pods Ready;
- live pods above replicas + maxSurge only for moments: the new ReplicaSet's controller can
  create its pods before the old one's controller has deleted the pods its lowered spec no
  longer wants. Two controllers, no ordering between them; a CI run saw 14 pods against a
  bound of 13 for one sample. Terminating pods are not counted at all (as upstream documents
  for availableReplicas).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from gitops.simulate.rollout import deployment_rollout
from tests.cluster.kube import Kube, is_ready, wait_for
from tests.cluster.workloads import (
    apply_all,
    create_namespace,
    delete_namespace,
    in_namespace,
    match_labels,
    of_kind,
    rendered,
    wait_deployment_ready,
    with_ready_delay,
)
from tests.e2e.harness.wait import Sampler

pytestmark = pytest.mark.cluster
NAMESPACE = "rollout-prod"
# How long live pods may stay above the bound while the old ReplicaSet's deletions land.
OVERSHOOT_SECONDS = 3.0


def rolling_bounds(deployment: dict[str, Any], replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in pods as `gitops simulate rollout` reads them from the
    strategy (defaults, rounding, both 0 -> 1 unavailable: ResolveFenceposts), so the real
    controller below checks the model's numbers."""
    plan = deployment_rollout(deployment, replicas, ready_seconds=0.0, source="rollout test")
    return plan.surge, plan.unavailable


SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Look:
    """One observation of the rollout."""

    pods: int  # live pods: not terminating, not finished
    ready: int
    replica_sets: int  # the ReplicaSets' spec.replicas, summed


def look(kube: Kube, selector: dict[str, str]) -> Look:
    pods = [
        p
        for p in kube.pods(NAMESPACE, selector)
        if p.metadata.deletion_timestamp is None and p.status.phase not in ("Succeeded", "Failed")
    ]
    sets = kube.replica_sets(NAMESPACE, selector)
    return Look(
        pods=len(pods),
        ready=sum(1 for p in pods if is_ready(p)),
        replica_sets=sum(rs.spec.replicas or 0 for rs in sets),
    )


def longest_above(samples: list[tuple[float, Look]], bound: int) -> float:
    """The longest stretch, in seconds, from the first of consecutive samples with more live
    pods than ``bound`` to the last of them."""
    longest, since = 0.0, None
    for t, seen in samples:
        if seen.pods > bound:
            since = t if since is None else since
            longest = max(longest, t - since)
        else:
            since = None
    return longest


def test_image_rollout_stays_within_rendered_surge_and_unavailability(cluster: Kube) -> None:
    docs = in_namespace(rendered("prod", "healthz"), NAMESPACE)
    deployment = of_kind(docs, "Deployment")[0]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    replicas = hpa["spec"]["maxReplicas"]
    deployment["spec"]["replicas"] = replicas  # pinned: the HPA is left out
    with_ready_delay(deployment, "2s")
    name, selector = deployment["metadata"]["name"], match_labels(deployment)
    max_surge, max_unavailable = rolling_bounds(deployment, replicas)
    assert max_surge + max_unavailable > 0

    create_namespace(cluster, NAMESPACE)
    watcher = Sampler(lambda: look(cluster, selector), SAMPLE_SECONDS)
    try:
        assert apply_all(cluster, [d for d in docs if d is not hpa], NAMESPACE) == []
        wait_deployment_ready(cluster, NAMESPACE, name)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        image = container["image"]
        new_image = image.split("@")[0].rsplit(":", 1)[0] + ":rollout-test"
        container["image"] = new_image

        watcher.start()
        assert apply_all(cluster, [deployment], NAMESPACE) == []
        wait_for(
            "the rollout to finish",
            lambda: _rolled_out(cluster, name, new_image, replicas),
            timeout=120,
        )
    finally:
        samples = watcher.stop()
        delete_namespace(cluster, NAMESPACE, wait=False)
    assert not watcher.errors, watcher.errors
    assert len(samples) > 20
    bound = replicas + max_surge
    most_pods = max(seen.pods for _, seen in samples)
    most_specs = max(seen.replica_sets for _, seen in samples)
    least_ready = min(seen.ready for _, seen in samples)
    assert most_specs <= bound, (most_specs, replicas, max_surge)
    overshoot = longest_above(samples, bound)
    assert overshoot < OVERSHOOT_SECONDS, (
        f"{most_pods} live pods against a bound of {bound} for {overshoot:.2f} s"
    )
    assert least_ready >= replicas - max_unavailable, (least_ready, max_unavailable)
    # The rollout really used its room: more than replicas, in specs and in pods.
    assert most_specs > replicas
    assert most_pods > replicas


def _rolled_out(kube: Kube, name: str, image: str, replicas: int) -> bool:
    d = kube.apps.read_namespaced_deployment(name, NAMESPACE)
    assert d.spec is not None and d.status is not None
    pods = kube.pods(NAMESPACE, dict(d.spec.selector.match_labels or {}))
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    return (
        d.status.updated_replicas == replicas
        and d.status.ready_replicas == replicas
        and (d.status.replicas or 0) == replicas
        and all(p.spec.containers[0].image == image for p in live)
    )
