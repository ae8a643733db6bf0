"""``gitops.helm.capabilities``: the API versions a chart sees, as Argo CD passes them."""

from __future__ import annotations

from pathlib import Path

from gitops.config import RepoConfig
from gitops.helm.capabilities import api_versions, repo_crds

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.test",
        "names": {"kind": "Widget"},
        "versions": [{"name": "v1", "served": True}, {"name": "v1beta1", "served": False}],
    },
}


def test_built_in_ga_kinds_with_their_group_versions_sorted() -> None:
    versions = api_versions("1.36")
    assert list(versions) == sorted(versions)
    for expected in ("v1", "v1/Service", "apps/v1", "apps/v1/Deployment", "policy/v1"):
        assert expected in versions
    assert "autoscaling/v2/HorizontalPodAutoscaler" in versions
    # Off by default in kube-apiserver, or no resource of their own:
    assert not any("alpha" in v or "beta" in v for v in versions)
    assert "v1/PodList" not in versions and "autoscaling/v1/Scale" not in versions
    assert "policy/v1/Eviction" not in versions


def test_served_crd_versions_are_added() -> None:
    versions = api_versions("1.36", [CRD])
    assert {"example.test/v1", "example.test/v1/Widget"} <= set(versions)
    assert "example.test/v1beta1" not in versions


def test_the_repositorys_crds_and_gitops_bundled_ones(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "widget.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "spec:\n  group: example.test\n  names: {kind: Widget}\n  versions:\n"
        "    - name: v1\n      served: true\n      schema: {openAPIV3Schema: {type: object}}\n"
    )
    groups = {crd["spec"]["group"] for crd in repo_crds(tmp_path, RepoConfig())}
    assert {"example.test", "monitoring.coreos.com", "argoproj.io"} <= groups
