from __future__ import annotations

import json
from typing import Any

import pytest

from gitops.argocd import expand_application_set, list_repo_directories
from gitops.config import load_config
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT
from tests.e2e.harness import argocd as argo
from tests.e2e.harness.argocd import Document
from tests.e2e.harness.deploy import overlay_paths
from tests.e2e.harness.gitserver import GIT_URL


def load_argocd_objects() -> list[dict[str, Any]]:
    argo = Workspace.open(REPO_ROOT, load_config(REPO_ROOT)).argocd()
    assert argo is not None and argo.error is None
    return list(argo.objects)


@pytest.fixture(scope="module")
def test_objects() -> list[Document]:
    config = load_config(REPO_ROOT)
    assert config.repo_url
    return argo.objects_for_test(load_argocd_objects(), config.repo_url, GIT_URL, overlay_paths())


def test_repo_url_points_at_the_in_cluster_git_daemon_everywhere(
    test_objects: list[Document],
) -> None:
    text = json.dumps(test_objects)
    assert "github.com/example-org" not in text
    for project in (o for o in test_objects if o["kind"] == "AppProject"):
        assert project["spec"]["sourceRepos"] == [GIT_URL]
    appset = next(o for o in test_objects if o["kind"] == "ApplicationSet")
    assert appset["spec"]["generators"][0]["git"]["repoURL"] == GIT_URL
    assert appset["spec"]["template"]["spec"]["source"]["repoURL"] == GIT_URL


def test_root_app_is_left_out(test_objects: list[Document]) -> None:
    assert not [o for o in test_objects if o["kind"] == "Application"]


def test_restricted_applicationset_generates_exactly_the_dev_apps(
    test_objects: list[Document],
) -> None:
    config = load_config(REPO_ROOT)
    original = next(o for o in load_argocd_objects() if o["kind"] == "ApplicationSet")
    restricted = argo.restrict_directories(original, overlay_paths())
    apps = expand_application_set(restricted, list_repo_directories(REPO_ROOT), config)
    assert sorted(a.name for a in apps) == ["dev-healthz", "dev-kpis-api"]
    assert {a.project for a in apps} == {"integration-dev"}
    assert {a.destination["name"] for a in apps} == {"dev"}
    # the object applied differs from the expanded one only in the repo URL
    applied = next(o for o in test_objects if o["kind"] == "ApplicationSet")
    assert config.repo_url
    assert argo.replace_strings(applied, GIT_URL, config.repo_url)[0] == restricted


def test_restrict_needs_a_git_generator() -> None:
    with pytest.raises(ValueError, match="no git generator"):
        argo.restrict_directories({"spec": {"generators": [{"list": {}}]}}, ["a"])


def test_an_object_not_mentioning_the_repo_is_an_error() -> None:
    with pytest.raises(ValueError, match="AppProject/p does not mention"):
        argo.objects_for_test(
            [{"kind": "AppProject", "metadata": {"name": "p"}, "spec": {}}], "u", "v", []
        )


def test_replace_strings_counts_and_does_not_mutate() -> None:
    source: Document = {"a": ["x", {"b": "x"}], "c": "y", "d": 1}
    replaced, count = argo.replace_strings(source, "x", "z")
    assert replaced == {"a": ["z", {"b": "z"}], "c": "y", "d": 1}
    assert count == 2 and source["a"][0] == "x"


def test_cluster_secret_registers_in_cluster_as_dev() -> None:
    secret = argo.cluster_secret("dev")
    assert secret["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "cluster"}
    assert secret["metadata"]["namespace"] == "argocd"
    assert secret["stringData"]["name"] == "dev"
    assert secret["stringData"]["server"] == "https://kubernetes.default.svc"
    json.loads(secret["stringData"]["config"])


def test_argocd_cm_gets_gitops_build_options() -> None:
    patch = json.loads(argo.argocd_cm_patch(load_config(REPO_ROOT).kustomize.build_options))
    assert patch == {
        "data": {"kustomize.buildOptions": "--load-restrictor=LoadRestrictionsRootOnly"}
    }


def test_pinned_versions_are_in_the_urls() -> None:
    assert f"/argo-cd/{argo.ARGOCD_VERSION}/" in argo.ARGOCD_INSTALL_URL
    assert f"/download/{argo.METRICS_SERVER_VERSION}/components.yaml" in argo.METRICS_SERVER_URL
    assert "latest" not in argo.ARGOCD_INSTALL_URL + argo.METRICS_SERVER_URL
    patch = json.loads(argo.METRICS_SERVER_PATCH)
    assert patch == [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/args/-",
            "value": "--kubelet-insecure-tls",
        }
    ]


def test_application_state() -> None:
    assert argo.application_state({}) == ("", "")
    assert argo.application_state(
        {"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}
    ) == ("Synced", "Healthy")


def test_leftover_apps_are_looked_up_without_failing_and_deleted_in_the_argocd_namespace() -> None:
    probe = argo.leftover_apps_probe_args()
    assert probe[0] == "get" and "--ignore-not-found" in probe
    assert probe[1].endswith("/applicationsets.argoproj.io")
    delete = argo.leftover_apps_delete_args()
    assert delete[:3] == ("delete", "applicationsets.argoproj.io,applications.argoproj.io", "--all")
    assert delete[3:5] == ("--namespace", "argocd")
    assert "--ignore-not-found" in delete


def test_sync_gate_fails_dependants_at_once_with_the_first_failure() -> None:
    from tests.e2e.harness.argocd import SyncGate
    from tests.e2e.harness.wait import WaitTimeout

    gate = SyncGate()
    gate.require()  # nothing failed yet: the dependant runs (and waits) normally
    gate.fail("test_sync", WaitTimeout("timed out after 600s waiting for Synced\nlast: {}"))
    with pytest.raises(
        AssertionError, match="not waiting for a sync again: test_sync failed: timed out after 600s"
    ):
        gate.require()
