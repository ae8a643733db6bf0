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

import threading
import time
from typing import Any

import pytest

from gitops import k8s_math
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

pytestmark = pytest.mark.cluster
NAMESPACE = "rollout-prod"
DEFAULT_PERCENT = "25%"  # apps/v1 defaults of maxSurge and maxUnavailable
# How long live pods may stay above the bound while the old ReplicaSet's deletions land.
OVERSHOOT_SECONDS = 3.0


def rolling_bounds(deployment: dict[str, Any], replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as pods: surge rounds up, unavailable down; both 0 -> 1
    unavailable (k/k pkg/controller/deployment/util ResolveFenceposts)."""
    strategy = deployment["spec"].get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    surge = k8s_math.parse_int_or_percent(rolling.get("maxSurge", DEFAULT_PERCENT))
    unavailable = k8s_math.parse_int_or_percent(rolling.get("maxUnavailable", DEFAULT_PERCENT))
    max_surge = surge.scaled(replicas, round_up=True)
    max_unavailable = unavailable.scaled(replicas, round_up=False)
    if max_surge == 0 and max_unavailable == 0:
        max_unavailable = 1
    return max_surge, max_unavailable


class PodWatcher(threading.Thread):
    """Samples live pods, Ready pods and the ReplicaSets' summed spec.replicas every 50 ms,
    and the longest stretch during which live pods stood above ``bound``."""

    def __init__(self, kube: Kube, selector: dict[str, str], bound: int) -> None:
        super().__init__(daemon=True)
        self.kube, self.selector, self.bound = kube, selector, bound
        self.max_pods = 0
        self.max_replica_sets = 0
        self.min_ready: int | None = None
        self.samples = 0
        self.longest_overshoot = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(self.selector.items()))
        over_since: float | None = None
        while not self.stop.is_set():
            now = time.monotonic()
            pods = [
                p
                for p in self.kube.pods(NAMESPACE, self.selector)
                if p.metadata.deletion_timestamp is None
                and p.status.phase not in ("Succeeded", "Failed")
            ]
            sets = self.kube.apps.list_namespaced_replica_set(
                NAMESPACE, label_selector=label_selector
            ).items
            ready = sum(1 for p in pods if is_ready(p))
            self.max_pods = max(self.max_pods, len(pods))
            spec_sum = sum(rs.spec.replicas or 0 for rs in sets)
            self.max_replica_sets = max(self.max_replica_sets, spec_sum)
            self.min_ready = ready if self.min_ready is None else min(self.min_ready, ready)
            if len(pods) > self.bound:
                over_since = now if over_since is None else over_since
                self.longest_overshoot = max(self.longest_overshoot, now - over_since)
            else:
                over_since = None
            self.samples += 1
            time.sleep(0.05)


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
    watcher = PodWatcher(cluster, selector, replicas + max_surge)
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
        watcher.stop.set()
        delete_namespace(cluster, NAMESPACE, wait=False)
    assert watcher.samples > 20
    bound = replicas + max_surge
    assert watcher.max_replica_sets <= bound, (watcher.max_replica_sets, replicas, max_surge)
    assert watcher.longest_overshoot < OVERSHOOT_SECONDS, (
        f"{watcher.max_pods} live pods against a bound of {bound} for "
        f"{watcher.longest_overshoot:.2f} s"
    )
    assert watcher.min_ready is not None
    assert watcher.min_ready >= replicas - max_unavailable, (watcher.min_ready, max_unavailable)
    # The rollout really used its room: more than replicas, in specs and in pods.
    assert watcher.max_replica_sets > replicas
    assert watcher.max_pods > replicas


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
