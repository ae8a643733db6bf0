"""The official ``kubernetes`` client, and the few cluster facts the tests assert on.

Objects are turned into plain dicts (camelCase, as in the manifests) with the client's own
serializer, so the pure helpers (watchers.is_pod_ready, expectations) work on both.

    >>> kube = Kube.from_kubeconfig(cluster.kubeconfig)
    >>> kube.ready_pods("integration", "app=healthz")
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from tests.e2e.harness.watchers import ReadyPodTracker, is_pod_ready, restart_counts

Document = dict[str, Any]

# Raised by API calls while a component restarts or a watch expires: "not yet", retry.
TRANSIENT = (ApiException, ConnectionError, TimeoutError)


@dataclass
class Kube:
    api: client.ApiClient
    core: client.CoreV1Api = field(init=False)
    apps: client.AppsV1Api = field(init=False)
    batch: client.BatchV1Api = field(init=False)
    autoscaling: client.AutoscalingV2Api = field(init=False)
    policy: client.PolicyV1Api = field(init=False)
    custom: client.CustomObjectsApi = field(init=False)

    def __post_init__(self) -> None:
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.batch = client.BatchV1Api(self.api)
        self.autoscaling = client.AutoscalingV2Api(self.api)
        self.policy = client.PolicyV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path) -> Kube:
        api = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
        return cls(api)

    def to_dict(self, obj: Any) -> Document:
        serialized: Document = self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        return dict(serialized)

    # --- pods -----------------------------------------------------------------------------

    def pods(self, namespace: str, selector: str) -> list[Document]:
        listed = self.core.list_namespaced_pod(namespace, label_selector=selector)
        return [self.to_dict(p) for p in listed.items]

    def ready_pods(self, namespace: str, selector: str) -> list[Document]:
        return [p for p in self.pods(namespace, selector) if is_pod_ready(p)]

    def restart_counts(self, namespace: str, selector: str) -> dict[str, dict[str, int]]:
        return {p["metadata"]["name"]: restart_counts(p) for p in self.pods(namespace, selector)}

    def evict(self, namespace: str, pod: str) -> tuple[int, str]:
        """policy/v1 Eviction; (HTTP status, reason). 201 on success, 429 when the PDB says no."""
        # apiVersion/kind spelled out, as in the API docs' example: the client serializes only
        # the fields that are set.
        body = client.V1Eviction(
            api_version="policy/v1",
            kind="Eviction",
            metadata=client.V1ObjectMeta(name=pod, namespace=namespace),
        )
        try:
            self.core.create_namespaced_pod_eviction(pod, namespace, body)
        except ApiException as exc:
            return int(exc.status), str(exc.body or exc.reason)
        return 201, "evicted"

    def annotate_pod(self, namespace: str, pod: str, annotations: Mapping[str, str | None]) -> None:
        """Merge-patch the pod's annotations (None removes one)."""
        self.core.patch_namespaced_pod(
            pod, namespace, {"metadata": {"annotations": dict(annotations)}}
        )

    # --- nodes ----------------------------------------------------------------------------

    def nodes(self) -> list[Document]:
        return [self.to_dict(n) for n in self.core.list_node().items]

    def set_unschedulable(self, node: str, unschedulable: bool) -> None:
        """`kubectl cordon` / `uncordon`: the same one-field patch."""
        self.core.patch_node(node, {"spec": {"unschedulable": unschedulable}})

    # --- workloads ------------------------------------------------------------------------

    def deployment(self, namespace: str, name: str) -> Document:
        return self.to_dict(self.apps.read_namespaced_deployment(name, namespace))

    def deployment_rolled_out(self, namespace: str, name: str) -> bool:
        """All replicas updated, Ready and available, and the controller has seen the spec."""
        deployment = self.deployment(namespace, name)
        spec_replicas = deployment["spec"].get("replicas", 1)
        status = deployment.get("status") or {}
        return bool(
            status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == spec_replicas
            and status.get("readyReplicas", 0) == spec_replicas
            and status.get("availableReplicas", 0) == spec_replicas
            and status.get("replicas", 0) == spec_replicas
        )

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        # Through the scale subresource, as the HPA does: no field of the manifest changes.
        self.apps.patch_namespaced_deployment_scale(
            name, namespace, {"spec": {"replicas": replicas}}
        )

    def run_load(self, namespace: str, name: str, container: str, clients: int) -> None:
        """Start the load generator: one pod running ``clients`` blocking HTTP clients
        (its THREADS; sized by expectations.load_plan). Stop it with scale_deployment(0)."""
        if clients < 1:
            raise ValueError(f"the load generator needs at least one client, got {clients}")
        env = [{"name": "THREADS", "value": str(clients)}]
        patch = {
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"name": container, "env": env}]}},
            }
        }
        # Strategic merge: containers and env entries are merged by name, the rest stays.
        self.apps.patch_namespaced_deployment(name, namespace, patch)

    def restart_deployment(self, namespace: str, name: str, stamp: str) -> None:
        """What `kubectl rollout restart` does: a new pod-template annotation."""
        patch = {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"integration.example.org/e2e-restart": stamp}}
                }
            }
        }
        self.apps.patch_namespaced_deployment(name, namespace, patch)

    def job_succeeded(self, namespace: str, name: str) -> bool:
        job = self.to_dict(self.batch.read_namespaced_job(name, namespace))
        status = job.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Failed" and condition.get("status") == "True":
                raise AssertionError(
                    f"Job {namespace}/{name} failed: {condition.get('reason')}: "
                    f"{condition.get('message')}"
                )
        return bool(status.get("succeeded"))

    def hpa(self, namespace: str, name: str) -> Document:
        return self.to_dict(
            self.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, namespace)
        )

    def patch_hpa_min_replicas(self, namespace: str, name: str, minimum: int) -> None:
        self.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            name, namespace, {"spec": {"minReplicas": minimum}}
        )

    def pdb(self, namespace: str, name: str) -> Document:
        return self.to_dict(self.policy.read_namespaced_pod_disruption_budget(name, namespace))

    def argo_application(self, namespace: str, name: str) -> Document:
        found = self.custom.get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", namespace, "applications", name
        )
        return dict(cast(Document, found))

    def refresh_argo_application(self, namespace: str, name: str) -> None:
        """Ask Argo CD to compare again now rather than at its next 3-minute poll."""
        self.custom.patch_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            namespace,
            "applications",
            name,
            {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
        )


