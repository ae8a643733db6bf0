from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops.argocd import (
    expand_application_set,
    filter_directories,
    go_path_match,
    list_repo_directories,
    read_argocd_files,
    sanitize_name,
)
from gitops.config import RepoConfig, load_config
from gitops.errors import ConfigError
from gitops.gotemplate import TemplateError
from gitops.runner import Command, CommandResult, run
from gitops.workspace import Workspace
from tests.conftest import FIXTURES


def _expand(repo: Path):  # type: ignore[no-untyped-def]
    config = load_config(repo)
    workspace = Workspace.open(repo, config)
    argo = workspace.argocd()
    assert argo is not None and argo.error is None, argo
    return argo.with_coverage(config, workspace.layout().overlays)


def test_expands_one_application_per_overlay_plus_root() -> None:
    expansion = _expand(FIXTURES / "render-ok")
    assert expansion.problems == ()
    apps = {a.name: a for a in expansion.applications}
    assert sorted(apps) == ["dev-web", "dev-worker", "prod-web", "root"]
    assert apps["prod-web"].project == "demo-prod"
    assert apps["prod-web"].path == "overlays/prod/web"
    assert apps["prod-web"].destination == {"name": "prod", "namespace": "demo"}
    assert apps["prod-web"].generated_by == "ApplicationSet/demo"
    assert apps["root"].generated_by == "Application"


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("overlays/*/*", "overlays/dev/web", True),
        ("overlays/*/*", "overlays/dev", False),  # * never crosses /
        ("overlays/*/*", "overlays/dev/web/extra", False),
        ("overlays/*", "overlays/dev/web", False),
        ("overlays/[dp]*/web", "overlays/prod/web", True),
        ("overlays/[^d]*/web", "overlays/dev/web", False),
        ("overlays/?ev/web", "overlays/dev/web", True),
    ],
)
def test_go_path_match_semantics(pattern: str, name: str, expected: bool) -> None:
    assert go_path_match(pattern, name) is expected


def test_exclude_wins_over_include() -> None:
    items: list[dict[str, Any]] = [
        {"path": "overlays/*/*"},
        {"path": "overlays/prod/*", "exclude": True},
    ]
    dirs = ["overlays/dev/web", "overlays/prod/web", "overlays/dev"]
    assert filter_directories(items, dirs) == ["overlays/dev/web"]


def test_sanitize_name_like_argocd() -> None:
    assert sanitize_name("My_Service.v2-") == "my-service.v2"


def test_overlay_excluded_from_every_generator_is_uncovered(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("render-ok")
    appset = repo / "argocd" / "applicationset.yaml"
    appset.write_text(
        appset.read_text().replace(
            "          - path: overlays/*/*\n",
            "          - path: overlays/*/*\n"
            "          - path: overlays/*/worker\n            exclude: true\n",
        )
    )
    expansion = _expand(repo)
    assert expansion.problems == (
        "overlays/dev/worker: no Argo CD Application deploys this overlay",
    )
    assert "dev-worker" not in [a.name for a in expansion.applications]


def test_generated_path_without_kustomization(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("render-ok")
    (repo / "overlays" / "prod" / "docs").mkdir()
    (repo / "overlays" / "prod" / "docs" / "README.md").write_text("notes\n")
    expansion = _expand(repo)
    assert (
        "Application prod-docs: source path overlays/prod/docs has no kustomization.yaml or "
        "Chart.yaml" in expansion.problems
    )
    # A chart folder is a path Argo CD renders (with helm): no problem.
    (repo / "overlays" / "prod" / "docs" / "Chart.yaml").write_text("name: docs\n")
    assert not [p for p in _expand(repo).problems if "prod-docs" in p]


def test_an_application_of_a_helm_repositorys_chart_has_no_path_to_check(tmp_path: Path) -> None:
    (tmp_path / "argocd").mkdir()
    (tmp_path / "argocd" / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: ingress}\n"
        "spec:\n  source: {repoURL: 'https://kubernetes.github.io/ingress-nginx', "
        "chart: ingress-nginx, targetRevision: 4.11.0}\n  destination: {name: dev}\n"
    )
    argo = Workspace.open(tmp_path, RepoConfig(envs=("dev",))).argocd()
    assert argo is not None and [a.name for a in argo.applications] == ["ingress"]
    assert argo.problems == ()


def test_duplicate_application_names_are_problems(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("render-ok")
    appset = repo / "argocd" / "applicationset.yaml"
    appset.write_text(
        appset.read_text().replace(
            'name: "{{index .path.segments 1}}-{{.path.basename}}"', 'name: "{{.path.basename}}"'
        )
    )
    problems = _expand(repo).problems
    assert "Application web: generated twice (overlays/dev/web and overlays/prod/web)" in problems


def test_missing_key_in_template_is_reported_with_the_appset() -> None:
    appset = {
        "metadata": {"name": "broken"},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"git": {"repoURL": "r", "directories": [{"path": "o/*"}]}}],
            "template": {"metadata": {"name": "{{.path.env}}"}, "spec": {}},
        },
    }
    with pytest.raises(TemplateError, match="no entry for key 'env'"):
        expand_application_set(appset, ["o/a"], RepoConfig(envs=("dev",)))


