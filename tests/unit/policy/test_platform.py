"""Platform rules on fixture mini-repos rendered by the real kustomize."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.model import Finding
from tests.conftest import FIXTURES
from tests.fixturelib import check_fixture, check_repo

# The exact findings of each rule on its fixture are in tests/fixtures/<rule>/expected.yaml
# (tests/unit/test_fixture_tables.py); these tests vary the fixtures and check what a table
# cannot: that a value never appears in any message, the service selection.


def _report(repo: Path, service: str | None = None) -> list[Finding]:
    if repo.parent == FIXTURES:
        return list(check_fixture(repo.name, service=service).findings)
    return list(check_repo(repo, service=service).findings)


def _of(findings: list[Finding], rule_id: str) -> list[tuple[str, str]]:
    return sorted((f.resource, f.message) for f in findings if f.rule == rule_id)


def test_api_lifecycle_follows_the_target_version(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("api-removed-deprecated")
    (repo / "gitops.yaml").write_text('kubernetesVersion: "1.30"\nenvs: [dev]\n')
    findings = _report(repo)
    assert [r for r, _ in _of(findings, "api-removed")] == [
        "policy/v1beta1/PodDisruptionBudget/demo/web-legacy"
    ]
    # Served until 1.32; Endpoints are only deprecated from 1.33 on.
    assert _of(findings, "api-deprecated") == [
        (
            "flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema/demo/web",
            "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated since Kubernetes "
            "1.29, removed in 1.32 (target 1.30): use flowcontrol.apiserver.k8s.io/v1",
        )
    ]


def test_secret_plaintext_names_keys_never_values() -> None:
    findings = [f for f in _report(FIXTURES / "secret-plaintext") if f.rule == "secret-plaintext"]
    assert sorted((f.resource, f.message, f.source) for f in findings) == [
        (
            "v1/Secret/demo/web-api-key",
            "Secret carries secret material in git (stringData keys: API_KEY): reference it "
            "from a secret store (ExternalSecret/SealedSecret) instead of rendering it",
            "overlays/dev/web/secrets.yaml",
        ),
        (
            "v1/Secret/demo/web-db-b2k295b95t",
            "Secret carries secret material in git (data keys: DB_PASSWORD, DB_USER): "
            "reference it from a secret store (ExternalSecret/SealedSecret) instead of "
            "rendering it",
            "overlays/dev/web/kustomization.yaml",
        ),
    ]
    assert not any("do-not-print-me" in f.message for f in findings)


def test_argocd_path_missing_respects_the_service_selection() -> None:
    findings = _report(FIXTURES / "argocd-path-missing", service="web")
    assert _of(findings, "argocd-path-missing") == []


def _rewrite_project(repo: Path, old: str, new: str) -> None:
    path = repo / "argocd/appproject.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_argocd_project_whitelist_absent_vs_empty(fixture_repo: Callable[[str], Path]) -> None:
    whitelist = '  namespaceResourceWhitelist:\n    - group: ""\n      kind: ConfigMap\n'
    # Absent: every namespaced kind is permitted (Argo CD: a nil whitelist).
    repo = fixture_repo("argocd-project-denied")
    _rewrite_project(repo, whitelist, "")
    denied = [r for r, _ in _of(_report(repo), "argocd-project-denied")]
    assert "v1/Service//web" not in denied
    assert "v1/ConfigMap//web" not in denied
    # An empty list permits none.
    _rewrite_project(
        repo,
        "  clusterResourceWhitelist: []\n",
        "  clusterResourceWhitelist: []\n  namespaceResourceWhitelist: []\n",
    )
    messages = dict(_of(_report(repo), "argocd-project-denied"))
    assert messages["v1/ConfigMap//web"] == (
        "AppProject demo-dev does not permit namespaced kind core/ConfigMap "
        "(namespaceResourceWhitelist is an empty list, which permits no namespaced kind)"
    )


def test_argocd_project_source_repos_and_blacklist(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("argocd-project-denied")
    _rewrite_project(
        repo,
        "    - https://git.example.test/team/*\n",
        "    - https://git.example.test/other/*\n",
    )
    _rewrite_project(
        repo,
        "      kind: ConfigMap\n",
        '      kind: "*"\n  namespaceResourceBlacklist:\n    - group: ""\n      kind: Service\n',
    )
    messages = _of(_report(repo), "argocd-project-denied")
    assert (
        "",
        "Application dev-web: repository https://git.example.test/team/demo.git is not in "
        "sourceRepos of AppProject demo-dev (https://git.example.test/other/*)",
    ) in messages
    assert (
        "v1/Service//web",
        "AppProject demo-dev denies namespaced kind core/Service (namespaceResourceBlacklist)",
    ) in messages


def test_env_regression_missing_hpa(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("env-regression")
    (repo / "overlays/prod/web/hpa.yaml").write_text(
        "$patch: delete\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata:\n  name: web\n"
    )
    messages = [f.message for f in _report(repo) if f.rule == "env-regression"]
    assert "no HorizontalPodAutoscaler in prod, but dev has web (maxReplicas 6)" in messages
    # Without the HPA, prod runs the Deployment's default of 1 replica.
    assert (
        "minimum replicas 1 in prod (replicas) is lower than 2 in dev (HPA web minReplicas)"
        in messages
    )


def test_create_namespace_needs_namespace_in_the_cluster_whitelist(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("argocd-project-denied")
    apps = repo / "argocd/applications.yaml"
    apps.write_text(
        apps.read_text().replace(
            "    path: overlays/dev/web\n",
            "    path: overlays/dev/web\n  syncPolicy:\n    syncOptions: [CreateNamespace=true]\n",
        )
    )
    expected = (
        "",
        "Application dev-web: syncOption CreateNamespace=true creates namespace demo, but "
        "AppProject demo-dev does not permit cluster-scoped kind core/Namespace: the sync fails "
        "with \"resource :Namespace is not permitted in project\" (add {group: '', kind: "
        "Namespace} to clusterResourceWhitelist)",
    )
    assert expected in _of(_report(repo), "argocd-project-denied")
    _rewrite_project(
        repo,
        "  clusterResourceWhitelist: []\n",
        '  clusterResourceWhitelist:\n    - group: ""\n      kind: Namespace\n',
    )
    assert expected not in _of(_report(repo), "argocd-project-denied")


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
    findings = _report(repo)
    assert _of(findings, "api-removed") == [
        (
            "admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicy/demo/vap",
            "admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy was removed in "
            "Kubernetes 1.34 (target 1.36): use admissionregistration.k8s.io/v1",
        )
    ]
    assert _of(findings, "api-deprecated") == [
        (
            "resource.k8s.io/v1beta1/ResourceClaim/demo/claim",
            "resource.k8s.io/v1beta1 ResourceClaim is deprecated since Kubernetes 1.35, "
            "removed in 1.38 (target 1.36): use resource.k8s.io/v1",
        )
    ]
