"""The real overlays, rendered by the real kustomize: what the seed specifies really comes out."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gitops.config import RepoConfig
from gitops.render import RenderedOverlay
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT
from tests.repo.conftest import find

SERVICES = ("airbyte", "healthz", "kpis-api", "shared")


def test_every_overlay_of_every_env_renders(
    repo_config: RepoConfig, rendered: dict[str, RenderedOverlay]
) -> None:
    assert repo_config.envs == ("dev", "staging", "prod")
    assert sorted(rendered) == sorted(f"{e}/{s}" for e in repo_config.envs for s in SERVICES)
    failures = [r.failure_line() for r in rendered.values() if not r.ok]
    assert failures == []


def test_prod_healthz_has_the_seed_hpa(docs: dict[str, list[dict[str, Any]]]) -> None:
    hpa = find(docs["prod/healthz"], "HorizontalPodAutoscaler", "healthz-hpa")
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "healthz",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]


def test_prod_healthz_has_the_seed_pdb(docs: dict[str, list[dict[str, Any]]]) -> None:
    pdb = find(docs["prod/healthz"], "PodDisruptionBudget", "healthz-pdb")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    deployment = find(docs["prod/healthz"], "Deployment", "healthz")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_prod_healthz_probes_hit_health_on_the_declared_port(
    docs: dict[str, list[dict[str, Any]]],
) -> None:
    deployment = find(docs["prod/healthz"], "Deployment", "healthz")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "http", "containerPort": 8080} in [
        {k: p[k] for k in ("name", "containerPort")} for p in container["ports"]
    ]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
        assert container[probe]["httpGet"]["port"] == "http"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["limits"]["memory"]


def test_kpis_api_reads_the_db_secret_and_separates_liveness_from_readiness(
    docs: dict[str, list[dict[str, Any]]],
) -> None:
    for env in ("dev", "staging", "prod"):
        deployment = find(docs[f"{env}/kpis-api"], "Deployment", "kpis-api")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        secret_env = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in container["env"]
            if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
        }
        for key in ("KPIS_PG_HOST", "KPIS_PG_DB", "KPIS_PG_USER", "KPIS_PG_PASSWORD"):
            assert secret_env[key] == "kpis-db-credentials"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert {p["containerPort"] for p in container["ports"]} == {3001}
    assert not any(d["kind"] == "HorizontalPodAutoscaler" for d in docs["dev/kpis-api"]), (
        "kpis-api has an HPA only in staging and prod"
    )
    for env in ("staging", "prod"):
        find(docs[f"{env}/kpis-api"], "HorizontalPodAutoscaler", "kpis-api-hpa")


def test_no_secret_material_is_rendered(docs: dict[str, list[dict[str, Any]]]) -> None:
    assert [
        (name, d["metadata"]["name"])
        for name, ds in docs.items()
        for d in ds
        if d["kind"] == "Secret"
    ] == []


def _min_replicas(documents: list[dict[str, Any]], workload: dict[str, Any]) -> int:
    for hpa in (d for d in documents if d["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if (target["kind"], target["name"]) == (workload["kind"], workload["metadata"]["name"]):
            return int(hpa["spec"].get("minReplicas", 1))
    return int(workload["spec"].get("replicas", 1))


def _desired_healthy(pdb: dict[str, Any], replicas: int) -> int:
    spec = pdb["spec"]
    if "minAvailable" in spec:
        value = spec["minAvailable"]
        if isinstance(value, str) and value.endswith("%"):
            return math.ceil(int(value[:-1]) * replicas / 100)
        return int(value)
    value = spec["maxUnavailable"]
    if isinstance(value, str) and value.endswith("%"):
        return max(0, replicas - math.ceil(int(value[:-1]) * replicas / 100))
    return max(0, replicas - int(value))


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_pdb_allows_a_disruption_at_the_minimum_and_hpa_workloads_omit_replicas(
    env: str, docs: dict[str, list[dict[str, Any]]]
) -> None:
    documents = [d for name, ds in docs.items() if name.startswith(f"{env}/") for d in ds]
    workloads = [d for d in documents if d["kind"] in ("Deployment", "StatefulSet")]
    hpa_targets = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"])
        for h in documents
        if h["kind"] == "HorizontalPodAutoscaler"
    }
    for workload in workloads:
        key = (workload["kind"], workload["metadata"]["name"])
        if key in hpa_targets:
            assert "replicas" not in workload["spec"], f"{key} is HPA-managed: no replicas in git"
    for pdb in (d for d in documents if d["kind"] == "PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        selected = [
            w
            for w in workloads
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, f"{env} PDB {pdb['metadata']['name']} selects {len(selected)}"
        minimum = _min_replicas(documents, selected[0])
        allowed = minimum - _desired_healthy(pdb, minimum)
        assert allowed >= 1, f"{env} PDB {pdb['metadata']['name']} blocks drains at {minimum}"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_ingress_backends_exist_on_the_services(
    env: str, docs: dict[str, list[dict[str, Any]]]
) -> None:
    documents = [d for name, ds in docs.items() if name.startswith(f"{env}/") for d in ds]
    services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
    ingresses = [d for d in documents if d["kind"] == "Ingress"]
    assert {i["metadata"]["name"] for i in ingresses} >= {"integration-services"}
    checked = 0
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                assert service is not None, f"{env}: no Service {backend['name']}"
                ports = service["spec"]["ports"]
                if "name" in backend["port"]:
                    assert backend["port"]["name"] in [p.get("name") for p in ports]
                else:
                    assert backend["port"]["number"] in [p["port"] for p in ports]
                checked += 1
    assert checked >= 3


def test_integration_ingress_routes_the_seed_paths(docs: dict[str, list[dict[str, Any]]]) -> None:
    ingress = find(docs["prod/shared"], "Ingress", "integration-services")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "api.example.com"
    assert {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]} == {
        "/health": "healthz",
        "/kpis": "kpis-api",
    }


def test_every_application_path_renders_and_every_overlay_is_deployed(
    repo_config: RepoConfig,
) -> None:
    workspace = Workspace.open(REPO_ROOT, repo_config)
    discovery = workspace.layout()
    argo = workspace.argocd()
    assert argo is not None and argo.error is None
    expansion = argo.with_coverage(repo_config, discovery.overlays)
    assert expansion.problems == ()
    generated = [a for a in expansion.applications if a.generated_by.startswith("ApplicationSet")]
    assert sorted(a.path for a in generated) == sorted(o.rel_path for o in discovery.overlays)
    for app in generated:
        env = app.path.split("/")[1]
        assert app.project == f"integration-{env}"
        assert app.destination == {"name": env, "namespace": "integration"}
    root = [a for a in expansion.applications if a.path == repo_config.argocd_path]
    assert len(root) == 1, "a root app syncs argocd/ itself"
    by_path = {o.rel_path: o for o in discovery.overlays}
    results = workspace.render([by_path[a.path] for a in generated], trace=False)
    assert [r.failure_line() for r in results if not r.ok] == []


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("service", ["healthz", "kpis-api"])
def test_every_env_probes_pass_against_the_real_processes(
    env: str, service: str, repo_config: RepoConfig
) -> None:
    """What `make probe` runs, five times faster (periods and delays divided by 5)."""
    from gitops.probe import probe_overlay
    from tests.prerequisites import require

    if service == "kpis-api":
        require("postgresql")
    result = probe_overlay(Workspace.open(REPO_ROOT, repo_config), env, service, speed=5)
    assert [c.message for c in result.checks if not c.passed] == []
    assert {"readiness", "liveness"} <= {c.kind for c in result.checks}
    if service == "kpis-api":
        assert "liveness-db-down" in {c.kind for c in result.checks}
