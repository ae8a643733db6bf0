"""The HPA and PDB rules on fixture mini-repos rendered with the real kustomize."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from gitops.argocd import Application
from gitops.check import run_check
from gitops.config import RepoConfig, load_config
from gitops.errors import ConfigError
from gitops.model import Finding, Resource, ResourceKey
from gitops.policy import CheckContext, get_rule, run_rule
from tests.conftest import FIXTURES

SCALING_RULES = (
    "hpa-target-missing",
    "hpa-missing-requests",
    "hpa-bounds",
    "hpa-replicas-conflict",
    "pdb-missing",
    "pdb-blocks-drain",
    "pdb-selector-unmatched",
    "pdb-overlap",
)


@cache
def _scenario(name: str) -> tuple[Finding, ...]:
    repo = FIXTURES / name
    return run_check(repo, load_config(repo)).findings


def findings_of(rule: str, findings: tuple[Finding, ...]) -> dict[tuple[str, str], str]:
    """{(env, resource): message} of one rule's findings (each resource at most once)."""
    selected = [f for f in findings if f.rule == rule]
    by_resource = {(f.env, f.resource): f.message for f in selected}
    assert len(by_resource) == len(selected), [f.message for f in selected]
    return by_resource


def _messages(rule: str, findings: tuple[Finding, ...], env: str, resource: str) -> list[str]:
    return [
        f.message for f in findings if f.rule == rule and (f.env, f.resource) == (env, resource)
    ]


HPA = "autoscaling/v2/HorizontalPodAutoscaler/demo/"
PDB = "policy/v1/PodDisruptionBudget/demo/"
DEPLOYMENT = "apps/v1/Deployment/demo/"


def test_hpa_target_missing() -> None:
    found = findings_of("hpa-target-missing", _scenario("hpa-target-missing"))
    # web-hpa (apps/v1beta1: same group) and the other service's HPA on web are fine.
    assert sorted(found) == [("dev", HPA + "kind-hpa"), ("dev", HPA + "typo-hpa")]
    assert found[("dev", HPA + "typo-hpa")] == (
        'scaleTargetRef apps/v1 Deployment "wbe" names no workload rendered in env dev, '
        "namespace demo: the HPA scales nothing"
    )
    assert '(found apps/v1 Deployment "web" in namespace demo)' in found[("dev", HPA + "kind-hpa")]
    finding = next(f for f in _scenario("hpa-target-missing") if f.rule == "hpa-target-missing")
    assert finding.source is not None and finding.source.startswith("overlays/dev/web/hpa-")


def test_hpa_missing_requests() -> None:
    found = findings_of("hpa-missing-requests", _scenario("hpa-missing-requests"))
    # worker (limits only: requests default to them) and prod's batch (LimitRange default)
    # are fine; so are api's memory AverageValue metric and web's container "web".
    assert sorted(found) == [
        ("dev", HPA + "api-hpa"),
        ("dev", HPA + "batch-hpa"),
        ("dev", HPA + "web-hpa"),
    ]
    # Restartable init containers count; a plain init container (migrate) does not.
    assert found[("dev", HPA + "api-hpa")] == (
        "metrics[0] (cpu 70% Utilization): containers sidecar, proxy of Deployment/api have no "
        "resources.requests.cpu: the HPA cannot compute utilization and never scales "
        "(ScalingActive=False, FailedGetResourceMetric)"
    )
    assert found[("dev", HPA + "batch-hpa")].startswith(
        "no metrics (default: cpu 80% Utilization): container batch of Deployment/batch has no "
        "resources.requests.cpu"
    )
    assert found[("dev", HPA + "web-hpa")].startswith(
        "metrics[1] (container ghost cpu 60% Utilization): Deployment/web has no container "
        "ghost (containers: web, log)"
    )


def test_hpa_bounds() -> None:
    findings = _scenario("hpa-bounds")
    hpas = {resource for _, resource in _of_all("hpa-bounds", findings)}
    # ok-hpa (edge values 0, 3600, 1800) and pinned-hpa (min == max) are not reported.
    assert hpas == {HPA + n for n in ("zero-hpa", "inverted-hpa", "nomin-hpa", "behavior-hpa")}
    assert _messages("hpa-bounds", findings, "dev", HPA + "zero-hpa") == [
        "minReplicas 0 must be >= 1 (0 only with the alpha HPAScaleToZero feature gate): the "
        "API server rejects this HPA"
    ]
    assert _messages("hpa-bounds", findings, "dev", HPA + "inverted-hpa") == [
        "maxReplicas 3 is below minReplicas 5: the API server rejects this HPA"
    ]
    assert _messages("hpa-bounds", findings, "dev", HPA + "nomin-hpa") == [
        "maxReplicas 0 must be >= 1: the API server rejects this HPA"
    ]
    behavior = _messages("hpa-bounds", findings, "dev", HPA + "behavior-hpa")
    assert sorted(m.split(" ", 1)[0] for m in behavior) == [
        "behavior.scaleDown.policies[0].periodSeconds",
        "behavior.scaleDown.stabilizationWindowSeconds",
        "behavior.scaleUp.policies[0].periodSeconds",
        "behavior.scaleUp.policies[0].value",
        "behavior.scaleUp.selectPolicy",
        "behavior.scaleUp.stabilizationWindowSeconds",
    ]
    assert (
        "behavior.scaleUp.stabilizationWindowSeconds 4000 is outside 0..3600: the API "
        "server rejects this HPA" in behavior
    )
    assert (
        "behavior.scaleUp.policies[0].periodSeconds 1801 is outside 1..1800: the API "
        "server rejects this HPA" in behavior
    )


