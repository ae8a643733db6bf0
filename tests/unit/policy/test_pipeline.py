"""``gitops.policy.pipeline``: the rules the check pipeline reports itself are registered with
their severity, remediation and tuning keys, and the engine never runs them as functions."""

from __future__ import annotations

from pathlib import Path

from gitops.config import RepoConfig
from gitops.model import Severity
from gitops.policy import CheckContext, get_rule, run_rule

PIPELINE_RULES = ("render-failed", "schema", "schema-api", "waiver-expired", "waiver-unused")


def test_pipeline_rules_are_declared_with_their_metadata() -> None:
    for rule_id in PIPELINE_RULES:
        registered = get_rule(rule_id)
        assert registered.func is None and registered.module == "gitops.policy.pipeline"
        assert registered.summary and registered.remediation, rule_id
    assert get_rule("waiver-unused").severity is Severity.WARNING
    assert get_rule("render-failed").severity is Severity.ERROR
    assert [p.key for p in get_rule("schema").params] == ["kubernetesVersion"]


def test_the_engine_yields_nothing_for_them() -> None:
    ctx = CheckContext(repo=Path("."), config=RepoConfig(envs=("dev",)), overlays=(), resources=[])
    assert [list(run_rule(ctx, get_rule(r))) for r in PIPELINE_RULES] == [[]] * 5
