"""Schema validation against the real kubernetes-validate schemas and our CRDs (no mocks)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.schema import (
    BUNDLED_SCHEMAS,
    SchemaError,
    SchemaValidator,
    builtin_schema_file,
    parse_schema_settings,
)
from gitops.yamlio import load_documents
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> SchemaValidator:
    return SchemaValidator("1.33", cache_dir=tmp_path_factory.mktemp("schema-cache"))


def fixture_bodies(scenario: str, name: str) -> dict[str, dict[str, Any]]:
    """Documents of a fixture file by metadata.name."""
    path = FIXTURES / scenario / name
    return {d.body["metadata"]["name"]: d.body for d in load_documents(path.read_text(), name)}


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
        },
    },
}


def deployment(**spec: Any) -> dict[str, Any]:
    body = copy.deepcopy(DEPLOYMENT)
    body["spec"].update(spec)
    return body


def test_valid_deployment_passes(validator: SchemaValidator) -> None:
    assert validator.validate(deployment(replicas=3)) == []


def test_unknown_field_is_reported_with_its_path(validator: SchemaValidator) -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["imagePullpolicy"] = "Always"
    assert validator.validate(body) == [
        "spec.template.spec.containers[0].imagePullpolicy: unknown field"
    ]


def test_wrong_type(validator: SchemaValidator) -> None:
    assert validator.validate(deployment(replicas="3")) == [
        "spec.replicas: expected integer, got string '3'"
    ]


def test_every_error_of_a_document_is_reported(validator: SchemaValidator) -> None:
    body = fixture_bodies("validate-invalid-deployment", "web.yaml")["web"]
    assert validator.validate(body) == [
        "spec.replicas: expected integer, got string '2'",
        "spec.template.spec.containers[0].livenessprobe: unknown field",
        "spec.template.spec.containers[0].resources.limits.cpu: "
        "'abc' does not match the quantity format (100m, 0.5, 2Gi)",
        "spec.template.spec.containers[1].name: required field missing",
    ]


def test_validation_does_not_modify_the_document(validator: SchemaValidator) -> None:
    body = deployment(replicas="x")
    before = copy.deepcopy(body)
    validator.validate(body)
    assert body == before  # the policy checker reuses the same dicts


def test_int_or_string_ports_and_quantities_are_accepted(validator: SchemaValidator) -> None:
    path = FIXTURES / "validate-valid-workloads" / "manifests" / "web.yaml"
    documents = load_documents(path.read_text(), "web.yaml")
    assert len(documents) == 5
    assert [validator.validate(d.body) for d in documents] == [[]] * 5


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("100m", True),
        (1, True),
        (0.5, True),
        ("1.5Gi", True),
        ("1e3", True),
        ("2Ki", True),
        ("abc", False),
        ("1.5 Gi", False),
        ("10mb", False),
        ("-", False),
    ],
)
def test_quantity_grammar(validator: SchemaValidator, value: object, ok: bool) -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": value}}
    assert (validator.validate(body) == []) is ok


def test_identity_is_required(validator: SchemaValidator) -> None:
    assert validator.validate({"kind": "ConfigMap", "metadata": {"labels": {}}}) == [
        "apiVersion: required, expected a non-empty string",
        "metadata.name: required, expected a non-empty string",
    ]


def test_unknown_kind_is_an_error(validator: SchemaValidator) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    (message,) = validator.validate(body)
    assert message.startswith("no schema for example.com/v1/Gizmo (Kubernetes 1.33)")


def test_group_with_same_first_label_does_not_borrow_a_builtin_schema(
    validator: SchemaValidator,
) -> None:
    # deployment-apps-v1.json is named by the first label of the group only.
    assert builtin_schema_file("apps.example.com/v1", "Deployment") == "deployment-apps-v1.json"
    body = {**deployment(), "apiVersion": "apps.example.com/v1"}
    assert validator.validate(body)[0].startswith("no schema for apps.example.com/v1/Deployment")


def test_skip_kinds_escape_hatch() -> None:
    validator = SchemaValidator("1.33", skip_kinds=["example.com/v1/Gizmo"], cache_dir=None)
    body = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    assert validator.validate(body) == []
    assert validator.validate({**body, "metadata": {}}) == [
        "metadata.name: required, expected a non-empty string"
    ]


def test_unknown_kubernetes_version_names_the_available_ones() -> None:
    with pytest.raises(SchemaError) as caught:
        SchemaValidator("1.99")
    message = str(caught.value)
    assert message.startswith("no schemas for Kubernetes 1.99 in kubernetes-validate ")
    assert "available: " in message and "1.33" in message


def test_servicemonitor_valid_and_invalid(validator: SchemaValidator) -> None:
    bodies = fixture_bodies("validate-servicemonitor", "servicemonitors.yaml")
    assert validator.validate(bodies["good"]) == []
    messages = validator.validate(bodies["bad"])
    assert [m.split(":")[0] for m in messages] == [
        "spec.endpoints[0].honorLabels",
        "spec.endpoints[0].interval",
        "spec.endpoints[0].relabelings[0].action",
        "spec.sampleLimit",
    ]


def test_argocd_kinds_valid(validator: SchemaValidator) -> None:
    path = FIXTURES / "validate-argocd" / "valid.yaml"
    documents = load_documents(path.read_text(), "valid.yaml")
    assert [d.body["kind"] for d in documents] == ["Application", "ApplicationSet", "AppProject"]
    assert [validator.validate(d.body) for d in documents] == [[], [], []]


def test_argocd_kinds_invalid(validator: SchemaValidator) -> None:
    path = FIXTURES / "validate-argocd" / "invalid.yaml"
    documents = load_documents(path.read_text(), "invalid.yaml")
    application, application_set, project = (validator.validate(d.body) for d in documents)
    assert application == [
        "spec.project: required field missing",
        "spec.source.targetRevison: unknown field",
        "spec.syncPolicy.automated.prune: expected boolean, got string 'true'",
    ]
    assert application_set == [
        "spec.generators[0].gitt: unknown field",
        "spec.template.spec.syncPolicy.automated.selfHeal: "
        "expected boolean, got string '{{.selfHeal}}'",
    ]
    assert project == [
        "spec.namespaceResourceWhitelist[0].group: required field missing",
        "spec.sourceRepos: expected array, got string "
        "'https://github.com/example-org/integration-gitops.git'",
        "spec.syncWindows[0].kind: 'maybe' is not one of 'allow', 'deny'",
    ]


def test_real_repository_argocd_manifests_validate(validator: SchemaValidator) -> None:
    repo = Path(__file__).resolve().parents[2]
    documents = [
        d
        for path in sorted((repo / "argocd").glob("*.yaml"))
        for d in load_documents(path.read_text(), path.name)
        if d.body.get("kind") != "Kustomization"
    ]
    assert documents, "argocd/ holds the repo's Applications"
    assert {d.source: validator.validate(d.body) for d in documents} == {
        d.source: [] for d in documents
    }


def test_applicationset_template_spec_is_the_application_spec() -> None:
    # The two bundled CRDs repeat the Application spec; drift would validate them differently.
    def schema(name: str) -> dict[str, Any]:
        crd = yaml.safe_load((BUNDLED_SCHEMAS / name).read_text())
        root: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        return root

    application = schema("argoproj.io_applications.yaml")["properties"]["spec"]
    template = schema("argoproj.io_applicationsets.yaml")["properties"]["spec"]["properties"]
    assert template["template"]["properties"]["spec"] == application


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


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"crdDir": ["crds"]}, "unknown key(s) crdDir"),
        ({"crdDirs": "crds"}, "crdDirs must be a list of repo-relative folders"),
        ({"crdDirs": ["/abs"]}, "crdDirs must be a list of repo-relative folders"),
        ({"skipKinds": "example.com/v1/Widget"}, "skipKinds must be a list"),
        ({"skipKinds": ["Widget"]}, "'Widget' is not <apiVersion>/<Kind>"),
    ],
)
def test_malformed_schemas_section_is_a_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schema_settings(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


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
