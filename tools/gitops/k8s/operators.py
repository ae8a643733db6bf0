"""Objects a known operator creates from what the repository renders, so that relation rules
(Service and PDB selectors, target ports, ServiceMonitor selections) see the pods and Services
that will exist in the cluster, not only the rendered ones.

The Prometheus Operator (github.com/prometheus-operator/prometheus-operator, read at v0.93.0):

- a ``Prometheus`` ``<name>`` becomes StatefulSet ``prometheus-<name>`` (one per shard,
  ``-shard-<i>`` from the second) whose pods carry ``spec.podMetadata.labels`` and the
  selector labels ``app.kubernetes.io/name: prometheus``, ``app.kubernetes.io/managed-by:
  prometheus-operator``, ``app.kubernetes.io/instance: <name>``, ``operator.prometheus.io/name:
  <name>``, ``prometheus: <name>``, ``operator.prometheus.io/shard: <i>``
  (pkg/prometheus/server/statefulset.go, operator.go makeSelectorLabels); its containers
  declare ``<portName, default web>: 9090`` (pkg/prometheus/common.go MakeContainerPorts, none
  with ``listenLocal``) and the config reloader's ``reloader-web: 8080``
  (pkg/operator/config_reloader.go); the governing Service ``prometheus-operated`` has the
  label ``operated-prometheus: "true"``;
- an ``Alertmanager`` ``<name>``: StatefulSet ``alertmanager-<name>``, selector labels
  ``app.kubernetes.io/name: alertmanager``, managed-by, instance and ``alertmanager: <name>``;
  ports ``<portName, default web>: 9093``, ``mesh-tcp``/``mesh-udp: 9094`` and
  ``reloader-web: 8080``; Service ``alertmanager-operated`` (pkg/alertmanager/statefulset.go,
  operator.go);
- a ``ThanosRuler`` ``<name>``: StatefulSet ``thanos-ruler-<name>``, selector labels
  ``app.kubernetes.io/name: thanos-ruler``, managed-by, instance and ``thanos-ruler: <name>``;
  ports ``grpc: 10901`` and ``<portName, default web>: 10902``; Service
  ``thanos-ruler-operated`` (pkg/thanos/statefulset.go, operator.go);
- started with ``--kubelet-service=<namespace>/<name>`` (cmd/operator/main.go), the operator
  keeps a selector-less Service of that name with the labels ``k8s-app: kubelet``,
  ``app.kubernetes.io/name: kubelet``, ``app.kubernetes.io/managed-by: prometheus-operator``
  and the ports ``https-metrics: 10250``, ``cadvisor: 4194`` and, unless
  ``--kubelet-http-metrics=false``, ``http-metrics: 10255`` (pkg/kubelet/controller.go).

Every object also carries the operator's ``--labels``. Only what the relation rules read is
modelled (names, labels, selectors, container and Service ports, replicas); the objects are
never checked themselves.

    >>> made = operator_objects([prometheus_resource])  # a rendered Prometheus "k8s"
    >>> [(r.kind, r.name) for r in made]
    [('StatefulSet', 'prometheus-k8s'), ('Service', 'prometheus-operated')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gitops.k8s.workload import spec_containers
from gitops.model import Resource, ResourceKey

MONITORING_GROUP = "monitoring.coreos.com"
MANAGED_BY = {"app.kubernetes.io/managed-by": "prometheus-operator"}
MADE_BY_ANNOTATION = "gitops.example.org/made-by"
RELOADER_PORT = {"name": "reloader-web", "containerPort": 8080}
# The labels of the kubelet Service, which a ServiceMonitor selects it by.
KUBELET_LABELS = {"k8s-app": "kubelet", "app.kubernetes.io/name": "kubelet", **MANAGED_BY}


@dataclass(frozen=True)
class _Server:
    """What the operator makes of one kind of custom resource."""

    app_name: str  # app.kubernetes.io/name, and the StatefulSet's name prefix
    name_label: str  # the per-resource label ("prometheus", "alertmanager", "thanos-ruler")
    governing_service: str
    operated_label: str
    sharded: bool = False


_SERVERS = {
    "Prometheus": _Server(
        "prometheus", "prometheus", "prometheus-operated", "operated-prometheus", sharded=True
    ),
    "Alertmanager": _Server(
        "alertmanager", "alertmanager", "alertmanager-operated", "operated-alertmanager"
    ),
    "ThanosRuler": _Server(
        "thanos-ruler", "thanos-ruler", "thanos-ruler-operated", "operated-thanos-ruler"
    ),
}


def operator_objects(resources: Iterable[Resource]) -> list[Resource]:
    """The StatefulSets and Services the Prometheus Operator creates from ``resources``: one
    set per custom resource, one governing Service per kind and namespace, and the kubelet
    Service of each operator Deployment started with ``--kubelet-service``."""
    resources = list(resources)
    made: list[Resource] = []
    governing: set[tuple[str, str, str]] = set()
    for operator in _operators(resources):
        made += operator.kubelet_service()
    extra_labels = _operator_labels(resources)
    for resource in resources:
        server = _SERVERS.get(resource.kind)
        if server is None or resource.key.group != MONITORING_GROUP:
            continue
        labels = extra_labels.get(resource.env, {})
        made += _statefulsets(resource, server, labels)
        key = (resource.env, resource.namespace, server.governing_service)
        if key not in governing:
            governing.add(key)
            made.append(_governing_service(resource, server, labels))
    return made


def _statefulsets(resource: Resource, server: _Server, extra: dict[str, str]) -> Iterator[Resource]:
    spec = resource.spec
    shards = _count(spec.get("shards"), 1) if server.sharded else 1
    pod_metadata = _dict(spec.get("podMetadata"))
    for shard in range(max(shards, 1)):
        name = f"{server.app_name}-{resource.name}" + (f"-shard-{shard}" if shard else "")
        selector = {
            **MANAGED_BY,
            "app.kubernetes.io/name": server.app_name,
            "app.kubernetes.io/instance": resource.name,
            server.name_label: resource.name,
        }
        if server.sharded:
            selector["operator.prometheus.io/name"] = resource.name
            selector["operator.prometheus.io/shard"] = str(shard)
        pod_labels = {**_strings(pod_metadata.get("labels")), **selector, **extra}
        body = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _metadata(name, resource, {**selector, **extra}),
            "spec": {
                "replicas": _count(spec.get("replicas"), 1),
                "serviceName": server.governing_service,
                "selector": {"matchLabels": {**selector, **extra}},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {"containers": _containers(resource, server)},
                },
            },
        }
        yield _made(resource, body)


def _containers(resource: Resource, server: _Server) -> list[dict[str, Any]]:
    """The operator's containers with their declared ports, then the resource's own
    ``spec.containers`` (merged by name, as the operator merges them)."""
    spec = resource.spec
    port_name = str(spec.get("portName") or "web")
    listen_local = spec.get("listenLocal") is True
    ports: dict[str, list[dict[str, Any]]] = {
        "prometheus": [] if listen_local else [{"name": port_name, "containerPort": 9090}],
        "alertmanager": [
            {"name": "mesh-tcp", "containerPort": 9094},
            {"name": "mesh-udp", "containerPort": 9094, "protocol": "UDP"},
            *([] if listen_local else [{"name": port_name, "containerPort": 9093}]),
        ],
        "thanos-ruler": [
            {"name": "grpc", "containerPort": 10901},
            *([] if listen_local else [{"name": port_name, "containerPort": 10902}]),
        ],
    }
    main = {"name": server.app_name, "ports": ports[server.app_name]}
    found = [main]
    if server.app_name != "thanos-ruler":
        found.append({"name": "config-reloader", "ports": [RELOADER_PORT]})
    for extra in spec_containers(spec, ("containers",)):
        same = next((c for c in found if c["name"] == extra.get("name")), None)
        if same is None:
            found.append(extra)
        elif isinstance(extra.get("ports"), list):
            same["ports"] = [*same["ports"], *extra["ports"]]
    return found


def _governing_service(resource: Resource, server: _Server, extra: dict[str, str]) -> Resource:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(
            server.governing_service, resource, {server.operated_label: "true", **extra}
        ),
        "spec": {
            "clusterIP": "None",
            "selector": {"app.kubernetes.io/name": server.app_name},
            "ports": _service_ports(server, str(resource.spec.get("portName") or "web")),
        },
    }
    return _made(resource, body)


def _service_ports(server: _Server, port_name: str) -> list[dict[str, Any]]:
    """The governing Service's ports (BuildStatefulSetService, makeStatefulSetService)."""
    web = {"name": port_name, "targetPort": port_name}
    if server.app_name == "alertmanager":
        return [
            {**web, "port": 9093},
            {"name": "tcp-mesh", "port": 9094, "targetPort": "mesh-tcp"},
            {"name": "udp-mesh", "port": 9094, "targetPort": "mesh-udp", "protocol": "UDP"},
        ]
    if server.app_name == "thanos-ruler":
        return [{**web, "port": 10902}, {"name": "grpc", "port": 10901, "targetPort": "grpc"}]
    return [{**web, "port": 9090}]


