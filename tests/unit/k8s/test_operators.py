"""``gitops.k8s.operators``: what the Prometheus Operator creates from rendered objects, as its
source (v0.93.0) builds it: StatefulSets with the selector labels, governing Services, the
kubelet Service of --kubelet-service."""

from __future__ import annotations

from typing import Any

from gitops.k8s.operators import made_by, operator_objects
from gitops.k8s.workload import running_containers, template_labels
from tests.unit.k8s.objects import res


def _custom(kind: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "monitoring"},
        "spec": spec,
    }


def _operator(*args: str) -> dict[str, Any]:
    container = {"name": "op", "image": "quay.io/prometheus-operator/prometheus-operator:v0.93.0"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "prometheus-operator", "namespace": "monitoring"},
        "spec": {"template": {"spec": {"containers": [{**container, "args": list(args)}]}}},
    }


def _ports(doc: dict[str, Any]) -> list[tuple[str, int]]:
    pod_spec = doc["spec"]["template"]["spec"]
    return [
        (p["name"], p["containerPort"]) for c in running_containers(pod_spec) for p in c["ports"]
    ]


def test_a_prometheus_becomes_one_statefulset_per_shard_and_a_governing_service() -> None:
    prometheus = _custom(
        "Prometheus", "k8s", replicas=2, shards=2, podMetadata={"labels": {"team": "obs"}}
    )
    made = operator_objects([res(prometheus)])
    assert [(r.kind, r.namespace, r.name) for r in made] == [
        ("StatefulSet", "monitoring", "prometheus-k8s"),
        ("StatefulSet", "monitoring", "prometheus-k8s-shard-1"),
        ("Service", "monitoring", "prometheus-operated"),
    ]
    first = made[0].body
    assert template_labels(first) == {
        "team": "obs",
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "k8s",
        "prometheus": "k8s",
        "operator.prometheus.io/name": "k8s",
        "operator.prometheus.io/shard": "0",
    }
    assert first["spec"]["replicas"] == 2
    assert _ports(first) == [("web", 9090), ("reloader-web", 8080)]
    assert made_by(made[0]) == "Prometheus/k8s"
    assert made[2].labels == {"operated-prometheus": "true"}


def test_alertmanager_and_thanos_ruler_ports_and_labels() -> None:
    alertmanager = _custom("Alertmanager", "main", portName="http")
    ruler = _custom("ThanosRuler", "rules", listenLocal=True)
    made = operator_objects([res(alertmanager), res(ruler)])
    names = [(r.kind, r.name) for r in made]
    assert names == [
        ("StatefulSet", "alertmanager-main"),
        ("Service", "alertmanager-operated"),
        ("StatefulSet", "thanos-ruler-rules"),
        ("Service", "thanos-ruler-operated"),
    ]
    assert _ports(made[0].body) == [
        ("mesh-tcp", 9094),
        ("mesh-udp", 9094),
        ("http", 9093),
        ("reloader-web", 8080),
    ]
    assert template_labels(made[0].body)["alertmanager"] == "main"
    assert _ports(made[2].body) == [("grpc", 10901)]  # listenLocal: no web port
    assert [p["name"] for p in made[1].spec["ports"]] == ["http", "tcp-mesh", "udp-mesh"]


def test_the_kubelet_service_follows_the_operator_flags() -> None:
    made = operator_objects([res(_operator("--kubelet-service", "kube-system/kubelet"))])
    (kubelet,) = made
    assert (kubelet.kind, kubelet.namespace, kubelet.name) == ("Service", "kube-system", "kubelet")
    assert kubelet.labels == {
        "k8s-app": "kubelet",
        "app.kubernetes.io/name": "kubelet",
        "app.kubernetes.io/managed-by": "prometheus-operator",
    }
    assert [p["name"] for p in kubelet.spec["ports"]] == [
        "https-metrics",
        "cadvisor",
        "http-metrics",
    ]
    flagged = _operator(
        "--kubelet-service=kube-system/kubelet", "--kubelet-http-metrics=false", "--labels=a=b"
    )
    (kubelet,) = operator_objects([res(flagged)])
    assert [p["name"] for p in kubelet.spec["ports"]] == ["https-metrics", "cadvisor"]
    assert kubelet.labels["a"] == "b"
    assert operator_objects([res(_operator("--log-level=info"))]) == []


def test_the_operator_labels_reach_the_pods_and_other_groups_are_ignored() -> None:
    prometheus = _custom("Prometheus", "k8s")
    made = operator_objects([res(prometheus), res(_operator("--labels=env=prod,team=obs"))])
    assert template_labels(made[0].body)["team"] == "obs"
    lookalike = {**prometheus, "apiVersion": "example.test/v1"}
    assert operator_objects([res(lookalike)]) == []