def _of_all(rule: str, findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.env, f.resource) for f in findings if f.rule == rule]


def test_hpa_replicas_conflict() -> None:
    found = findings_of("hpa-replicas-conflict", _scenario("hpa-replicas-conflict"))
    # omitted (no spec.replicas), ignored (jsonPointers + RespectIgnoreDifferences) and
    # field-manager (managedFieldsManagers kube-controller-manager) are fine.
    # overlays/dev/orphan is synced by no Application: argocd/ is the authoritative list of
    # what is deployed, so it is not rendered (argocd-path-missing reports it instead).
    assert sorted(found) == [
        ("dev", DEPLOYMENT + "diff-only"),
        ("dev", DEPLOYMENT + "pinned"),
    ]
    assert found[("dev", DEPLOYMENT + "pinned")] == (
        "spec.replicas 2 is set although HPA pinned-hpa manages this Deployment: Application "
        "dev-pinned does not ignore /spec/replicas, so every sync resets the replica count; "
        "remove spec.replicas (or ignore /spec/replicas in the Application)"
    )
    assert (
        "lacks syncOption RespectIgnoreDifferences=true" in found[("dev", DEPLOYMENT + "diff-only")]
    )
    missing = [
        f.message for f in _scenario("hpa-replicas-conflict") if f.rule == "argocd-path-missing"
    ]
    assert missing == ["overlays/dev/orphan: no Argo CD Application deploys this overlay"]


def test_pdb_missing_in_required_envs_only() -> None:
    found = findings_of("pdb-missing", _scenario("pdb-missing"))
    # dev is not a required env; single (1 replica), covered (own PDB) and the StatefulSet db
    # (PDB in another service of the env) are fine.
    assert sorted(found) == [("prod", DEPLOYMENT + "api"), ("prod", DEPLOYMENT + "web")]
    assert found[("prod", DEPLOYMENT + "api")] == (
        "runs at least 2 replicas (api-hpa minReplicas) in prod but no PodDisruptionBudget "
        "selects its pods: a node drain may evict all of them at once"
    )
    assert found[("prod", DEPLOYMENT + "web")].startswith(
        "runs at least 2 replicas (spec.replicas)"
    )


def test_pdb_missing_envs_come_from_gitops_yaml(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("pdb-missing")
    config_file = repo / "gitops.yaml"
    config_file.write_text(config_file.read_text() + "policy:\n  pdbRequiredEnvs: [dev]\n")
    findings = run_check(repo, load_config(repo)).findings
    assert sorted(findings_of("pdb-missing", findings)) == [
        ("dev", DEPLOYMENT + "api"),
        ("dev", DEPLOYMENT + "web"),
    ]


def test_pdb_missing_rejects_a_malformed_env_list() -> None:
    config = RepoConfig(envs=("prod",), policy={"pdbRequiredEnvs": "prod"})
    ctx = CheckContext(repo=Path("."), config=config, overlays=(), resources=[])
    with pytest.raises(ConfigError, match=r"policy\.pdbRequiredEnvs must be a list"):
        list(run_rule(ctx, get_rule("pdb-missing")))


def test_pdb_blocks_drain() -> None:
    found = findings_of("pdb-blocks-drain", _scenario("pdb-blocks-drain"))
    # spare (minAvailable 1 of 2), solo (maxUnavailable 1 of 1), half (50% of 3 -> 2) and
    # tenth (10% of 3 rounds the unavailable count up to 1) allow a disruption.
    assert sorted(r.removeprefix(PDB) for _, r in found) == [
        "all-pdb",
        "front-pdb",
        "min-available-pdb",
        "single-pdb",
        "unset-pdb",
        "zero-percent-pdb",
    ]
    assert found[("dev", PDB + "min-available-pdb")] == (
        "at 2 replicas (min-available-hpa minReplicas) minAvailable 2 leaves 0 disruptions: "
        "kubectl drain would wait forever"
    )
    assert found[("dev", PDB + "single-pdb")].startswith(
        "at 1 replica (spec.replicas default) minAvailable 1 leaves 0 disruptions"
    )
    assert found[("dev", PDB + "zero-percent-pdb")].startswith(
        'at 3 replicas (spec.replicas) maxUnavailable "0%" leaves 0 disruptions'
    )
    assert found[("dev", PDB + "all-pdb")].startswith(
        'at 2 replicas (spec.replicas) minAvailable "100%"'
    )
    assert "neither minAvailable nor maxUnavailable set" in found[("dev", PDB + "unset-pdb")]
    assert found[("dev", PDB + "front-pdb")].startswith(
        "at 2 replicas (Deployment/front-a 1 (spec.replicas); Deployment/front-b 1 "
        "(spec.replicas)) minAvailable 2"
    )


def test_pdb_selector_unmatched() -> None:
    found = findings_of("pdb-selector-unmatched", _scenario("pdb-selector-unmatched"))
    # expression-pdb (matchExpressions, another service) and prod's empty selector {} match.
    assert sorted(found) == [("dev", PDB + "no-selector-pdb"), ("dev", PDB + "typo-pdb")]
    assert found[("dev", PDB + "typo-pdb")] == (
        "selector {app=wbe} matches no pod template in env dev, namespace demo: the budget "
        "protects nothing"
    )
    assert found[("dev", PDB + "no-selector-pdb")].startswith(
        "has no spec.selector: a policy/v1 PodDisruptionBudget without a selector selects no pods"
    )


def test_pdb_overlap_is_reported_once_on_the_later_budget() -> None:
    findings = _scenario("pdb-overlap")
    assert _of_all("pdb-overlap", findings) == [("dev", PDB + "front-tier-pdb")]
    assert findings_of("pdb-overlap", findings)[("dev", PDB + "front-tier-pdb")] == (
        "selects the pods of Deployment/web like PodDisruptionBudget/web-pdb (service web) "
        'does: evicting them fails with HTTP 500 "more than one PodDisruptionBudget" and '
        "kubectl drain stops"
    )


# --- robustness --------------------------------------------------------------------------


def _resource(kind: str, name: str, body: dict[str, Any], api_version: str = "v1") -> Resource:
    full = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **body}
    return Resource(
        "prod",
        "svc",
        ResourceKey(api_version, kind, "demo", name),
        full,
        overlay_path="overlays/prod/svc",
    )


