"""docs/rules.md is generated from the rules and must be committed up to date."""

from __future__ import annotations

from gitops.policy import all_rules
from gitops.rules_doc import render_rules_markdown
from tests.conftest import REPO_ROOT

ISSUE_RULE_IDS = {
    "render-failed",
    "schema",
    "api-removed",
    "api-deprecated",
    "probe-missing",
    "probe-port-unknown",
    "probe-invalid",
    "probe-identical",
    "resources-missing",
    "requests-exceed-limits",
    "hpa-target-missing",
    "hpa-missing-requests",
    "hpa-bounds",
    "hpa-replicas-conflict",
    "pdb-missing",
    "pdb-blocks-drain",
    "pdb-selector-unmatched",
    "pdb-overlap",
    "service-selector-unmatched",
    "service-target-port-unknown",
    "ingress-backend-unknown",
    "servicemonitor-port-unknown",
    "image-tag-mutable",
    "image-reference-invalid",
    "secret-plaintext",
    "security-context",
    "remote-base",
    "argocd-path-missing",
    "argocd-project-denied",
    "env-regression",
    "waiver-expired",
    "waiver-unused",
    # issue 11: API-server validation beyond the schemas; two overlays owning one object
    "schema-api",
    "resource-conflict",
    # issue 21: keys kustomize reads silently wrong
    "kustomization-duplicate-key",
    "kustomization-field-ignored",
    # issue 19: what kube-apiserver's own code warns about (the upstream validator)
    "api-warning",
}
WARNINGS = {"api-deprecated", "api-warning", "probe-identical", "waiver-unused"}


def test_docs_rules_md_is_up_to_date() -> None:
    committed = (REPO_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_markdown(), "run `make docs` and commit docs/rules.md"


def test_every_rule_of_the_spec_is_registered_with_its_severity() -> None:
    rules = {r.id: r for r in all_rules()}
    assert set(rules) == ISSUE_RULE_IDS
    assert {r.id for r in rules.values() if str(r.severity) == "warning"} == WARNINGS
    for registered in rules.values():
        assert len(registered.doc.strip().splitlines()) >= 2, f"{registered.id}: say why"


def test_every_rule_says_how_to_fix_it_and_what_it_applies_to() -> None:
    for registered in all_rules():
        assert registered.remediation.strip().endswith("."), registered.id
        if registered.per_resource:
            assert registered.kinds, registered.id
    doc = render_rules_markdown()
    section = doc.split("## `pdb-missing`", 1)[1].split("\n## ", 1)[0]
    assert "- **Applies to:** `Deployment`, `StatefulSet`" in section
    assert "`policy.pdbRequiredEnvs`" in section
    assert "- **How to fix:** Add a PodDisruptionBudget" in section
    hpa_bounds = doc.split("## `hpa-bounds`", 1)[1].split("\n## ", 1)[0]
    assert "`HorizontalPodAutoscaler` (checked one resource at a time)" in hpa_bounds
