"""Schema validation against the real kubernetes-validate schemas and our CRDs (no mocks)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from gitops.schema import (
    SchemaValidator,
    builtin_schema_file,
)
from gitops.yamlio import load_documents
from tests.conftest import FIXTURES
from tests.fixturelib import fixture_bodies

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


def test_group_with_same_first_label_does_not_borrow_a_builtin_schema(
    validator: SchemaValidator,
) -> None:
    # deployment-apps-v1.json is named by the first label of the group only.
    assert builtin_schema_file("apps.example.com/v1", "Deployment") == "deployment-apps-v1.json"
    body = {**deployment(), "apiVersion": "apps.example.com/v1"}
    assert validator.validate(body)[0].startswith("no schema for apps.example.com/v1/Deployment")


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
