"""``gitops.policy.engine``: rules declare the kinds they check and see only those."""

from __future__ import annotations

from pathlib import Path

from gitops.config import RepoConfig
from gitops.policy import CheckContext, get_rule, run_rule
from tests.unit.k8s.objects import deployment_doc, hpa_doc, res


def test_the_engine_hands_single_resource_rules_only_their_kinds() -> None:
    """hpa-bounds declares kinds=(HorizontalPodAutoscaler,): a Deployment with a field the rule
    would read (minReplicas 0 in its spec) is never shown to it."""
    bad_hpa = hpa_doc("apps/v1", 0)
    lookalike = deployment_doc()
    lookalike["spec"]["minReplicas"] = 0
    ctx = CheckContext(
        repo=Path("."),
        config=RepoConfig(envs=("prod",)),
        overlays=(),
        resources=[res(lookalike), res(bad_hpa)],
    )
    registered = get_rule("hpa-bounds")
    assert registered.per_resource and registered.kinds == ("HorizontalPodAutoscaler",)
    assert {h.resource.kind for h in run_rule(ctx, registered) if h.resource} == {
        "HorizontalPodAutoscaler"
    }
