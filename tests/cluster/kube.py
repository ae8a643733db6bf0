"""The API calls the cluster tests make: the official client's typed APIs for reads, and raw
requests through its connection pool for what the typed APIs hide (server-side apply with
``fieldValidation=Strict``, dry-run, eviction status codes)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from kubernetes import client, config

FIELD_MANAGER = "gitops-cluster-tests"


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message", self.body))


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


class Kube:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.api_client = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.policy = client.PolicyV1Api(self.api_client)
        self.autoscaling = client.AutoscalingV2Api(self.api_client)
        self._resources: dict[tuple[str, str], Resource] = {}

    # -- raw requests ------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        url = self.api_client.configuration.host + path
        if query:
            url += "?" + urlencode(query)
        headers = {"Accept": "application/json", "Content-Type": content_type}
        payload = None if body is None else json.dumps(body).encode()
        raw = self.api_client.rest_client.pool_manager.request(
            method, url, body=payload, headers=headers, timeout=30.0
        )
        try:
            parsed = json.loads(raw.data or b"{}")
        except ValueError:
            parsed = {"message": raw.data.decode(errors="replace")}
        return Response(raw.status, parsed if isinstance(parsed, dict) else {"items": parsed})

    def resource(self, api_version: str, kind: str) -> Resource:
        """The REST resource of a kind, from the server's discovery (CRDs included)."""
        key = (api_version, kind)
        if key not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            found = self.request("GET", base)
            for item in found.body.get("resources", []):
                if "/" not in item["name"]:
                    self._resources[(api_version, item["kind"])] = Resource(
                        item["name"], item["namespaced"]
                    )
            if key not in self._resources:
                raise LookupError(f"the API server serves no {kind} in {api_version}")
        return self._resources[key]

    def collection_path(self, obj: Mapping[str, Any], namespace: str | None) -> str:
        api_version, kind = obj["apiVersion"], obj["kind"]
        resource = self.resource(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if resource.namespaced:
            metadata = obj.get("metadata")
            ns = (metadata.get("namespace") if isinstance(metadata, dict) else None) or namespace
            base += f"/namespaces/{ns or 'default'}"
        return f"{base}/{resource.plural}"

    def object_path(self, obj: Mapping[str, Any], namespace: str | None) -> str:
        return f"{self.collection_path(obj, namespace)}/{obj['metadata']['name']}"

    def apply(
        self, obj: Mapping[str, Any], namespace: str | None = None, dry_run: bool = False
    ) -> Response:
        """Server-side apply with strict field validation: an unknown or duplicate field is an
        error (HTTP 422), as it is for `kubectl apply --server-side --validate=strict`."""
        body = dict(obj)
        resource = self.resource(body["apiVersion"], body["kind"])
        if resource.namespaced and namespace and not body["metadata"].get("namespace"):
            body["metadata"] = {**body["metadata"], "namespace": namespace}
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        # JSON is YAML: the apply-patch content type accepts it.
        return self.request(
            "PATCH",
            self.object_path(body, namespace),
            body,
            query,
            content_type="application/apply-patch+yaml",
        )

    def create(
        self, obj: Mapping[str, Any], namespace: str | None = None, dry_run: bool = False
    ) -> Response:
        """POST with strict field validation, as `kubectl create` or the first `kubectl apply`
        of an object (Argo CD's default sync) sends it. A kind the server does not serve is
        the 404 kubectl reports as "no matches for kind"."""
        try:
            path = self.collection_path(obj, namespace)
        except LookupError as error:
            return Response(404, {"reason": "NotFound", "message": str(error)})
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("POST", path, dict(obj), query)

    def delete(self, obj: Mapping[str, Any], namespace: str | None = None) -> Response:
        return self.request("DELETE", self.object_path(obj, namespace))

    def evict(self, namespace: str, pod: str) -> Response:
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": namespace},
        }
        return self.request("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", body)

    # -- reads -------------------------------------------------------------------------------
    def pods(self, namespace: str, selector: Mapping[str, str]) -> list[Any]:
        return list(
            self.core.list_namespaced_pod(namespace, label_selector=label_selector(selector)).items
        )

    def replica_sets(self, namespace: str, selector: Mapping[str, str]) -> list[Any]:
        text = label_selector(selector)
        return list(self.apps.list_namespaced_replica_set(namespace, label_selector=text).items)


def label_selector(selector: Mapping[str, str]) -> str:
    """``matchLabels`` as the API's ``labelSelector`` query (``a=1,b=2``)."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def is_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
