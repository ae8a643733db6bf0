"""The HPA scenario of the cluster tier: prod healthz's rendered HPA, driven by KWOK's emulated
CPU usage (the pod annotation kwok.x-k8s.io/usage-cpu, which kwok turns into resource metrics
that metrics-server serves) from minReplicas to maxReplicas and back after the load stops.
The replica timeline and its inputs are recorded (hpa_record.py) and written to
cluster-artifacts/hpa-timeline.json; test_hpa.py asserts on them.

It is mostly waiting (a 15 s scale-up period three times, a 30 s scale-down window, 10 s
scrapes), so the session runs it in the background from its start (conftest.py) beside the
tests that neither evict its pods nor leave it without a schedulable node (the PDB test lets
a readiness delay, not cordons, hold its budget; the drain test cordons one node of three);
the e2e modules, whose `kubectl drain` empties whole nodes, are ordered after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from gitops import k8s_math
from gitops.simulate.compare import api_time, go_duration
from tests.cluster.harness import CONTROLLER_MANAGER_ARGS, METRICS_SERVER_ARGS, REPO_ROOT
from tests.cluster.hpa_record import HpaRecord, LoadStep, PodTimes, Sample
from tests.cluster.kube import Kube, is_ready, label_selector
from tests.cluster.kube import wait_for as kube_wait_for
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

NAMESPACE = "hpa-prod"
USAGE_ANNOTATION = "kwok.x-k8s.io/usage-cpu"  # kwok's default ClusterResourceUsage reads it
E2E_COMPONENT_PATCH = REPO_ROOT / "tests" / "e2e" / "component" / "hpa-scale-down.yaml"
IDLE = "1m"
# The default scale-up behavior (autoscaling/v2 defaults): per 15 s, +4 pods or +100 %.
SCALE_UP_PERIOD, SCALE_UP_PODS, SCALE_UP_PERCENT = 15.0, 4, 100
# Longer than the scenario ever took (~105 s alone, ~140 s beside the other tests); its own
# waits' timeouts add up to more, and a cancel() ends it at the next poll.
JOIN_TIMEOUT_SECONDS = 600.0


class Cancelled(Exception):
    """The session ended before the scenario did (``-x``, Ctrl-C)."""


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


def _served_cpu(
    kube: Kube, selector: dict[str, str], namespace: str = NAMESPACE
) -> dict[str, tuple[int, str]]:
    """Each pod's CPU (milli, all containers) as the metrics API serves it to the HPA, with
    the PodMetrics timestamp (the scrape that measured it)."""
    query = {"labelSelector": label_selector(selector)}
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
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
    kube: Kube, selector: dict[str, str], record: HpaRecord, t: float, namespace: str = NAMESPACE
) -> tuple[dict[str, int], float | None]:
    served = _served_cpu(kube, selector, namespace)
    for pod in kube.pods(namespace, selector):
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
    kube: Kube,
    names: tuple[str, str],
    selector: dict[str, str],
    record: HpaRecord,
    t: float,
    namespace: str = NAMESPACE,
) -> Sample:
    """One sample of the HPA, its Deployment and the served CPU of its pods, into ``record``
    (``namespace``: the node tier samples the same way in a namespace of its own)."""
    hpa_name, deployment = names
    hpa = kube.request(
        "GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{hpa_name}"
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
    d = kube.apps.read_namespaced_deployment(deployment, namespace)
    served, served_at = _record_pods(kube, selector, record, t, namespace)
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


@dataclass(frozen=True)
class HpaRun:
    """What the scenario recorded, and the numbers the assertions need."""

    record: HpaRecord
    stopped: float  # seconds after the load began at which it stopped
    window: int  # the scale-down stabilization window applied, seconds
    low: int  # minReplicas
    high: int  # maxReplicas


def run_scenario(cluster: Kube, cancel: threading.Event | None = None) -> HpaRun:
    """Apply prod healthz with the e2e Component's scale-down behavior into its own namespace,
    wait for the steady state at minReplicas, load every pod at 3x its request until the HPA
    is at maxReplicas and limited, then idle until it is back at minReplicas; sampled once a
    second into the record. Raises AssertionError when a wait times out, Cancelled at the
    first poll after ``cancel`` is set (the namespace is deleted either way)."""
    cancel = cancel or threading.Event()

    def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        def step() -> Any:
            if cancel.is_set():
                raise Cancelled(what)
            return check()

        return kube_wait_for(what, step, timeout, interval)

    docs = in_namespace(rendered("prod", "healthz"), NAMESPACE)
    deployment = of_kind(docs, "Deployment")[0]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    patch = yaml.safe_load(E2E_COMPONENT_PATCH.read_text())
    hpa["spec"].setdefault("behavior", {}).update(patch["spec"]["behavior"])
    window = hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    low, high = int(hpa["spec"]["minReplicas"]), int(hpa["spec"]["maxReplicas"])
    assert low == k8s_math.min_replicas(deployment, [hpa]) and low < high
    containers = deployment["spec"]["template"]["spec"]["containers"]
    request = sum(k8s_math.milli_value(c["resources"]["requests"]["cpu"]) for c in containers)
    # kwok applies the annotation's usage to each container: 3x the request is 300 % load,
    # far above the target, so the HPA wants more than maxReplicas.
    busy_per_container = f"{3 * request // len(containers)}m"
    name, selector = deployment["metadata"]["name"], match_labels(deployment)
    names = (hpa["metadata"]["name"], name)
    record = HpaRecord(hpa["spec"], request, dict(CONTROLLER_MANAGER_ARGS))
    record.metrics_resolution = go_duration(METRICS_SERVER_ARGS["metric-resolution"])

    # A run interrupted on a reused cluster (CLUSTER_KUBECONFIG) may have left it behind.
    delete_namespace(cluster, NAMESPACE)
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
        if not cancel.is_set():  # a cancelled run's partial record would only mislead
            record.dump(REPO_ROOT / "cluster-artifacts" / "hpa-timeline.json")
        delete_namespace(cluster, NAMESPACE, wait=False)

    return HpaRun(record, stopped, window, low, high)


class BackgroundScenario(threading.Thread):
    """:func:`run_scenario` on its own client, in a daemon thread; :meth:`outcome` joins it."""

    def __init__(self, kubeconfig: Path) -> None:
        super().__init__(daemon=True, name="hpa-scenario")
        self.kubeconfig = kubeconfig
        self.run_result: HpaRun | None = None
        self.error: BaseException | None = None
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            self.run_result = run_scenario(Kube(self.kubeconfig), self.cancel)
        except BaseException as error:  # handed to the test that joins
            self.error = error

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel a scenario still running and wait for it to clean up its namespace."""
        self.cancel.set()
        self.join(timeout)

    def outcome(self, timeout: float = JOIN_TIMEOUT_SECONDS) -> HpaRun:
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"the HPA scenario still runs after {timeout:.0f}s")
        if self.error is not None:
            raise self.error
        assert self.run_result is not None
        return self.run_result
