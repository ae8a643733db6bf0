"""The repo's own manifests, as the cluster tests apply them: every env's rendered overlays
(`gitops render` as a library), the argocd/ objects, our CRDs, and the namespace labelled the
way the ApplicationSet's managedNamespaceMetadata labels it."""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from gitops.config import RepoConfig, load_config
from gitops.workspace import Workspace
from tests.cluster.harness import REPO_ROOT
from tests.cluster.kube import Kube, Response, is_ready, wait_for

NAMESPACE = "integration"
SCHEMAS = REPO_ROOT / "tools" / "gitops" / "schemas"


@functools.cache
def repo_config() -> RepoConfig:
    return load_config(REPO_ROOT)


@functools.cache
def _rendered() -> dict[tuple[str, str], tuple[dict[str, Any], ...]]:
    # Parsed once, as gitops check parses them (gitops.workspace, traced renders).
    workspace = Workspace.open(REPO_ROOT, repo_config())
    out: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {}
    for result in workspace.render(workspace.layout().overlays):
        assert result.ok and not result.problems, result.failure_line()
        docs = tuple(r.body for r in result.resources)
        out[(result.overlay.env, result.overlay.service)] = docs
    return out


def rendered(env: str, service: str | None = None) -> list[dict[str, Any]]:
    """Deep copies of the rendered documents of one env (one service, or all of them)."""
    return [
        copy.deepcopy(doc)
        for (e, s), docs in sorted(_rendered().items())
        if e == env and (service is None or s == service)
        for doc in docs
    ]


def services(env: str) -> list[str]:
    return sorted(s for e, s in _rendered() if e == env)


def argocd_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((REPO_ROOT / "argocd").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def managed_namespace_labels() -> dict[str, str]:
    """The labels Argo CD puts on `integration` (argocd/applicationset.yaml): read, not copied,
    so the test follows the file."""
    for doc in argocd_documents():
        if doc.get("kind") == "ApplicationSet":
            sync = doc["spec"]["template"]["spec"]["syncPolicy"]
            return dict(sync["managedNamespaceMetadata"]["labels"])
    raise AssertionError("argocd/ has no ApplicationSet with managedNamespaceMetadata")


def crd_documents() -> list[dict[str, Any]]:
    """Our CRDs (written from the documented fields; tools/gitops/schemas)."""
    return [yaml.safe_load(p.read_text()) for p in sorted(SCHEMAS.glob("*.yaml"))]


def install_crds(kube: Kube) -> None:
    for crd in crd_documents():
        response = kube.apply(crd)
        assert response.ok, f"CRD {crd['metadata']['name']}: {response.message}"
    names = [c["metadata"]["name"] for c in crd_documents()]

    def established() -> bool:
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        for name in names:
            status = kube.request("GET", path + name).body.get("status", {})
            if not any(
                c["type"] == "Established" and c["status"] == "True"
                for c in status.get("conditions", [])
            ):
                return False
        return True

    wait_for("our CRDs to be Established", established, timeout=60)
    kube._resources.clear()  # discovery changed


def create_namespace(kube: Kube, name: str, labels: Mapping[str, str] | None = None) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels or managed_namespace_labels())},
    }
    response = kube.apply(body)
    assert response.ok, f"namespace {name}: {response.message}"
    # The ServiceAccount admission plugin rejects pods until the namespace's default SA exists.
    wait_for(
        f"the default ServiceAccount of {name}",
        lambda: kube.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default").ok,
        timeout=60,
    )


def delete_namespace(kube: Kube, name: str, timeout: float = 120, wait: bool = True) -> None:
    """Delete a namespace; ``wait=False`` for one no later test reuses (saves the tier time)."""
    kube.request("DELETE", f"/api/v1/namespaces/{name}")
    if not wait:
        return
    wait_for(
        f"namespace {name} to be gone",
        lambda: kube.request("GET", f"/api/v1/namespaces/{name}").status == 404,
        timeout=timeout,
        interval=1,
    )


def in_namespace(docs: Iterable[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The documents moved to ``namespace`` (a test namespace next to `integration`)."""
    out = []
    for doc in docs:
        doc = copy.deepcopy(doc)
        if doc.get("metadata", {}).get("namespace"):
            doc["metadata"]["namespace"] = namespace
        out.append(doc)
    return out


def apply_all(
    kube: Kube, docs: Iterable[Mapping[str, Any]], namespace: str
) -> list[tuple[str, Response]]:
    """Apply each document; the rejected ones with the server's answer."""
    rejected = []
    for doc in docs:
        response = kube.apply(doc, namespace)
        if not response.ok:
            rejected.append((f"{doc['kind']}/{doc['metadata']['name']}", response))
    return rejected


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def wait_deployment_ready(kube: Kube, namespace: str, name: str, timeout: float = 120) -> Any:
    def ready() -> Any:
        d = kube.apps.read_namespaced_deployment(name, namespace)
        want = (d.spec.replicas if d.spec else None) or 0
        status = d.status
        if want and status and (status.ready_replicas or 0) == want == status.updated_replicas:
            return d
        return None

    return wait_for(f"Deployment {namespace}/{name} ready", ready, timeout=timeout)


def spec_replicas_are(kube: Kube, namespace: str, name: str, replicas: int) -> bool:
    """The Deployment's spec.replicas is ``replicas`` (what its HPA last set)."""
    spec = kube.apps.read_namespaced_deployment(name, namespace).spec
    return spec is not None and spec.replicas == replicas


def ready_pods(kube: Kube, namespace: str, selector: Mapping[str, str]) -> list[Any]:
    return [p for p in kube.pods(namespace, selector) if is_ready(p)]


def settle(seconds: float) -> None:
    """A fixed wait where the point is that nothing should happen in it."""
    time.sleep(seconds)


def set_unschedulable(kube: Kube, node: str, value: bool) -> None:
    """Cordon (True) or uncordon (False) a node, as `kubectl cordon` does."""
    response = kube.request(
        "PATCH",
        f"/api/v1/nodes/{node}",
        {"spec": {"unschedulable": value}},
        content_type="application/merge-patch+json",
    )
    assert response.ok, response.message


def with_ready_delay(deployment: dict[str, Any], delay: str) -> dict[str, Any]:
    """The Deployment's pods become Ready ``delay`` after they start (the KWOK pod-ready stage
    reads the annotation; tests/cluster/harness.py), like an app with a slow readiness probe."""
    from tests.cluster.harness import READY_DELAY_ANNOTATION

    template = deployment["spec"]["template"]
    template.setdefault("metadata", {}).setdefault("annotations", {})[READY_DELAY_ANNOTATION] = (
        delay
    )
    return deployment


def match_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(obj["spec"]["selector"]["matchLabels"])


def pdb_status(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return kube.request(
        "GET", f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"
    ).body
