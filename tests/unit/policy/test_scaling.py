"""The HPA and PDB rules: fixture variations and malformed documents.

Each rule's exact findings on its fixture (tests/fixtures/<rule>/) are in that fixture's
expected.yaml, run by tests/unit/test_fixture_tables.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops.argocd import Application
from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.model import Finding, Resource, ResourceKey
from gitops.policy import CheckContext, get_rule, run_rule
from gitops.policy.scaling import pdb_missing
from tests.fixturelib import check_repo

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


def _of(rule: str, findings: tuple[Finding, ...]) -> dict[tuple[str, str], str]:
    """{(env, resource): message} of one rule's findings (each resource at most once)."""
    selected = [f for f in findings if f.rule == rule]
    by_resource = {(f.env, f.resource): f.message for f in selected}
    assert len(by_resource) == len(selected), [f.message for f in selected]
    return by_resource


HPA = "autoscaling/v2/HorizontalPodAutoscaler/demo/"
PDB = "policy/v1/PodDisruptionBudget/demo/"
DEPLOYMENT = "apps/v1/Deployment/demo/"


def test_pdb_missing_envs_come_from_gitops_yaml(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("pdb-missing")
    config_file = repo / "gitops.yaml"
    config_file.write_text(config_file.read_text() + "policy:\n  pdbRequiredEnvs: [dev]\n")
    findings = check_repo(repo).findings
    assert sorted(_of("pdb-missing", findings)) == [
        ("dev", DEPLOYMENT + "api"),
        ("dev", DEPLOYMENT + "web"),
    ]


def test_pdb_missing_rejects_a_malformed_env_list() -> None:
    config = RepoConfig(envs=("prod",), policy={"pdbRequiredEnvs": "prod"})
    ctx = CheckContext(repo=Path("."), config=config, overlays=(), resources=[])
    with pytest.raises(ConfigError, match=r"policy\.pdbRequiredEnvs must be a list"):
        list(pdb_missing(ctx))


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
