"""``gitops.helm.application``: which Applications Argo CD renders with helm, and every rule of
its helmTemplate, asserted on the arguments helm gets (argo-cd reposerver/repository)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops.argocd import Application, expand_applications
from gitops.config import RepoConfig
from gitops.helm.application import (
    build_environment,
    chart_source,
    envsubst,
    is_chart_source,
    parse_kube_version,
    remote_chart,
    resolve_value_file,
)

CONFIG = RepoConfig(envs=("dev", "prod"), kubernetes_version="1.36")


def _app(source: dict[str, Any], name: str = "prod-web", namespace: str = "web") -> Application:
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name},
        "spec": {
            "project": "shop",
            "source": {
                "repoURL": "https://git.example.test/web.git",
                "path": "charts/web",
                **source,
            },
            "destination": {"name": "prod", "namespace": namespace},
        },
    }
    (app,) = expand_applications(Path("/nonexistent"), RepoConfig(), [obj]).applications
    return app


def _chart(repo: Path, *files: str) -> Path:
    chart = repo / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: webapp\nversion: 1.0.0\n")
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("{}\n")
    return chart


def test_the_arguments_are_argo_cds_in_argo_cds_order(tmp_path: Path) -> None:
    _chart(tmp_path, "charts/web/values-prod.yaml", "envs/prod.yaml", "charts/web/ca.pem")
    app = _app(
        {
            "helm": {
                "valueFiles": ["values-prod.yaml", "/envs/prod.yaml"],
                "values": "replicas: 2\n",
                "parameters": [
                    {"name": "image.tag", "value": "1.2,3"},
                    {"name": "labels", "value": "{a,b}"},
                    {"name": "port", "value": "8080", "forceString": True},
                    {"name": "image.tag", "value": "1.4.2"},  # a map: the last wins
                ],
                "fileParameters": [{"name": "tls.ca", "path": "ca.pem"}],
                "skipTests": True,
            }
        }
    )
    source = chart_source(app, CONFIG, ("apps/v1", "apps/v1/Deployment"), tmp_path)
    assert source.chart == "webapp"  # helm's # Source: headers start with Chart.yaml's name
    assert source.template_args("/tmp/extra.yaml") == (
        "template", ".", "--name-template", "prod-web",
        "--namespace", "web",
        "--kube-version", "1.36",
        "--set", "image.tag=1.4.2",
        "--set", "labels={a,b}",
        "--set-string", "port=8080",
        "--set-file", "tls.ca=ca.pem",
        "--values", "values-prod.yaml",
        "--values", "../../envs/prod.yaml",
        "--values", "/tmp/extra.yaml",
        "--api-versions", "apps/v1", "--api-versions", "apps/v1/Deployment",
        "--include-crds",
        "--skip-tests",
    )  # fmt: skip
    assert source.input_files() == (
        "charts/web/values-prod.yaml",
        "envs/prod.yaml",
        "charts/web/ca.pem",
    )


def test_the_application_overrides_release_namespace_versions_and_crds(tmp_path: Path) -> None:
    _chart(tmp_path)
    helm = {
        "releaseName": "web",
        "namespace": "web-system",
        "kubeVersion": "v1.35.2+k3s1",
        "apiVersions": ["monitoring.coreos.com/v1"],
        "skipCrds": True,
        "skipSchemaValidation": True,
    }
    source = chart_source(_app({"helm": helm}), CONFIG, ("apps/v1",), tmp_path)
    assert source.template_args(None) == (
        "template", ".", "--name-template", "web",
        "--namespace", "web-system",
        "--kube-version", "1.35.2",
        "--api-versions", "monitoring.coreos.com/v1",
        "--skip-schema-validation",
    )  # fmt: skip


def test_values_object_wins_over_values_and_both_come_after_the_files(tmp_path: Path) -> None:
    _chart(tmp_path)
    both = {"values": "a: 1\n", "valuesObject": {"b": {"c": 2}}}
    assert chart_source(_app({"helm": both}), CONFIG, (), tmp_path).values == '{"b": {"c": 2}}\n'
    only = chart_source(_app({"helm": {"values": "a: 1\n"}}), CONFIG, (), tmp_path)
    assert only.values == "a: 1\n"
    assert chart_source(_app({}), CONFIG, (), tmp_path).values == ""


def test_missing_value_files_are_dropped_only_when_argo_cd_ignores_them(tmp_path: Path) -> None:
    _chart(tmp_path, "charts/web/values-prod.yaml")
    files = ["values-prod.yaml", "values-prod-extra.yaml"]
    kept = chart_source(_app({"helm": {"valueFiles": files}}), CONFIG, (), tmp_path)
    assert kept.value_files == ("charts/web/values-prod.yaml", "charts/web/values-prod-extra.yaml")
    helm = {"valueFiles": files, "ignoreMissingValueFiles": True}
    dropped = chart_source(_app({"helm": helm}), CONFIG, (), tmp_path)
    assert dropped.value_files == ("charts/web/values-prod.yaml",)


def test_value_files_from_outside_the_repository_are_remote_or_refused(tmp_path: Path) -> None:
    _chart(tmp_path)
    helm = {
        "valueFiles": ["https://example.test/values.yaml", "$values/prod.yaml", "../../../x.yaml"]
    }
    source = chart_source(_app({"helm": helm}), CONFIG, (), tmp_path)
    assert source.remote == (
        "value file https://example.test/values.yaml",
        "value file $values/prod.yaml (another source of the Application)",
    )
    assert source.problems == ("value file ../../../x.yaml resolves outside the repository",)
    assert source.value_files == ()


def test_unsupported_helm_version_and_kube_version_are_argo_cds_errors(tmp_path: Path) -> None:
    _chart(tmp_path)
    helm = {"version": "v2", "kubeVersion": "banana"}
    source = chart_source(_app({"helm": helm}), CONFIG, (), tmp_path)
    assert source.problems == (
        "helm chart version 'v2' is not supported",
        "could not parse kubernetes version banana",
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.36", "1.36"), ("v1.36.3", "1.36.3"), ("1.36.3-rc.1+abc", "1.36.3"), (" 1.036", "1.36")],
)
def test_kube_version_is_read_as_a_generic_version(version: str, expected: str) -> None:
    assert parse_kube_version(version) == (expected, None)
    assert parse_kube_version("1")[1] == "could not parse kubernetes version 1"
    assert parse_kube_version("01.36")[1] is not None


def test_parameters_and_value_files_get_argo_cds_variables(tmp_path: Path) -> None:
    _chart(tmp_path, "charts/web/values-prod-web.yaml")
    helm = {
        "valueFiles": ["values-${ARGOCD_APP_NAME}.yaml"],
        "parameters": [{"name": "ns", "value": "$ARGOCD_APP_NAMESPACE/$$/${UNKNOWN}x"}],
    }
    source = chart_source(_app({"helm": helm}), CONFIG, (), tmp_path)
    assert source.value_files == ("charts/web/values-prod-web.yaml",)
    assert source.parameters == (("ns", "web/$/x"),)
    env = build_environment(_app({}))
    assert env["ARGOCD_APP_PROJECT_NAME"] == "shop"
    assert env["ARGOCD_APP_SOURCE_PATH"] == "charts/web"
    assert envsubst("${ARGOCD_APP_NAME}-$ARGOCD_APP_NAME", env) == "prod-web-prod-web"


def test_value_file_paths_resolve_like_argo_cd() -> None:
    assert resolve_value_file("charts/web", "values.yaml") == (
        "charts/web/values.yaml",
        False,
        None,
    )
    assert resolve_value_file("charts/web", "/envs/a.yaml") == ("envs/a.yaml", False, None)
    assert resolve_value_file("charts/web", "../common.yaml") == ("charts/common.yaml", False, None)
    assert resolve_value_file("charts/web", "s3://b/k.yaml") == (None, True, None)


def test_which_applications_argo_cd_renders_with_helm(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    assert is_chart_source(tmp_path, _app({}))
    assert is_chart_source(tmp_path, _app({"helm": {"releaseName": "x"}}))
    assert not is_chart_source(tmp_path, _app({"kustomize": {}}))  # an explicit type wins
    assert not is_chart_source(tmp_path, _app({"helm": {}, "directory": {}}))  # Argo CD errors
    (chart / "kustomization.yaml").write_text("resources: []\n")
    assert not is_chart_source(tmp_path, _app({}))  # a kustomization wins over Chart.yaml
    assert is_chart_source(tmp_path, _app({"helm": {}}))


def test_a_chart_of_a_helm_repository_is_remote() -> None:
    app = _app({"chart": "redis", "targetRevision": "19.0.1", "repoURL": "oci://r.test/charts"})
    assert remote_chart(app) == "chart redis 19.0.1 from oci://r.test/charts"
    assert remote_chart(_app({})) is None
