"""HPA: prod healthz's rendered HPA, driven by KWOK's emulated CPU usage (the pod annotation
kwok.x-k8s.io/usage-cpu, which kwok turns into resource metrics that metrics-server serves).
The real HPA controller scales up from minReplicas, never past maxReplicas (ScalingLimited
says so), within the scale-up rate of the default behavior, and back to minReplicas only after
the load stops and the e2e Component's shortened scale-down window has passed. The replica
timeline and its inputs are written to cluster-artifacts/hpa-timeline.json (hpa_record.py)."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime
from typing import Any

import pytest
import yaml

from gitops import k8s_math
from gitops.simulate.compare import api_time, go_duration
from tests.cluster.harness import CONTROLLER_MANAGER_ARGS, METRICS_SERVER_ARGS, REPO_ROOT
from tests.cluster.hpa_compare import compare_record, side_by_side
from tests.cluster.hpa_record import HpaRecord, LoadStep, PodTimes, Sample
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
)

pytestmark = pytest.mark.cluster
NAMESPACE = "hpa-prod"
USAGE_ANNOTATION = "kwok.x-k8s.io/usage-cpu"  # kwok's default ClusterResourceUsage reads it
E2E_COMPONENT_PATCH = REPO_ROOT / "tests" / "e2e" / "component" / "hpa-scale-down.yaml"
IDLE = "1m"
# The default scale-up behavior (autoscaling/v2 defaults): per 15 s, +4 pods or +100 %.
SCALE_UP_PERIOD, SCALE_UP_PODS, SCALE_UP_PERCENT = 15.0, 4, 100


class LoadGenerator(threading.Thread):
    """Keeps every pod of the Deployment annotated with the current per-pod CPU usage, new
    pods included, like traffic spread by a Service."""

    def __init__(self, kube: Kube, selector: dict[str, str], usage: str) -> None:
        super().__init__(daemon=True)
        self.kube, self.selector, self.usage = kube, selector, usage
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pod in self.kube.pods(NAMESPACE, self.selector):
                if (pod.metadata.annotations or {}).get(USAGE_ANNOTATION) != self.usage:
                    self.kube.request(
                        "PATCH",
                        f"/api/v1/namespaces/{NAMESPACE}/pods/{pod.metadata.name}",
                        {"metadata": {"annotations": {USAGE_ANNOTATION: self.usage}}},
                        content_type="application/merge-patch+json",
                    )
            time.sleep(0.5)


def _since(record: HpaRecord, value: Any) -> float | None:
    """A timestamp of the API (datetime or RFC 3339) as seconds since the load started."""
    if value is None:
        return None
    unix = value.timestamp() if isinstance(value, datetime) else api_time(value)
    return None if unix is None else round(unix - record.start_unix, 2)


def _served_cpu(kube: Kube, selector: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Each pod's CPU (milli, all containers) as the metrics API serves it to the HPA, with
    the PodMetrics timestamp (the scrape that measured it)."""
    query = {"labelSelector": ",".join(f"{k}={v}" for k, v in selector.items())}
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods"
    items = kube.request("GET", path, query=query).body.get("items", [])
    return {
        m["metadata"]["name"]: (
            sum(k8s_math.milli_value(c["usage"]["cpu"]) for c in m["containers"]),
            str(m["timestamp"]),
        )
        for m in items
        if m.get("containers")
    }


def _record_pods(
    kube: Kube, selector: dict[str, str], record: HpaRecord, t: float
) -> tuple[dict[str, int], float | None]:
    served = _served_cpu(kube, selector)
    for pod in kube.pods(NAMESPACE, selector):
        name = pod.metadata.name
        ready = next(
            (c for c in pod.status.conditions or [] if c.type == "Ready" and c.status == "True"),
            None,
        )
        created = _since(record, pod.metadata.creation_timestamp)
        record.seen_pod(
            name,
            PodTimes(
                created if created is not None else t,
                _since(record, pod.status.start_time),
                _since(record, ready.last_transition_time) if ready is not None else None,
                _since(record, served[name][1]) if name in served else None,
            ),
        )
    newest = max((stamp for _, stamp in served.values()), default=None)
    return {name: milli for name, (milli, _) in served.items()}, _since(record, newest)


def _sample(
    kube: Kube, names: tuple[str, str], selector: dict[str, str], record: HpaRecord, t: float
) -> Sample:
    hpa_name, deployment = names
    hpa = kube.request(
        "GET", f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers/{hpa_name}"
    ).body
    status = hpa.get("status", {})
    utilization = None
    for metric in status.get("currentMetrics") or []:
        if metric.get("type") == "Resource" and metric["resource"]["name"] == "cpu":
            utilization = metric["resource"]["current"].get("averageUtilization")
    limited = next(
        (
            c["reason"]
            for c in status.get("conditions", [])
            if c["type"] == "ScalingLimited" and c["status"] == "True"
        ),
        None,
    )
    d = kube.apps.read_namespaced_deployment(deployment, NAMESPACE)
    served, served_at = _record_pods(kube, selector, record, t)
    sample = Sample(
        t=round(t, 2),
        spec_replicas=(d.spec.replicas if d.spec else None) or 0,
        ready_replicas=(d.status.ready_replicas if d.status else None) or 0,
        desired_replicas=status.get("desiredReplicas", 0),
        utilization=utilization,
        scaling_limited=limited,
        last_scale=_since(record, status.get("lastScaleTime")),
        served_cpu=served,
        served_at=served_at,
    )
    record.samples.append(sample)
    return sample


