"""gitops.schema.validator: choosing a schema per object (built-in, bundled or repository CRDs,
skipped kinds) and compiling it once per kind."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.schema.settings import SchemaError
from gitops.schema.validator import SchemaValidator, identity_problems
from tests.conftest import FIXTURES
from tests.fixturelib import fixture_bodies


def deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            },
        },
    }
    body["spec"].update(copy.deepcopy(spec))
    return body


def test_identity_problems_of_a_generate_name_object() -> None:
    assert (
        identity_problems({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"}})
        == []
    )
    assert identity_problems({"apiVersion": "", "kind": "Pod", "metadata": []}) == [
        "apiVersion: required, expected a non-empty string",
        "metadata: required, expected a mapping with a name",
    ]


def test_a_crd_found_in_the_input_is_used_for_its_resources(validator: SchemaValidator) -> None:
    local = SchemaValidator("1.33", cache_dir=None)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.org",
            "names": {"kind": "Thing"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {}}},
                }
            ],
        },
    }
    thing = {"apiVersion": "example.org/v1", "kind": "Thing", "metadata": {"name": "t"}}
    assert local.validate(thing)[0].startswith("no schema for example.org/v1/Thing")
    assert local.add_crd_object(crd, "setup/crd.yaml:1") == []
    assert local.validate(thing) == []
    assert local.validate({**thing, "extra": 1}) == ["extra: unknown field"]
    assert local.add_crd_object({"spec": {}}, "bad.yaml:1") == [
        "bad.yaml:1: CRD needs spec.group, spec.names.kind and spec.versions"
    ]


def test_identity_is_required(validator: SchemaValidator) -> None:
    assert validator.validate({"kind": "ConfigMap", "metadata": {"labels": {}}}) == [
        "apiVersion: required, expected a non-empty string",
        "metadata.name: required, expected a non-empty string",
    ]


def test_unknown_kind_is_an_error(validator: SchemaValidator) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    (message,) = validator.validate(body)
    assert message.startswith("no schema for example.com/v1/Gizmo (Kubernetes 1.33)")


def test_skip_kinds_escape_hatch() -> None:
    validator = SchemaValidator("1.33", skip_kinds=["example.com/v1/Gizmo"], cache_dir=None)
    body = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    assert validator.validate(body) == []
    assert validator.validate({**body, "metadata": {}}) == [
        "metadata.name: required, expected a non-empty string"
    ]


def test_user_crd_validates_matching_resources() -> None:
    repo = FIXTURES / "validate-custom-crd"
    validator = SchemaValidator.for_repo(
        repo, RepoConfig(schemas={"crdDirs": ["crds"]}), cache_dir=None
    )
    assert "example.com/v1/Widget" in validator.kinds_with_crd()
    assert "example.com/v0/Widget" not in validator.kinds_with_crd()  # not served
    bodies = fixture_bodies("validate-custom-crd", "rendered/widgets.yaml")
    assert validator.validate(bodies["good"]) == []
    assert validator.validate(bodies["bad"]) == [
        "metadata.labels.tier: expected string, got integer 1",
        "spec.color: 'green' is not one of 'red', 'blue'",
        "spec.port: expected integer or string, got number 1.5",
        "spec.shape: unknown field",
        "spec.size: 0 is less than the minimum of 1",
    ]


def test_default_crd_dir_is_optional_but_a_named_one_must_exist(tmp_path: Path) -> None:
    assert SchemaValidator.for_repo(tmp_path, RepoConfig(), cache_dir=None).kinds_with_crd()
    with pytest.raises(ConfigError, match=r"schemas.crdDirs: missing/ is not a folder"):
        SchemaValidator.for_repo(tmp_path, RepoConfig(schemas={"crdDirs": ["missing"]}))


def test_non_crd_in_crd_dir_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    )
    with pytest.raises(SchemaError, match=r"crds/cm.yaml:1: expected an apiextensions.k8s.io/v1"):
        SchemaValidator.for_repo(tmp_path, RepoConfig(), cache_dir=None)


def test_compiled_validators_are_reused_from_the_disk_cache(tmp_path: Path) -> None:
    first = SchemaValidator("1.33", cache_dir=tmp_path)
    assert first.validate(deployment(replicas="x")) != []
    cached = sorted(tmp_path.glob("*.bin"))
    assert len(cached) == 1
    cached[0].write_bytes(cached[0].read_bytes()[:100])  # a torn file from a crashed writer
    second = SchemaValidator("1.33", cache_dir=tmp_path)
    assert second.validate(deployment(replicas="x")) == first.validate(deployment(replicas="x"))
    assert second.validate(deployment()) == []
    assert len(cached[0].read_bytes()) > 100  # rebuilt and republished whole
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("api_version", "kind", "served"),
    [
        ("apps/v1beta3", "Deployment", "apps/v1"),
        ("autoscaling/v3", "HorizontalPodAutoscaler", "autoscaling/v1, autoscaling/v2"),
        ("v2", "Pod", "v1"),
    ],
)
def test_a_built_in_kind_at_an_unserved_version_names_the_served_ones(
    validator: SchemaValidator, api_version: str, kind: str, served: str
) -> None:
    """No CRD advice for a built-in kind: the message names the versions this release serves."""
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    assert validator.validate(body) == [
        f"{api_version} {kind} is not served by Kubernetes {validator.kubernetes_version}, "
        f"which serves {kind} as {served}"
    ]


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        (
            "extensions/v1beta1",
            "Deployment",
            "removed in Kubernetes 1.16 (target 1.33): use apps/v1",
        ),
        (
            "extensions/v1beta1",
            "Ingress",
            "removed in Kubernetes 1.22 (target 1.33): use networking.k8s.io/v1",
        ),
        (
            "policy/v1beta1",
            "PodSecurityPolicy",
            "removed in Kubernetes 1.25 (target 1.33): use Pod Security Admission "
            "(pod-security.kubernetes.io/* namespace labels)",
        ),
        (
            "extensions/v1beta1",
            "PodSecurityPolicy",
            "removed in Kubernetes 1.16 (target 1.33): use Pod Security Admission "
            "(pod-security.kubernetes.io/* namespace labels)",
        ),
        (
            "policy/v1beta1",
            "PodDisruptionBudget",
            "removed in Kubernetes 1.25 (target 1.33): use policy/v1 (note: an empty selector "
            "now matches every pod)",
        ),
        (
            "autoscaling/v2beta2",
            "HorizontalPodAutoscaler",
            "removed in Kubernetes 1.26 (target 1.33): use autoscaling/v2",
        ),
    ],
)
def test_a_removed_built_in_api_gets_its_removal_and_replacement_not_crd_advice(
    validator: SchemaValidator, api_version: str, kind: str, message: str
) -> None:
    """Issue 22: extensions/v1beta1 and policy/v1beta1 PodSecurityPolicy were told to add a CRD."""
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    assert validator.validate(body) == [f"{api_version} {kind} was {message}"]


def test_same_first_group_label_is_not_a_built_in_kind(validator: SchemaValidator) -> None:
    """networking.example.com/v1 Ingress shares the schema file prefix of networking.k8s.io
    but is a different group: the CRD advice stands."""
    body = {"apiVersion": "networking.example.com/v1", "kind": "Ingress", "metadata": {"name": "x"}}
    (problem,) = validator.validate(body)
    assert problem.startswith("no schema for networking.example.com/v1/Ingress")
    assert "schemas.crdDirs" in problem


def test_bundled_crds_are_read_when_a_custom_resource_needs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run the upstream validator judges never parses our CRD files here (it reads them
    itself): they are read the first time a custom resource is compiled, and the repository's
    CRDs still replace a bundled one of the same kind."""
    from gitops.schema import crds
    from gitops.schema import validator as module

    reads: list[str] = []

    def read_crd_file(path: Path, root: Path | None) -> list[crds.CrdVersion]:
        reads.append(path.name)
        return crds.read_crd_file(path, root)

    monkeypatch.setattr(module, "read_crd_file", read_crd_file)
    repo = FIXTURES / "validate-custom-crd"
    validator = SchemaValidator.for_repo(
        repo, RepoConfig(schemas={"crdDirs": ["crds"]}), cache_dir=None
    )
    assert validator.is_builtin("apps/v1", "Deployment")
    assert validator.validate(deployment()) == []
    sources = validator.crd_documents()
    bundled = [s for s in sources if isinstance(s, Path)]
    assert bundled == sorted(crds.BUNDLED_SCHEMAS.glob("*.yaml"))
    assert sources[: len(bundled)] == bundled  # ours first: the repository's replace them
    assert [s["spec"]["names"]["kind"] for s in sources if not isinstance(s, Path)] == ["Widget"]
    assert all(not name.startswith(("argoproj", "monitoring")) for name in reads)

    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "colour": "red"}]},
    }
    assert validator.validate(monitor) == ["spec.endpoints[0].colour: unknown field"]
    assert "monitoring.coreos.com_servicemonitors.yaml" in reads


def test_no_bundled_crd_defines_a_built_in_kind() -> None:
    """is_builtin leaves the bundled CRDs unread: it may, because none of their kinds has a
    built-in schema at any version we ship."""
    from gitops.schema.builtin import available_kubernetes_versions
    from gitops.schema.crds import BUNDLED_SCHEMAS, read_crd_file

    kinds = [
        crd.kind_id
        for path in sorted(BUNDLED_SCHEMAS.glob("*.yaml"))
        for crd in read_crd_file(path, None)
    ]
    assert kinds
    for version in available_kubernetes_versions():
        validator = SchemaValidator(version, use_bundled_crds=False, cache_dir=None)
        for kind_id in kinds:
            api_version, _, kind = kind_id.rpartition("/")
            assert not validator.is_builtin(api_version, kind), (version, kind_id)
