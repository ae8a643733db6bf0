"""Kube.evict against a stand-in CoreV1Api: the body the Eviction API receives."""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.e2e.harness.kube import Kube


class FakeCore:
    def __init__(self, status: int | None = None) -> None:
        self.status = status
        self.calls: list[tuple[str, str, Any]] = []

    def create_namespaced_pod_eviction(self, name: str, namespace: str, body: Any) -> None:
        self.calls.append((name, namespace, body))
        if self.status is not None:
            raise ApiException(status=self.status, reason="Too Many Requests")


def test_evict_posts_a_complete_policy_v1_eviction() -> None:
    kube = Kube(client.ApiClient())
    kube.core = FakeCore()  # type: ignore[assignment]
    assert kube.evict("integration", "healthz-1") == (201, "evicted")
    ((name, namespace, body),) = kube.core.calls  # type: ignore[attr-defined]
    assert (name, namespace) == ("healthz-1", "integration")
    assert kube.to_dict(body) == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "healthz-1", "namespace": "integration"},
    }


def test_evict_reports_the_refusal_status() -> None:
    kube = Kube(client.ApiClient())
    kube.core = FakeCore(status=429)  # type: ignore[assignment]
    status, _reason = kube.evict("integration", "healthz-1")
    assert status == 429
