"""What the API server rejects and the schemas cannot say (schema-api), and the controller
semantics behind pdb-blocks-drain, hpa-target-missing, resource-conflict and selectors."""

from __future__ import annotations

import pytest

from gitops.apivalidation import api_problems
from gitops.config import RepoConfig
from gitops.k8s.features import FeatureGates
from gitops.model import Resource, ResourceKey
from gitops.policy import controller_labels, selector_matches
from gitops.validate import run_validate
from tests.conftest import FIXTURES

PLANTED = FIXTURES / "validate-api-rules" / "planted.yaml"

GATES = FeatureGates.for_version("1.33")


def _messages(kind: str) -> list[str]:
    result = run_validate([str(PLANTED)], None, RepoConfig(kubernetes_version="1.33"), None)
    return [m for d in result.documents if d.kind == kind for m in d.messages]


def test_every_planted_deployment_defect_is_reported() -> None:
    pod = "spec.template.spec"
    web = f"{pod}.containers[0]"
    assert _messages("Deployment") == [
        "spec.replicas: 3000000000 is greater than the maximum of 2147483647",
        "metadata.name: 'Web_App' is not a DNS-1123 subdomain (lower-case letters, digits and '-')",
        "metadata.labels[\"-bad\"]: invalid label key: name part must be alphanumerics, '-', "
        "'_' or '.', starting and ending alphanumeric",
        "metadata.labels[\"tier\"]: label value 'front end' must be empty or alphanumerics, "
        "'-', '_' or '.', starting and ending alphanumeric",
        'spec.template.metadata.labels: {"app": "webb"} does not match spec.selector (the API '
        "server rejects it)",
        f"{pod}.restartPolicy: 'OnFailure' is not supported for a Deployment (only Always)",
        f"{pod}.dnsPolicy: 'ClusterFirstt' is not one of ClusterFirstWithHostNet, "
        "ClusterFirst, Default, None",
        f"{pod}.volumes[1].name: duplicate volume name 'tmp'",
        f"{web}.imagePullPolicy: 'always' is not one of Always, IfNotPresent, Never",
        f"{web}.ports[0].protocol: 'tcp' is not one of TCP, UDP, SCTP",
        f"{web}.ports[1].name: duplicate port name 'http'",
        f"{web}.ports[1].containerPort: 70000 is outside 1..65535",
        f"{web}.volumeMounts[0].name: volume 'cache' is not defined in the pod's volumes",
        f"{web}.livenessProbe: may not specify more than 1 handler type (httpGet, tcpSocket)",
        f"{web}.readinessProbe: must specify a handler type (one of exec, httpGet, tcpSocket, "
        "grpc)",
        f"{pod}.containers[1].name: duplicate container name 'web'",
    ]


def test_service_pdb_and_hpa_rules() -> None:
    assert _messages("Service") == [
        "metadata.name: '1web' is not a DNS-1035 label (lower-case letters, digits and '-', "
        "starting with a letter)",
        "spec.type: 'Clusterip' is not one of ClusterIP, NodePort, LoadBalancer, ExternalName",
        "spec.ports[0].name: required when a Service has more than one port",
        "spec.ports[1].name: required when a Service has more than one port",
        "spec.ports[1].targetPort: 'https-port-too-long' is longer than 15 characters (an IANA "
        "service name)",
    ]
    assert _messages("PodDisruptionBudget") == [
        "spec: minAvailable and maxUnavailable cannot be both set",
        "spec.minAvailable: '150%' must not be greater than 100%",
    ]
    assert _messages("HorizontalPodAutoscaler") == [
        "spec.behavior.scaleUp.policies[0].periodSeconds: required field missing",
        "spec.behavior.scaleDown.policies: must specify at least one policy (or leave policies "
        "out)",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "system:x"},
        },
        {"apiVersion": "example.test/v1", "kind": "Deployment", "metadata": {"name": "Not_Core"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a.b-c", "labels": {"x.io/y": ""}},
        },
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": "not a mapping"},
    ],
)
def test_valid_or_out_of_scope_objects_have_no_problems(body: dict[str, object]) -> None:
    assert api_problems(body, GATES) == []


def _workload(kind: str, name: str, replicas: int = 1) -> Resource:
    body = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}}
    body["spec"] = {"replicas": replicas}
    return Resource("dev", "s", ResourceKey("apps/v1", kind, "demo", name), body)


def test_controller_added_labels_match_the_pods_that_controller_creates() -> None:
    db = controller_labels(_workload("StatefulSet", "db", replicas=2))
    pod_name = {"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-1"}}
    assert selector_matches(pod_name, {"app": "db"}, db)
    assert not selector_matches(
        {"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-2"}}, {"app": "db"}, db
    )
    hash_selector = {"matchExpressions": [{"key": "pod-template-hash", "operator": "Exists"}]}
    assert selector_matches(hash_selector, {}, controller_labels(_workload("Deployment", "w")))
    assert not selector_matches(hash_selector, {}, controller_labels(_workload("DaemonSet", "d")))
    assert not selector_matches(pod_name, {"app": "db"})  # the template alone has no such label


def test_enumerated_fields_of_cronjobs_services_and_containers() -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "concurrencyPolicy": "Never",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Always",
                            "containers": [
                                {"name": "a", "image": "i", "terminationMessagePolicy": "file"}
                            ],
                        }
                    }
                }
            },
        },
    }
    pod = "spec.jobTemplate.spec.template.spec"
    assert api_problems(cronjob, GATES) == [
        f"{pod}.restartPolicy: 'Always' is not supported for a CronJob (OnFailure or Never)",
        f"{pod}.containers[0].terminationMessagePolicy: 'file' is not one of File, "
        "FallbackToLogsOnError",
        "spec.concurrencyPolicy: 'Never' is not one of Allow, Forbid, Replace",
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"externalTrafficPolicy": "local", "sessionAffinity": "None"},
    }
    assert api_problems(service, GATES) == [
        "spec.externalTrafficPolicy: 'local' is not one of Cluster, Local"
    ]
