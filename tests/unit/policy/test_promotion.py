"""``gitops.policy.promotion``: env-regression reads HPAs and PDBs through the relation index,
like the HPA and PDB rules do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.config import RepoConfig
from gitops.model import Resource
from gitops.policy import CheckContext, get_rule, run_rule
from tests.unit.k8s.objects import deployment_doc, hpa_doc, pdb_doc, res
from tests.unit.policy.findings import check_findings


def _env_regression(resources: list[Resource]) -> list[str]:
    ctx = CheckContext(
        repo=Path("."), config=RepoConfig(envs=("dev", "prod")), overlays=(), resources=resources
    )
    return sorted(hit.message for hit in run_rule(ctx, get_rule("env-regression")))


def test_env_regression_reads_hpas_like_the_hpa_rules_on_malformed_input() -> None:
    """env-regression used to match an HPA by kind and name only and read a non-numeric
    minReplicas as 1: an HPA the controller never attaches (wrong group) still counted, and a
    garbled floor became a "regression". It now reads both through the relation index."""
    dev = [res(deployment_doc(), env="dev"), res(hpa_doc("apps/v1", 3), env="dev")]
    garbled = [res(deployment_doc()), res(hpa_doc("apps/v1", "three"))]
    messages = _env_regression(dev + garbled)
    # No HPA missing, no maxReplicas drop, and no replica comparison against an unreadable floor.
    assert not any("minimum replicas" in m for m in messages)
    assert not any("HorizontalPodAutoscaler" in m for m in messages)

    wrong_group = [res(deployment_doc()), res(hpa_doc("extensions/v1beta1", 3))]
    messages = _env_regression(dev + wrong_group)
    # The wrong-group HPA manages nothing (hpa-target-missing says so): prod has no HPA.
    assert "no HorizontalPodAutoscaler in prod, but dev has web (maxReplicas 6)" in messages
    ctx = CheckContext(
        repo=Path("."), config=RepoConfig(envs=("prod",)), overlays=(), resources=wrong_group
    )
    target_missing = run_rule(ctx, get_rule("hpa-target-missing"))
    assert [h.resource for h in target_missing] == [wrong_group[1]]


def test_env_regression_pdb_coverage_matches_the_pdb_rules() -> None:
    """An empty selector covers every pod of the namespace (policy/v1), in env-regression as in
    pdb-selector-unmatched; a malformed one covers none in both."""
    dev = [
        res(deployment_doc(), env="dev"),
        res(pdb_doc({"matchLabels": {"app": "web"}}), env="dev"),
    ]
    covered = _env_regression([*dev, res(deployment_doc()), res(pdb_doc({}))])
    assert not any("PodDisruptionBudget" in m for m in covered)
    broken = _env_regression([*dev, res(deployment_doc()), res(pdb_doc({"matchLabels": "x"}))])
    assert "no PodDisruptionBudget covers the pods in prod, but dev has web" in broken


def test_env_regression_missing_hpa(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("env-regression")
    (repo / "overlays/prod/web/hpa.yaml").write_text(
        "$patch: delete\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata:\n  name: web\n"
    )
    messages = [f.message for f in check_findings(repo) if f.rule == "env-regression"]
    assert "no HorizontalPodAutoscaler in prod, but dev has web (maxReplicas 6)" in messages
    # Without the HPA, prod runs the Deployment's default of 1 replica.
    assert (
        "minimum replicas 1 in prod (replicas) is lower than 2 in dev (HPA web minReplicas)"
        in messages
    )