@dataclass(frozen=True)
class _Operator:
    """A rendered Deployment running the Prometheus Operator, and its flags."""

    deployment: Resource
    flags: dict[str, str]

    def kubelet_service(self) -> list[Resource]:
        target = self.flags.get("kubelet-service", "")
        namespace, slash, name = target.partition("/")
        if not slash or not namespace or not name:
            return []
        ports = [{"name": "https-metrics", "port": 10250}, {"name": "cadvisor", "port": 4194}]
        if self.flags.get("kubelet-http-metrics", "true") != "false":
            ports.append({"name": "http-metrics", "port": 10255})
        labels = {**_parse_labels(self.flags.get("labels", "")), **KUBELET_LABELS}
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": labels,
                "annotations": {MADE_BY_ANNOTATION: "prometheus-operator --kubelet-service"},
            },
            "spec": {"clusterIP": "None", "ports": ports},
        }
        key = ResourceKey.of(body)
        source = self.deployment
        return [
            Resource(
                source.env,
                source.service,
                key,
                body,
                source=source.source,
                overlay_path=source.overlay_path,
            )
        ]


def _operators(resources: list[Resource]) -> Iterator[_Operator]:
    for resource in resources:
        if resource.kind != "Deployment":
            continue
        pod_spec = _dict(_dict(resource.spec.get("template")).get("spec"))
        for container in spec_containers(pod_spec):
            image = str(container.get("image") or "")
            if image.split("@")[0].rsplit(":", 1)[0].endswith("/prometheus-operator"):
                yield _Operator(resource, _flags(container.get("args")))


