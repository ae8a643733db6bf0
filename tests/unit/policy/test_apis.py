"""``gitops.policy.apis``: removed and deprecated API versions at the target Kubernetes version;
the lifecycle table is package data with its sources, and is read strictly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.unit.policy.findings import check_findings, findings_of


def test_api_lifecycle_follows_the_target_version(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("api-removed-deprecated")
    (repo / "gitops.yaml").write_text('kubernetesVersion: "1.30"\nenvs: [dev]\n')
    findings = check_findings(repo)
    assert [r for r, _ in findings_of(findings, "api-removed")] == [
        "policy/v1beta1/PodDisruptionBudget/demo/web-legacy"
    ]
    # Served until 1.32; Endpoints are only deprecated from 1.33 on.
    assert findings_of(findings, "api-deprecated") == [
        (
            "flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema/demo/web",
            "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated since Kubernetes "
            "1.29, removed in 1.32 (target 1.30): use flowcontrol.apiserver.k8s.io/v1",
        )
    ]


def test_api_lifecycle_knows_the_betas_of_1_34_to_1_36(
    fixture_repo: Callable[[str], Path],
) -> None:
    """k8s.io/api v0.36.3's prerelease-lifecycle data: VAP v1beta1 gone in 1.34, DRA v1beta1
    deprecated in 1.35 (removal 1.38)."""
    repo = fixture_repo("api-removed-deprecated")
    (repo / "gitops.yaml").write_text('kubernetesVersion: "1.36"\nenvs: [dev]\n')
    (repo / "overlays" / "dev" / "web" / "apis.yaml").write_text(
        "apiVersion: admissionregistration.k8s.io/v1beta1\n"
        "kind: ValidatingAdmissionPolicy\nmetadata: {name: vap}\n---\n"
        "apiVersion: resource.k8s.io/v1beta1\nkind: ResourceClaim\nmetadata: {name: claim}\n"
    )
    findings = check_findings(repo)
    assert findings_of(findings, "api-removed") == [
        (
            "admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicy/demo/vap",
            "admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy was removed in "
            "Kubernetes 1.34 (target 1.36): use admissionregistration.k8s.io/v1",
        )
    ]
    assert findings_of(findings, "api-deprecated") == [
        (
            "resource.k8s.io/v1beta1/ResourceClaim/demo/claim",
            "resource.k8s.io/v1beta1 ResourceClaim is deprecated since Kubernetes 1.35, "
            "removed in 1.38 (target 1.36): use resource.k8s.io/v1",
        )
    ]
