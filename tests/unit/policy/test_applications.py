"""``gitops.policy.applications``: Argo CD Applications against the repo (paths, coverage)
and against their AppProject (sources, destinations, kinds, CreateNamespace)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import FIXTURES
from tests.unit.policy.findings import check_findings, findings_of


def test_argocd_path_missing_respects_the_service_selection() -> None:
    findings = check_findings(FIXTURES / "argocd-path-missing", service="web")
    assert findings_of(findings, "argocd-path-missing") == []


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
    denied = [r for r, _ in findings_of(check_findings(repo), "argocd-project-denied")]
    assert "v1/Service//web" not in denied
    assert "v1/ConfigMap//web" not in denied
    # An empty list permits none.
    _rewrite_project(
        repo,
        "  clusterResourceWhitelist: []\n",
        "  clusterResourceWhitelist: []\n  namespaceResourceWhitelist: []\n",
    )
    messages = dict(findings_of(check_findings(repo), "argocd-project-denied"))
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
    messages = findings_of(check_findings(repo), "argocd-project-denied")
    assert (
        "",
        "Application dev-web: repository https://git.example.test/team/demo.git is not in "
        "sourceRepos of AppProject demo-dev (https://git.example.test/other/*)",
    ) in messages
    assert (
        "v1/Service//web",
        "AppProject demo-dev denies namespaced kind core/Service (namespaceResourceBlacklist)",
    ) in messages


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
    assert expected in findings_of(check_findings(repo), "argocd-project-denied")
    _rewrite_project(
        repo,
        "  clusterResourceWhitelist: []\n",
        '  clusterResourceWhitelist:\n    - group: ""\n      kind: Namespace\n',
    )
    assert expected not in findings_of(check_findings(repo), "argocd-project-denied")