def test_hpa_scales_up_to_max_and_back_down_after_the_window(cluster: Kube) -> None:
    docs = in_namespace(rendered("prod", "healthz"), NAMESPACE)
    deployment = of_kind(docs, "Deployment")[0]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    patch = yaml.safe_load(E2E_COMPONENT_PATCH.read_text())
    hpa["spec"].setdefault("behavior", {}).update(patch["spec"]["behavior"])
    window = hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    low, high = int(hpa["spec"]["minReplicas"]), int(hpa["spec"]["maxReplicas"])
    assert low == k8s_math.min_replicas(deployment, [hpa]) and low < high
    hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
    containers = deployment["spec"]["template"]["spec"]["containers"]
    request = sum(k8s_math.milli_value(c["resources"]["requests"]["cpu"]) for c in containers)
    # kwok applies the annotation's usage to each container: 3x the request is 300 % load,
    # far above the target, so the HPA wants more than maxReplicas.
    busy_per_container = f"{3 * request // len(containers)}m"
    name, selector = deployment["metadata"]["name"], match_labels(deployment)
    names = (hpa["metadata"]["name"], name)
    record = HpaRecord(hpa["spec"], request, dict(CONTROLLER_MANAGER_ARGS))
    record.metrics_resolution = go_duration(METRICS_SERVER_ARGS["metric-resolution"])

    create_namespace(cluster, NAMESPACE)
    load = LoadGenerator(cluster, selector, IDLE)
    start = time.monotonic()
    try:
        assert apply_all(cluster, docs, NAMESPACE) == []
        wait_for(
            f"the HPA to raise {name} to minReplicas {low}",
            lambda: cluster.apps.read_namespaced_deployment(name, NAMESPACE).spec.replicas == low,
            timeout=60,
        )
        wait_deployment_ready(cluster, NAMESPACE, name)
        load.start()
        # Steady state first, as the model's starting pods are: every pod's idle CPU served.
        # Otherwise a pod still without metrics counts as 0 % in the first scale-up (upstream
        # replica calculator), and the comparison would need each pod's own history.
        wait_for(
            f"the metrics API serving all {low} pods",
            lambda: len(_served_cpu(cluster, selector)) == low,
            timeout=90,
            interval=1,
        )
        start, record.start_unix = time.monotonic(), time.time()
        load.usage = busy_per_container
        record.load.append(LoadStep(0.0, busy_per_container))

        def at_max_and_limited() -> bool:
            s = _sample(cluster, names, selector, record, time.monotonic() - start)
            return s.spec_replicas == high and s.scaling_limited == "TooManyReplicas"

        wait_for("scale-up to maxReplicas, limited", at_max_and_limited, timeout=180, interval=1)
        stopped = time.monotonic() - start
        load.usage = IDLE
        record.load.append(LoadStep(round(stopped, 2), IDLE))

        def back_at_min() -> bool:
            s = _sample(cluster, names, selector, record, time.monotonic() - start)
            return s.spec_replicas == low

        wait_for("scale-down to minReplicas", back_at_min, timeout=240, interval=1)
        # The ReplicaSet controller follows: exactly minReplicas pods remain, all Ready.
        wait_for(
            f"{low} pods left",
            lambda: [is_ready(p) for p in cluster.pods(NAMESPACE, selector)] == [True] * low,
            timeout=60,
        )
    finally:
        load.stop.set()
        record.dump(REPO_ROOT / "cluster-artifacts" / "hpa-timeline.json")
        delete_namespace(cluster, NAMESPACE, wait=False)

    samples = record.samples
    assert max(s.spec_replicas for s in samples) == high, "never past maxReplicas"
    up = [s for s in samples if s.t <= stopped]
    for s in up:
        period_start = record.replicas_at(s.t - SCALE_UP_PERIOD + 1)
        bound = max(period_start + SCALE_UP_PODS, period_start * (100 + SCALE_UP_PERCENT) // 100)
        assert s.spec_replicas <= bound, f"scaled up faster than the default policies: {s}"
    assert all(a.spec_replicas <= b.spec_replicas for a, b in itertools.pairwise(up))
    first_down = next(s for s in samples if s.t > stopped and s.spec_replicas < high)
    assert first_down.t - stopped >= window, (
        f"scaled down {first_down.t - stopped:.0f}s after the load stopped, window {window}s"
    )
    # Issue 13: the same inputs through `gitops simulate`'s model (hpa_compare.py).
    comparison = compare_record(record)
    assert comparison.matches, (
        "the real HPA controller and gitops.simulate disagree:\n" + side_by_side(record, comparison)
    )
