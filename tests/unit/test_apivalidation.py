"""``gitops.apivalidation``: what the API server's hand-written validation rejects and the
OpenAPI schemas cannot say, one ``<field path>: <problem>`` per problem (the fixture-based
cases of ``schema-api`` are in test_api_rules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.apivalidation import api_problems, qualified_name_problem
from gitops.k8s.features import FeatureGates

GATES = FeatureGates.for_version("1.33")


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
    assert api_problems(_deployment(), GATES) == [
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
    assert api_problems(pdb, GATES) == [
        "spec: minAvailable and maxUnavailable cannot be both set",
        "spec.maxUnavailable: '150%' must not be greater than 100%",
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1svc"},
        "spec": {"type": "Cluster", "ports": [{"port": 80}]},
    }
    assert api_problems(service, GATES) == [
        "metadata.name: '1svc' is not a DNS-1035 label (lower-case letters, digits and '-', "
        "starting with a letter)",
        "spec.type: 'Cluster' is not one of ClusterIP, NodePort, LoadBalancer, ExternalName",
    ]


def test_schema_invalid_or_unknown_documents_are_left_to_the_schema() -> None:
    # A spec of the wrong type is the schema's finding: no crash and no second message here.
    garbage = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}}
    assert api_problems({**garbage, "spec": "garbage"}, GATES) == []
    # A custom resource's name rules are its CRD's business.
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "Any_Name"}}
    assert api_problems(widget, GATES) == []


def test_qualified_names_allow_one_dns_prefix() -> None:
    assert qualified_name_problem("example.com/app") is None
    assert qualified_name_problem("-bad") == (
        "name part must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    )
    assert qualified_name_problem("a/b/c") == "prefix 'a/b' is not a DNS-1123 subdomain"


def _at(version: str, **overrides: bool) -> FeatureGates:
    return FeatureGates.for_version(version, overrides)


def _service(name: str, target_port: object) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80, "targetPort": target_port}]},
    }


def _pod(
    containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": containers, "initContainers": init or []},
    }


RELAXED_NAMES = {"RelaxedServiceNameValidation": True}


def test_a_service_name_starting_with_a_digit_is_valid_from_1_36() -> None:
    # Issue 19's false reject: RelaxedServiceNameValidation is beta and on from 1.36.
    assert api_problems(_service("1healthz", "http"), _at("1.36")) == []
    assert api_problems(_service("1healthz", "http"), _at("1.35")) == [
        "metadata.name: '1healthz' is not a DNS-1035 label (lower-case letters, digits and "
        "'-', starting with a letter)"
    ]
    # A cluster with the gate on before 1.36, as gitops.yaml featureGates says.
    assert api_problems(_service("1healthz", "http"), _at("1.35", **RELAXED_NAMES)) == []
    assert api_problems(_service("Healthz", "http"), _at("1.36")) == [
        "metadata.name: 'Healthz' is not a DNS-1123 label (lower-case letters, digits and '-')"
    ]


@pytest.mark.parametrize("target", [0, ""])
def test_a_target_port_the_api_defaults_to_port_is_valid(target: object) -> None:
    assert api_problems(_service("web", target), _at("1.33")) == []
    assert api_problems(_service("web", 70000), _at("1.33")) == [
        "spec.ports[0].targetPort: 70000 is outside 1..65535"
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (
            "1.33",
            [
                "spec.initContainers[0].restartPolicy: 'OnFailure' is not supported (only "
                "Always before 1.34; OnFailure and Never need ContainerRestartRules, on by "
                "default from 1.35)",
                "spec.containers[0].restartPolicy: may not be set for non-init containers",
            ],
        ),
        ("1.34", []),  # the gate exists and is off: both values are dropped, then admitted
        ("1.35", []),
        ("1.36", []),
    ],
)
def test_container_restart_policies_follow_the_version(version: str, expected: list[str]) -> None:
    pod = _pod(
        [{"name": "app", "image": "i", "restartPolicy": "Never"}],
        init=[{"name": "migrate", "image": "i", "restartPolicy": "OnFailure"}],
    )
    assert api_problems(pod, _at(version)) == expected


def test_restart_policy_rules_are_checked_where_the_gate_is_on() -> None:
    rules = [{"action": "Reboot", "exitCodes": {"operator": "Is", "values": [1]}}, {}]
    pod = _pod(
        [{"name": "app", "image": "i", "restartPolicy": "Sometimes", "restartPolicyRules": rules}],
        init=[
            {
                "name": "side",
                "image": "i",
                "restartPolicy": "Always",
                "restartPolicyRules": [{"action": "Restart"}],
            }
        ],
    )
    assert api_problems(pod, _at("1.35")) == [
        "spec.initContainers[0].restartPolicyRules: restartPolicyRules are not allowed for "
        "init containers with restart policy Always",
        "spec.containers[0].restartPolicy: 'Sometimes' is not one of Always, OnFailure, Never",
        "spec.containers[0].restartPolicyRules[0].action: 'Reboot' is not one of Restart",
        "spec.containers[0].restartPolicyRules[0].exitCodes.operator: 'Is' is not one of In, NotIn",
        "spec.containers[0].restartPolicyRules[1].exitCodes: must be specified",
    ]
    # 1.36: RestartAllContainersOnContainerExits (beta) allows rules on a sidecar.
    assert api_problems(pod, _at("1.36"))[0] == (
        "spec.initContainers[0].restartPolicyRules[0].exitCodes: must be specified"
    )


def test_env_names_follow_the_relaxed_validation_gate() -> None:
    pod = _pod([{"name": "app", "image": "i", "env": [{"name": "1ST RUN", "value": "x"}]}])
    assert api_problems(pod, _at("1.32")) == []
    assert api_problems(pod, _at("1.31")) == [
        "spec.containers[0].env[0].name: '1ST RUN' is not a valid environment variable name "
        "(letters, digits, '_', '-' or '.', not starting with a digit; any printable ASCII but "
        "'=' with RelaxedEnvironmentVariableValidation, on by default from 1.32)"
    ]
    equals = _pod([{"name": "app", "image": "i", "env": [{"name": "A=B", "value": "x"}]}])
    assert api_problems(equals, _at("1.36")) == [
        "spec.containers[0].env[0].name: 'A=B' must consist only of printable ASCII characters "
        "other than '='"
    ]


def _hpa(**spec: object) -> dict[str, Any]:
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": ref, **spec},
    }


RESOURCE_METRIC = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
}
EXTERNAL_METRIC = {
    "type": "External",
    "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "1"}},
}


def test_hpa_replica_bounds_as_the_api_server_checks_them() -> None:
    # Issue 21: validate accepted both of these while check's hpa-bounds rejected them.
    assert api_problems(_hpa(minReplicas=5, maxReplicas=2), _at("1.36")) == [
        "spec.maxReplicas: 2 must be greater than or equal to minReplicas 5"
    ]
    assert api_problems(
        _hpa(minReplicas=0, maxReplicas=3, metrics=[RESOURCE_METRIC]), _at("1.36")
    ) == [
        "spec.minReplicas: 0 must be greater than or equal to 1 (0 only with the HPAScaleToZero "
        "feature gate, alpha)",
        "spec.metrics: minReplicas 0 needs at least one Object or External metric (scaling to "
        "zero)",
    ]
    assert api_problems(_hpa(maxReplicas=0), _at("1.36")) == [
        "spec.maxReplicas: 0 must be greater than or equal to 1"
    ]
    assert api_problems(_hpa(minReplicas=2, maxReplicas=2), _at("1.36")) == []


def test_scale_to_zero_needs_the_gate_and_an_object_or_external_metric() -> None:
    to_zero = _hpa(minReplicas=0, maxReplicas=3, metrics=[EXTERNAL_METRIC])
    gate_on = _at("1.36", HPAScaleToZero=True)
    assert api_problems(to_zero, gate_on) == []
    assert api_problems(to_zero, _at("1.36")) == [
        "spec.minReplicas: 0 must be greater than or equal to 1 (0 only with the HPAScaleToZero "
        "feature gate, alpha)"
    ]
    resource_only = _hpa(minReplicas=0, maxReplicas=3, metrics=[RESOURCE_METRIC])
    assert api_problems(resource_only, gate_on) == [
        "spec.metrics: minReplicas 0 needs at least one Object or External metric (scaling to zero)"
    ]


def test_hpa_behavior_ranges_and_metric_types() -> None:
    behavior = {
        "scaleUp": {"stabilizationWindowSeconds": 3601, "selectPolicy": "Most", "policies": []},
        "scaleDown": {"policies": [{"type": "Pod", "value": 0, "periodSeconds": 1801}]},
    }
    hpa = _hpa(maxReplicas=3, metrics=[{"type": "Memory"}], behavior=behavior)
    assert api_problems(hpa, _at("1.36")) == [
        "spec.metrics[0].type: 'Memory' is not one of ContainerResource, External, Object, "
        "Pods, Resource",
        "spec.behavior.scaleUp.stabilizationWindowSeconds: 3601 is outside 0..3600",
        "spec.behavior.scaleUp.selectPolicy: 'Most' is not one of Max, Min, Disabled",
        "spec.behavior.scaleUp.policies: must specify at least one policy (or leave policies out)",
        "spec.behavior.scaleDown.policies[0].type: 'Pod' is not one of Pods, Percent",
        "spec.behavior.scaleDown.policies[0].value: 0 must be greater than 0",
        "spec.behavior.scaleDown.policies[0].periodSeconds: 1801 is outside 1..1800",
    ]


def test_counts_the_api_server_keeps_non_negative() -> None:
    deployment = _deployment()
    deployment["metadata"] = {"name": "web"}
    deployment["spec"]["template"] = {
        "metadata": {"labels": {"app": "w"}},
        "spec": {"containers": [{"name": "web", "image": "i"}]},
    }
    deployment["spec"].update(
        replicas=-5, minReadySeconds=10, progressDeadlineSeconds=10, revisionHistoryLimit=-1
    )
    deployment["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}
    assert api_problems(deployment, _at("1.36")) == [
        "spec.replicas: -5 must be greater than or equal to 0",
        "spec.revisionHistoryLimit: -1 must be greater than or equal to 0",
        "spec.progressDeadlineSeconds: 10 must be greater than minReadySeconds (10)",
        "spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0",
    ]
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"failedJobsHistoryLimit": -1, "jobTemplate": {"spec": {"backoffLimit": -2}}},
    }
    assert api_problems(cronjob, _at("1.36")) == [
        "spec.failedJobsHistoryLimit: -1 must be greater than or equal to 0",
        "spec.jobTemplate.spec.backoffLimit: -2 must be greater than or equal to 0",
    ]


def test_env_value_and_value_from_together_are_rejected() -> None:
    env = [
        {"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "B", "valueFrom": {}},
        {"name": "C", "valueFrom": {"fieldRef": {}, "secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "D", "value": "", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
    ]
    assert api_problems(_pod([{"name": "app", "image": "i", "env": env}]), _at("1.36")) == [
        "spec.containers[0].env[0].valueFrom: may not be specified when value is not empty",
        "spec.containers[0].env[1].valueFrom: must specify one of fieldRef, resourceFieldRef, "
        "configMapKeyRef, secretKeyRef, fileKeyRef",
        "spec.containers[0].env[2].valueFrom: may not have more than one source (fieldRef, "
        "secretKeyRef)",
    ]


def test_probes_and_lifecycle_as_the_api_server_checks_them() -> None:
    probe = {"httpGet": {"port": 8080}, "successThreshold": 2, "periodSeconds": -1}
    container = {"name": "app", "image": "i", "livenessProbe": probe}
    container["readinessProbe"] = {
        "exec": {"command": ["true"]},
        "terminationGracePeriodSeconds": 5,
    }
    init = [{"name": "wait", "image": "i", "startupProbe": probe, "lifecycle": {}}]
    assert api_problems(_pod([container], init=init), _at("1.36")) == [
        "spec.initContainers[0].lifecycle: may not be set for init containers without "
        "restartPolicy Always",
        "spec.initContainers[0].startupProbe: may not be set for init containers without "
        "restartPolicy Always",
        "spec.containers[0].livenessProbe.periodSeconds: -1 must be greater than or equal to 0",
        "spec.containers[0].livenessProbe.successThreshold: 2 must be 1",
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: must not be set for "
        "readinessProbes",
    ]


def _mounting(kind: str, mounts: list[str], volumes: list[str]) -> dict[str, Any]:
    container = {
        "name": "db",
        "image": "i",
        "volumeMounts": [{"name": name, "mountPath": f"/{name}"} for name in mounts],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "db"},
        "spec": {
            "selector": {"matchLabels": {"app": "db"}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": name, "emptyDir": {}} for name in volumes],
                },
            },
        },
    }


def test_a_statefulset_may_mount_its_volume_claim_templates() -> None:
    # Issue 22: the API server adds one volume per claim template before validating the pod
    # template (replacing a pod volume of the same name), so mounting "data" is the normal
    # StatefulSet pattern, not an unknown volume.
    assert api_problems(_mounting("StatefulSet", ["data"], []), _at("1.36")) == []
    assert api_problems(_mounting("StatefulSet", ["data", "logs"], ["data"]), _at("1.36")) == [
        "spec.template.spec.containers[0].volumeMounts[1].name: volume 'logs' is not defined "
        "in the pod's volumes"
    ]
    # Only a StatefulSet's claim templates become volumes.
    assert api_problems(_mounting("Deployment", ["data"], []), _at("1.36")) == [
        "spec.template.spec.containers[0].volumeMounts[0].name: volume 'data' is not defined "
        "in the pod's volumes"
    ]


def test_every_container_needs_an_image_although_the_schema_makes_it_optional() -> None:
    pod = _pod([{"name": "app"}, {"name": "b", "image": ""}], init=[{"name": "i", "image": "x"}])
    assert api_problems(pod, _at("1.36")) == [
        "spec.containers[0].image: required (every container needs an image)",
        "spec.containers[1].image: required (every container needs an image)",
    ]
