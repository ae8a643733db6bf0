"""Every env's rendered output and the argocd/ objects, admitted by a real kube-apiserver:
server-side apply with strict field validation into `integration`, labelled as Argo CD labels
it (restricted Pod Security enforced), then every Deployment Ready on KWOK nodes, so the pods
the real ReplicaSet and Job controllers create pass Pod Security admission too."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from gitops import k8s_math
from tests.cluster.kube import Kube, wait_for
from tests.cluster.workloads import (
    NAMESPACE,
    apply_all,
    argocd_documents,
    create_namespace,
    delete_namespace,
    managed_namespace_labels,
    of_kind,
    rendered,
    repo_config,
    services,
    spec_replicas_are,
    wait_deployment_ready,
)

pytestmark = pytest.mark.cluster


def test_integration_namespace_enforces_restricted_pod_security(crds: Kube) -> None:
    """Zero rejections below only mean something if the namespace really enforces
    `restricted`: a root, privilege-escalating pod is refused there."""
    labels = managed_namespace_labels()
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == (
        f"v{repo_config().kubernetes_version}"
    )
    create_namespace(crds, NAMESPACE)
    try:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pss-probe"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        }
        response = crds.apply(pod, NAMESPACE)
        assert response.status == 403, response.body
        assert 'violates PodSecurity "restricted' in response.message
    finally:
        delete_namespace(crds, NAMESPACE)


@pytest.mark.parametrize("env", repo_config().envs)
def test_env_is_admitted_and_every_deployment_becomes_ready(crds: Kube, env: str) -> None:
    docs = rendered(env)
    assert {"healthz", "kpis-api", "airbyte", "shared"} <= set(services(env))
    create_namespace(crds, NAMESPACE)
    try:
        rejected = apply_all(crds, docs, NAMESPACE)
        assert rejected == [], "\n".join(f"{what}: {r.status} {r.message}" for what, r in rejected)

        hpas = of_kind(docs, "HorizontalPodAutoscaler")
        for deployment in of_kind(docs, "Deployment"):
            name = deployment["metadata"]["name"]
            # What our model says runs in steady state: an HPA raises replicas to its floor.
            floor = k8s_math.min_replicas(deployment, hpas)
            wait_for(
                f"{name} scaled to {floor}",
                functools.partial(spec_replicas_are, crds, NAMESPACE, name, floor),
                timeout=60,
            )
            live = wait_deployment_ready(crds, NAMESPACE, name)
            assert live.status.ready_replicas == floor, name

        jobs = of_kind(docs, "Job")
        assert {j["metadata"]["name"] for j in jobs} >= {"kpis-api-migrate", "airbyte-bootloader"}
        for job in jobs:
            _assert_job_pods_admitted(crds, job)
    finally:
        delete_namespace(crds, NAMESPACE)


def _assert_job_pods_admitted(kube: Kube, job: dict[str, Any]) -> None:
    """The Job controller's pods passed admission: KWOK ran them to completion. A pod refused
    by Pod Security leaves the Job with no pods and a FailedCreate event instead."""
    name = job["metadata"]["name"]

    def succeeded() -> Any:
        status = kube.request("GET", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{name}").body.get(
            "status", {}
        )
        return status.get("succeeded", 0) >= 1 and status

    wait_for(f"Job {name} to succeed", succeeded, timeout=90)


def test_argocd_objects_are_admitted_with_our_crds(crds: Kube) -> None:
    """The ApplicationSet, AppProjects and root Application against the CRDs written from Argo
    CD's documented fields (tools/gitops/schemas)."""
    create_namespace(crds, "argocd", labels={})
    try:
        docs = argocd_documents()
        assert {d["kind"] for d in docs} >= {"ApplicationSet", "AppProject", "Application"}
        rejected = apply_all(crds, docs, "argocd")
        assert rejected == [], "\n".join(f"{what}: {r.status} {r.message}" for what, r in rejected)
    finally:
        delete_namespace(crds, "argocd", wait=False)
