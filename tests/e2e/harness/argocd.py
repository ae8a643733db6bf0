"""Argo CD in the e2e cluster, and the test's view of the repo's argocd/ objects.

Installed from its pinned release manifest at test time (fetched by kubectl, never committed);
metrics-server and the ServiceMonitor CRD likewise. The rendered argocd/ objects are applied
with three test-only changes, made on the rendered objects and never in git:

* every ``repoURL`` / ``sourceRepos`` entry equal to gitops.yaml's repoURL points at the
  in-cluster git daemon;
* the ApplicationSet's git generator lists only the overlays under test (the real one
  generates an Application per overlays/*/*; other envs have no cluster here);
* the root Application is left out: it would sync argocd/ from git and undo both changes.

    >>> objects = objects_for_test(load_argocd_objects(repo, config), config.repo_url, url, dirs)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]

ARGOCD_VERSION = "v3.0.12"
ARGOCD_INSTALL_URL = (
    f"https://raw.githubusercontent.com/argoproj/argo-cd/{ARGOCD_VERSION}/manifests/install.yaml"
)
ARGOCD_NAMESPACE = "argocd"
# Deployments and the StatefulSet of install.yaml that must be up before an app can sync.
ARGOCD_WORKLOADS = (
    ("deployment", "argocd-redis"),
    ("deployment", "argocd-repo-server"),
    ("deployment", "argocd-applicationset-controller"),
    ("deployment", "argocd-server"),
    ("statefulset", "argocd-application-controller"),
)

METRICS_SERVER_VERSION = "v0.7.2"
METRICS_SERVER_URL = (
    "https://github.com/kubernetes-sigs/metrics-server/releases/download/"
    f"{METRICS_SERVER_VERSION}/components.yaml"
)
# kind's kubelets serve self-signed certificates; without this flag metrics-server cannot
# scrape them and every HPA target stays <unknown>.
METRICS_SERVER_PATCH = json.dumps(
    [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/args/-",
            "value": "--kubelet-insecure-tls",
        }
    ]
)

# The overlays render monitoring.coreos.com/v1 ServiceMonitors; the API server refuses them
# without the CRD (no Prometheus Operator is needed for the test, only the type).
PROMETHEUS_OPERATOR_VERSION = "v0.82.2"
SERVICEMONITOR_CRD_URL = (
    "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/"
    f"{PROMETHEUS_OPERATOR_VERSION}/example/prometheus-operator-crd/"
    "monitoring.coreos.com_servicemonitors.yaml"
)

SERVICEMONITOR_CRD = "crd/servicemonitors.monitoring.coreos.com"

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
APPLICATIONSET_CRD = "customresourcedefinitions.apiextensions.k8s.io/applicationsets.argoproj.io"


def servicemonitor_crd_probe_args() -> tuple[str, ...]:
    """kubectl args that print ``True`` when the ServiceMonitor CRD is Established, else
    nothing (exit 0 either way)."""
    return (
        "get",
        SERVICEMONITOR_CRD,
        "--ignore-not-found",
        "--output=jsonpath={.status.conditions[?(@.type=='Established')].status}",
    )


def leftover_apps_probe_args() -> tuple[str, ...]:
    """kubectl args that print the ApplicationSet CRD's name if Argo CD is installed, else
    nothing (exit 0 either way)."""
    return ("get", APPLICATIONSET_CRD, "--ignore-not-found", "--output=name")


def leftover_apps_delete_args() -> tuple[str, ...]:
    """kubectl args removing every ApplicationSet and Application in the Argo CD namespace.

    A kept cluster whose last run stopped inside the Argo CD test still has the ApplicationSet;
    its selfHeal would revert the direct deploy (local image tags, the 30 s HPA window) under
    the other tests. The generated Applications carry no resources finalizer, so the
    workloads stay and the direct deploy takes them over.
    """
    return (
        "delete",
        "applicationsets.argoproj.io,applications.argoproj.io",
        "--all",
        "--namespace",
        ARGOCD_NAMESPACE,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
    )


def replace_strings(node: Any, old: str, new: str) -> tuple[Any, int]:
    """A deep copy of ``node`` with every string equal to ``old`` replaced; and how many."""
    if isinstance(node, str):
        return (new, 1) if node == old else (node, 0)
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        total = 0
        for key, value in node.items():
            out[key], count = replace_strings(value, old, new)
            total += count
        return out, total
    if isinstance(node, list):
        items = [replace_strings(item, old, new) for item in node]
        return [i for i, _ in items], sum(c for _, c in items)
    return copy.deepcopy(node), 0


def restrict_directories(appset: Document, directories: Sequence[str]) -> Document:
    """Replace each git generator's ``directories`` with exactly ``directories``."""
    restricted = copy.deepcopy(appset)
    generators = (restricted.get("spec") or {}).get("generators") or []
    git_generators = [g["git"] for g in generators if isinstance(g, dict) and "git" in g]
    if not git_generators:
        raise ValueError("the ApplicationSet has no git generator to restrict")
    for git in git_generators:
        git["directories"] = [{"path": d} for d in directories]
    return restricted


def objects_for_test(
    objects: Iterable[Document], repo_url: str, test_url: str, directories: Sequence[str]
) -> list[Document]:
    """The argocd/ objects as the e2e cluster gets them (see the module docstring)."""
    result: list[Document] = []
    for obj in objects:
        kind = obj.get("kind")
        if kind == "Application":
            continue
        rewritten, count = replace_strings(obj, repo_url, test_url)
        name = (obj.get("metadata") or {}).get("name")
        if kind in ("AppProject", "ApplicationSet") and count == 0:
            raise ValueError(f"{kind}/{name} does not mention repoURL {repo_url}")
        if kind == "ApplicationSet":
            rewritten = restrict_directories(rewritten, directories)
        result.append(rewritten)
    return result


def cluster_secret(name: str, server: str = IN_CLUSTER_SERVER) -> Document:
    """Register the cluster Argo CD runs in under ``name`` (the Applications target
    ``destination.name: dev``). For the in-cluster URL Argo CD uses its own service account."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"cluster-{name}",
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "cluster"},
        },
        "type": "Opaque",
        "stringData": {
            "name": name,
            "server": server,
            "config": json.dumps({"tlsClientConfig": {"insecure": False}}),
        },
    }


def argocd_cm_patch(build_options: Sequence[str]) -> str:
    """argocd-cm's kustomize.buildOptions = gitops.yaml's, as the repo's comment requires, so
    Argo CD renders what `gitops render` renders."""
    return json.dumps({"data": {"kustomize.buildOptions": " ".join(build_options)}})


def application_state(app: Document) -> tuple[str, str]:
    """(sync status, health status) of a live Application, "" when not reported yet."""
    status = app.get("status") or {}
    return (
        str((status.get("sync") or {}).get("status") or ""),
        str((status.get("health") or {}).get("status") or ""),
    )


@dataclass
class SyncGate:
    """An explicit dependency between the Argo CD tests: once the sync test has failed, the
    tests that need Synced applications fail at once with its reason, instead of each waiting
    out the same sync timeout again (a CI job would otherwise spend 2 x 10 minutes on one
    broken sync and risk its own timeout, losing the diagnostics)."""

    failure: str | None = None

    def fail(self, test: str, exc: BaseException) -> None:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self.failure = f"{test} failed: {first_line}"

    def require(self) -> None:
        if self.failure is not None:
            raise AssertionError(f"not waiting for a sync again: {self.failure}")