def test_generator_reading_another_repo_is_refused() -> None:
    appset = {
        "metadata": {"name": "other"},
        "spec": {
            "generators": [
                {"git": {"repoURL": "https://elsewhere/x.git", "directories": [{"path": "*"}]}}
            ],
            "template": {},
        },
    }
    config = RepoConfig(envs=("dev",), repo_url="https://here/y.git")
    with pytest.raises(TemplateError, match="not this repository"):
        expand_application_set(appset, ["a"], config)


def test_legacy_fasttemplate_params() -> None:
    appset = {
        "metadata": {"name": "legacy"},
        "spec": {
            "generators": [{"git": {"repoURL": "r", "directories": [{"path": "overlays/*/*"}]}}],
            "template": {
                "metadata": {"name": "{{path[1]}}-{{path.basename}}"},
                "spec": {"source": {"path": "{{path}}"}, "project": "p"},
            },
        },
    }
    apps = expand_application_set(appset, ["overlays/dev/web"], RepoConfig(envs=("dev",)))
    assert [(a.name, a.path) for a in apps] == [("dev-web", "overlays/dev/web")]


def test_app_project_permission_methods_follow_argo_cd() -> None:
    """IsGroupKindPermitted / IsSourcePermitted / IsDestinationPermitted as methods on the
    type: no namespaced whitelist permits all, an empty one none; cluster-scoped kinds need the
    cluster whitelist; ``!`` source patterns deny."""
    from gitops.argocd import AppProject

    open_project = AppProject("p", {"sourceRepos": ["*", "!https://evil.example/*"]})
    assert open_project.is_group_kind_permitted("apps", "Deployment", namespaced=True)
    assert not open_project.is_group_kind_permitted("", "Namespace", namespaced=False)
    assert open_project.is_source_permitted("https://github.com/org/repo.git")
    assert not open_project.is_source_permitted("https://evil.example/repo")
    closed = AppProject(
        "q",
        {
            "namespaceResourceWhitelist": [],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "clusterResourceBlacklist": [{"group": "*", "kind": "Namespace"}],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "demo-*"}],
        },
    )
    assert closed.group_kind_denial("apps", "Deployment", namespaced=True) == (
        "does not permit namespaced kind apps/Deployment (namespaceResourceWhitelist is an "
        "empty list, which permits no namespaced kind)"
    )
    assert closed.group_kind_denial("", "Namespace", namespaced=False) == (
        "denies cluster-scoped kind core/Namespace (clusterResourceBlacklist)"
    )
    in_cluster = {"name": "in-cluster"}
    assert closed.is_destination_permitted(in_cluster, "demo-dev")
    assert not closed.is_destination_permitted(in_cluster, "kube-system")
    assert closed.destinations_text() == "https://kubernetes.default.svc/demo-*"