@dataclass
class ReadyPodWatcher:
    """Feed a :class:`ReadyPodTracker` from a pod watch on a thread, until stopped.

    A watch, not polling: every transition of every pod is seen, so "never below the budget"
    is checked at each change rather than at sample times. The initial list seeds the state;
    the watch resumes from its resourceVersion and re-lists if that expires (HTTP 410).
    """

    kube: Kube
    namespace: str
    selector: str
    tracker: ReadyPodTracker = field(default_factory=ReadyPodTracker)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _watch: watch.Watch | None = None

    def _list(self) -> str:
        listed = self.kube.core.list_namespaced_pod(self.namespace, label_selector=self.selector)
        # A fresh list replaces the state (also after the watch expired, HTTP 410).
        self.tracker.seed([self.kube.to_dict(pod) for pod in listed.items])
        assert listed.metadata is not None
        return str(listed.metadata.resource_version)

    def _watch_from(self, version: str) -> str:
        """Apply events from ``version`` on until the watch ends; the last version seen."""
        self._watch = watch.Watch()  # type: ignore[no-untyped-call]
        for event in self._watch.stream(  # type: ignore[no-untyped-call]
            self.kube.core.list_namespaced_pod,
            self.namespace,
            label_selector=self.selector,
            resource_version=version,
            timeout_seconds=30,
        ):
            pod = self.kube.to_dict(event["object"])
            version = pod["metadata"].get("resourceVersion", version)
            self.tracker.apply(str(event["type"]), pod)
            if self._stop.is_set():
                break
        return version

    def _run(self) -> None:
        try:
            version = self._list()
            while not self._stop.is_set():
                try:
                    version = self._watch_from(version)
                except ApiException as exc:
                    if exc.status != 410:
                        raise
                    version = self._list()
                except ProtocolError:
                    # The server closed the stream mid-response (an API server busy on a loaded
                    # machine does): resuming from the last version loses no event.
                    self.reconnects += 1
        except Exception as exc:  # reported by the test through .errors
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def start(self) -> ReadyPodWatcher:
        self._thread = threading.Thread(target=self._run, name="ready-pod-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> ReadyPodTracker:
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]
        if self._thread is not None:
            self._thread.join(timeout=60)
        return self.tracker


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            found: Mapping[str, Any] = entry
            return found
    return None
