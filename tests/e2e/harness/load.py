"""The HPA test's load, per backend: the test says "start the load sized by this plan" and
"stop it"; the backend decides what that means.

* kind (real containers): the in-cluster HTTP load generator (tests/e2e/manifests/
  load-generator) runs ``plan.clients`` blocking clients; stopping scales it to zero.
* KWOK (simulated pods, no process to burn CPU): every pod of the target Deployment carries
  the ``kwok.x-k8s.io/usage-cpu`` annotation, which KWOK's default ClusterResourceUsage
  (kwok v0.8.0 kustomize/metrics/usage/usage-from-annotation.yaml) turns into each container's
  emulated CPU usage, scraped by metrics-server like a kubelet's. The value is what the HTTP
  load produces on kind: pods saturated up to their CPU limit (``plan.saturated_utilization``
  percent of the request). New pods get it too, as a Service would spread traffic to them.
  Stopping removes the annotation: KWOK then reports its default of 1m per container.

    >>> load = environment.hpa_load("healthz")
    >>> load.start(plan); ...; load.stop()
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops.k8s_math import milli_value
from tests.e2e.harness.expectations import LoadPlan
from tests.e2e.harness.kube import TRANSIENT, Kube

LOAD_DEPLOYMENT = "healthz-load"  # tests/e2e/manifests/load-generator
LOAD_CONTAINER = "load"
USAGE_CPU_ANNOTATION = "kwok.x-k8s.io/usage-cpu"
ANNOTATE_INTERVAL_SECONDS = 0.5


class LoadDriver(Protocol):
    def start(self, plan: LoadPlan) -> None: ...

    def stop(self) -> None: ...


@dataclass
class HttpLoad:
    """kind: real HTTP clients in a pod of their own."""

    kube: Kube
    namespace: str

    def start(self, plan: LoadPlan) -> None:
        self.kube.run_load(self.namespace, LOAD_DEPLOYMENT, LOAD_CONTAINER, plan.clients)

    def stop(self) -> None:
        self.kube.scale_deployment(self.namespace, LOAD_DEPLOYMENT, 0)


def saturated_usage(containers: Sequence[Mapping[str, Any]], plan: LoadPlan) -> str:
    """Per-container CPU usage (milli) of a pod saturated as ``plan`` says: the annotation
    gives every container the same value, so the pod's utilisation is ``plan``'s when the
    requests are spread evenly over its containers (they are: one container in healthz)."""
    requests = [
        milli_value(((c.get("resources") or {}).get("requests") or {})["cpu"]) for c in containers
    ]
    per_container = sum(requests) * plan.saturated_utilization // 100 // len(requests)
    return f"{per_container}m"


@dataclass
class SimulatedCpuLoad:
    """KWOK: annotate the target's pods with the usage, until stopped."""

    kube: Kube
    namespace: str
    selector: str  # label selector of the target Deployment's pods
    containers: Sequence[Mapping[str, Any]]
    usage: str | None = None
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, plan: LoadPlan) -> None:
        self.usage = saturated_usage(self.containers, plan)
        self._stop.clear()
        self.annotate_all(self.usage)
        self._thread = threading.Thread(target=self._run, name="simulated-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.annotate_all(None)

    def _run(self) -> None:
        while not self._stop.wait(ANNOTATE_INTERVAL_SECONDS):
            try:
                self.annotate_all(self.usage)
            except TRANSIENT as exc:  # an API hiccup: the next pass catches up
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def annotate_all(self, usage: str | None) -> None:
        """Set (or with None remove) the usage annotation on every pod that differs."""
        for pod in self.kube.pods(self.namespace, self.selector):
            annotations = pod["metadata"].get("annotations") or {}
            if annotations.get(USAGE_CPU_ANNOTATION) == usage:
                continue
            self.kube.annotate_pod(
                self.namespace, pod["metadata"]["name"], {USAGE_CPU_ANNOTATION: usage}
            )