@pytest.mark.parametrize(
    "patterns",
    [
        ["overlays/*/*"],
        ["overlays/[dp]*/web", "base/*"],
        ["*", "*/*/*"],
        ["overlays/*/", "/overlays/*"],
        ["tests/fixtures/render-ok/overlays/*/*"],
        [],
    ],
)
def test_pruned_directory_walk_matches_the_full_walk(patterns: list[str]) -> None:
    """Listing only the directories the generators' patterns can reach finds exactly what the
    full repo-server walk, filtered by the same patterns, finds."""
    repo = Path(__file__).resolve().parents[2]
    items = [{"path": p} for p in patterns]
    full = filter_directories(items, list_repo_directories(repo))
    pruned_listing = list_repo_directories(repo, patterns)
    assert filter_directories(items, pruned_listing) == full
    assert set(full) <= set(pruned_listing)
    # The pruned walk never descends below the longest pattern.
    deepest = max((len(p.strip("/").split("/")) for p in patterns if p.strip("/")), default=0)
    assert all(len(d.split("/")) <= deepest for d in pruned_listing)


def test_pruned_walk_skips_trees_no_pattern_reaches(tmp_path: Path) -> None:
    for directory in ("overlays/dev/web", "overlays/.hidden/web", "build/x/y", "tests/a/b"):
        (tmp_path / directory).mkdir(parents=True)
    listed = list_repo_directories(tmp_path, ["overlays/*/*"])
    assert listed == ["overlays", "overlays/dev", "overlays/dev/web"]


def test_expansion_ignores_directories_outside_the_patterns(tmp_path: Path) -> None:
    """A deep tree outside the generator's patterns changes nothing in the expansion."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "render-ok", repo)
    before = _expand(repo)
    deep = repo / "build"
    for i in range(50):
        (deep / f"d{i}" / "overlays" / "dev" / "web").mkdir(parents=True)
    after = _expand(repo)
    assert [a.name for a in after.applications] == [a.name for a in before.applications]
    assert after.problems == before.problems


def test_argocd_builds_through_the_runner_once_then_reads_the_cache(
    fixture_repo: Callable[[str], Path], tmp_path: Path
) -> None:
    """One builder of argocd/ (the Workspace's): the build goes through its runner, and a
    second build with the same render cache runs no process."""
    repo = fixture_repo("render-ok")
    config = load_config(repo)
    commands: list[Command] = []

    def counting(command: Command) -> CommandResult:
        commands.append(command)
        return run(command)

    def objects() -> tuple[dict[str, Any], ...]:
        workspace = Workspace.open(repo, config, runner=counting)
        assert workspace.cache is not None
        workspace.cache.directory = tmp_path / "cache"
        argo = workspace.argocd()
        assert argo is not None and argo.error is None
        return argo.objects

    first = objects()
    assert len(commands) == 1
    assert config.argocd_path in commands[0].argv  # kustomize build argocd
    assert {o["kind"] for o in first} >= {"Application", "ApplicationSet"}
    second = objects()
    assert second == first
    assert len(commands) == 1  # served from the render cache


def test_a_folder_without_kustomization_is_read_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "argocd" / "apps").mkdir(parents=True)
    (tmp_path / "argocd" / "apps" / "a.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n"
    )
    (tmp_path / "argocd" / "b.yml").write_bytes(b"kind: X\n# caf\xe9\n")
    config = RepoConfig(envs=("dev",))
    with pytest.raises(ConfigError, match=r"argocd/b\.yml: not UTF-8 text"):
        read_argocd_files(tmp_path, config)
    (tmp_path / "argocd" / "b.yml").write_text("kind: X\nmetadata: {name: b}\n")
    assert [o["kind"] for o in read_argocd_files(tmp_path, config)] == ["Application", "X"]
    with pytest.raises(ConfigError, match="no such directory"):
        read_argocd_files(tmp_path / "nowhere", config)