def _operator_labels(resources: list[Resource]) -> dict[str, dict[str, str]]:
    """env -> the ``--labels`` of the operator rendered in that env."""
    return {
        op.deployment.env: _parse_labels(op.flags["labels"])
        for op in _operators(resources)
        if op.flags.get("labels")
    }


def _flags(args: Any) -> dict[str, str]:
    """``--name=value`` and ``--name value`` arguments as a mapping (a bare flag is "true")."""
    found: dict[str, str] = {}
    items = [str(a) for a in args] if isinstance(args, list) else []
    for index, arg in enumerate(items):
        if not arg.startswith("-"):
            continue
        name, equals, value = arg.lstrip("-").partition("=")
        if not equals:
            following = items[index + 1] if index + 1 < len(items) else ""
            value = following if following and not following.startswith("-") else "true"
        found[name] = value
    return found


def _parse_labels(text: str) -> dict[str, str]:
    """The operator's ``--labels`` flag: ``key=value,key=value``."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _metadata(name: str, resource: Resource, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": labels,
        "annotations": {MADE_BY_ANNOTATION: f"{resource.kind}/{resource.name}"},
    }
    if resource.namespace:
        metadata["namespace"] = resource.namespace
    return metadata


def _made(owner: Resource, body: dict[str, Any]) -> Resource:
    return Resource(
        owner.env,
        owner.service,
        ResourceKey.of(body),
        body,
        source=owner.source,
        overlay_path=owner.overlay_path,
    )


def made_by(resource: Resource) -> str | None:
    """Which rendered object (or operator flag) an operator-made object comes from."""
    value = resource.annotations.get(MADE_BY_ANNOTATION)
    return value if isinstance(value, str) else None


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