MALFORMED = [
    _resource("Deployment", "web", {"spec": {"replicas": "two", "template": "nope"}}, "apps/v1"),
    _resource(
        "Deployment",
        "api",
        {"spec": {"template": {"metadata": {"labels": ["x"]}, "spec": {"containers": "x"}}}},
        "apps/v1",
    ),
    _resource("StatefulSet", "db", {"spec": None}, "apps/v1"),
    _resource(
        "HorizontalPodAutoscaler",
        "web-hpa",
        {
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": "1",
                "maxReplicas": None,
                "metrics": "cpu",
                "behavior": {"scaleUp": {"policies": ["x", {"value": "4"}]}, "scaleDown": 7},
            }
        },
        "autoscaling/v2",
    ),
    _resource(
        "HorizontalPodAutoscaler",
        "api-hpa",
        {
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "api"},
                "metrics": [
                    None,
                    {"type": "Resource", "resource": "cpu"},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu"}},
                ],
            }
        },
        "autoscaling/v2",
    ),
    _resource(
        "HorizontalPodAutoscaler", "bad-hpa", {"spec": {"scaleTargetRef": "web"}}, "autoscaling/v2"
    ),
    _resource(
        "PodDisruptionBudget",
        "a-pdb",
        {"spec": {"minAvailable": "two", "selector": {"matchLabels": "x"}}},
        "policy/v1",
    ),
    _resource(
        "PodDisruptionBudget",
        "b-pdb",
        {"spec": {"maxUnavailable": [1], "selector": {}}},
        "policy/v1",
    ),
    _resource("PodDisruptionBudget", "c-pdb", {"spec": "nope"}, "policy/v1"),
    _resource(
        "PodDisruptionBudget",
        "d-pdb",
        {"spec": {"selector": {"matchExpressions": "x"}}},
        "policy/v1",
    ),
    _resource(
        "PodDisruptionBudget",
        "e-pdb",
        {
            "spec": {
                "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": 5}]}
            }
        },
        "policy/v1",
    ),
    _resource("LimitRange", "defaults", {"spec": {"limits": 5}}),
]
GARBLED_APP = Application(
    name="prod-svc",
    project="default",
    repo_url="",
    target_revision="HEAD",
    path="overlays/prod/svc",
    destination={"name": "prod"},
    generated_by="Application",
    spec={"ignoreDifferences": 5, "syncPolicy": {"syncOptions": "x"}},
)


@pytest.mark.parametrize("rule_id", SCALING_RULES)
def test_rules_survive_schema_invalid_documents(rule_id: str) -> None:
    ctx = CheckContext(
        repo=Path("."),
        config=RepoConfig(envs=("prod",)),
        overlays=(),
        resources=list(MALFORMED),
        applications=(GARBLED_APP,),
    )
    for hit in run_rule(ctx, get_rule(rule_id)):
        assert hit.message and "\n" not in hit.message
