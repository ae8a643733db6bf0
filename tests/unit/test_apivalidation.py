"""``gitops.apivalidation``: what the API server's hand-written validation rejects and the
OpenAPI schemas cannot say, one ``<field path>: <problem>`` per problem (the fixture-based
cases of ``schema-api`` are in test_api_rules.py)."""

from __future__ import annotations

from typing import Any

from gitops.apivalidation import api_problems, qualified_name_problem


def _deployment() -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "i",
        "imagePullPolicy": "Sometimes",
        "ports": [{"containerPort": 70000, "name": "http"}, {"containerPort": 80, "name": "http"}],
        "volumeMounts": [{"name": "data", "mountPath": "/d"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "Web_1", "labels": {"app": "x" * 64}},
        "spec": {
            "selector": {"matchLabels": {"app": "w"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [container, {"name": "web", "image": "i"}]},
            },
        },
    }


def test_every_defect_of_a_deployment_is_one_line_with_its_field_path() -> None:
    pod = "spec.template.spec.containers"
    assert api_problems(_deployment()) == [
        "metadata.name: 'Web_1' is not a DNS-1123 subdomain (lower-case letters, digits and '-')",
        'metadata.labels["app"]: label value is longer than 63 characters',
        'spec.template.metadata.labels: {"app": "x"} does not match spec.selector (the API '
        "server rejects it)",
        f"{pod}[0].imagePullPolicy: 'Sometimes' is not one of Always, IfNotPresent, Never",
        f"{pod}[0].ports[0].containerPort: 70000 is outside 1..65535",
        f"{pod}[0].ports[1].name: duplicate port name 'http'",
        f"{pod}[0].volumeMounts[0].name: volume 'data' is not defined in the pod's volumes",
        f"{pod}[1].name: duplicate container name 'web'",
    ]


def test_pdb_and_service_rules() -> None:
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "p"},
        "spec": {"minAvailable": 1, "maxUnavailable": "150%", "selector": {}},
    }
    assert api_problems(pdb) == [
        "spec: minAvailable and maxUnavailable cannot be both set",
        "spec.maxUnavailable: '150%' must not be greater than 100%",
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1svc"},
        "spec": {"type": "Cluster", "ports": [{"port": 80}]},
    }
    assert api_problems(service) == [
        "metadata.name: '1svc' is not a DNS-1035 label (lower-case letters, digits and '-')",
        "spec.type: 'Cluster' is not one of ClusterIP, NodePort, LoadBalancer, ExternalName",
    ]


def test_schema_invalid_or_unknown_documents_are_left_to_the_schema() -> None:
    # A spec of the wrong type is the schema's finding: no crash and no second message here.
    garbage = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}}
    assert api_problems({**garbage, "spec": "garbage"}) == []
    # A custom resource's name rules are its CRD's business.
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "Any_Name"}}
    assert api_problems(widget) == []


def test_qualified_names_allow_one_dns_prefix() -> None:
    assert qualified_name_problem("example.com/app") is None
    assert qualified_name_problem("-bad") == (
        "name part must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    )
    assert qualified_name_problem("a/b/c") == "prefix 'a/b' is not a DNS-1123 subdomain"
