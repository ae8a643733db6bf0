"""Rules about how traffic reaches pods: Service selectors and target ports, Ingress backends,
ServiceMonitor endpoints.

Every reference is resolved within one env and one namespace, across all the overlays of that
env (the shared Ingress routes to Services that other overlays render):

    >>> [f.message for f in run_check(repo, config).findings if f.rule == "ingress-backend-unknown"]
    ['rule api.example.com path /kpis: Service kpis-api does not expose port 80 (ports: http=8080)']

A reference to another overlay is only judged when every overlay of the env rendered: checking
one service (``--service shared``) or a broken sibling overlay must not invent findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitops.k8s import running_containers, service_selector
from gitops.model import Resource
from gitops.policy.engine import (
    CheckContext,
    Hit,
    field_path,
    pod_labels,
    pod_spec,
    rule,
    selector_matches,
    valid_label_selector,
)

_MAX_LISTED = 5


@rule(
    "service-selector-unmatched",
    kinds=("Service",),
    remediation=(
        "Make spec.selector equal to labels of the pod template it should route to (or fix the "
        "template's labels); remove the Service if nothing should be behind it."
    ),
)
def service_selector_unmatched(ctx: CheckContext) -> Iterator[Hit]:
    """A Service's selector matches no pod template in its env and namespace.

    The Service still gets a ClusterIP and DNS name, so clients resolve it and then time out:
    its Endpoints stay empty and every request fails with "connection refused" or 503 from the
    ingress, typically after a label rename in one file but not the other. Services without a
    selector (endpoints managed by hand or by another controller) are skipped."""
    for service in ctx.of_kind("Service"):
        selector = service_selector(service)
        if not selector or ctx.relations.workloads_selected(service):
            continue
        if not _env_complete(ctx, service.env):
            continue
        namespace = _namespace_of(ctx, service)
        templates = [
            f"{w.kind}/{w.name} ({_labels_text(pod_labels(w))})"
            for w in ctx.workloads(service.env)
            if _namespace_of(ctx, w) == namespace
        ]
        yield Hit(
            f"selector {_labels_text(selector)} matches no pod template in namespace "
            f"{namespace or '(none)'} of env {service.env} "
            f"(pod templates: {_listing(templates)})",
            service,
        )


@rule(
    "service-target-port-unknown",
    kinds=("Service",),
    remediation=(
        "Name the port in the container's ports[].name, or use the containerPort number as "
        "targetPort."
    ),
)
def service_target_port_unknown(ctx: CheckContext) -> Iterator[Hit]:
    """A Service port's targetPort is not a port the selected pods declare.

    A named targetPort is resolved per pod: a pod whose containers do not declare the name is
    left out of the Endpoints for that port, so the Service routes nowhere although every pod
    is Ready. A numeric targetPort reaches the pod even if undeclared (containerPort is only
    informational), so a number is flagged only when the pods declare ports and none of them is
    that number: a Service sending traffic to 80 while the container says it listens on 8080
    is the classic copy-paste outage. targetPort defaults to port."""
    for service in ctx.of_kind("Service"):
        selector = service_selector(service)
        if not selector:
            continue
        workloads = ctx.relations.workloads_selected(service)
        for port in _list_of_dicts(service.spec.get("ports")):
            target = port.get("targetPort", port.get("port"))
            label = _port_label(port)
            for workload in workloads:
                declared = _declared_ports(workload)
                if isinstance(target, str) and not target.isdigit():
                    if target in {name for name, _ in declared}:
                        continue
                    yield Hit(
                        f"port {label}: targetPort {target!r} is not declared by the "
                        f"containers of {workload.kind}/{workload.name} "
                        f"(declared: {_ports_text(declared)})",
                        service,
                    )
                elif isinstance(target, int | str) and not isinstance(target, bool):
                    number = int(target)
                    if not declared or number in {n for _, n in declared}:
                        continue
                    yield Hit(
                        f"port {label}: targetPort {number} is not a containerPort of "
                        f"{workload.kind}/{workload.name} (declared: {_ports_text(declared)})",
                        service,
                    )


@rule(
    "ingress-backend-unknown",
    kinds=("Ingress",),
    remediation=(
        "Point the backend at a Service (and port name or number) rendered in the same env and "
        "namespace."
    ),
)
def ingress_backend_unknown(ctx: CheckContext) -> Iterator[Hit]:
    """An Ingress backend names a Service, or a Service port, that does not exist.

    The controller answers 503 (nginx: "default backend - 404"/"503 Service Temporarily
    Unavailable") for that path while every pod is healthy; nothing in the Ingress status says
    so. A numeric backend port must equal a Service ``spec.ports[].port`` (not the targetPort),
    a named one a ``spec.ports[].name``."""
    for ingress in ctx.of_kind("Ingress"):
        namespace = _namespace_of(ctx, ingress)
        services = {
            s.name: s
            for s in ctx.of_kind("Service", env=ingress.env)
            if _namespace_of(ctx, s) == namespace
        }
        for where, backend in _ingress_backends(ingress):
            service_ref = backend.get("service")
            if not isinstance(service_ref, dict):
                continue  # a resource backend, or not interpretable
            name = service_ref.get("name")
            if not isinstance(name, str) or not name:
                continue
            service = services.get(name)
            if service is None:
                if _env_complete(ctx, ingress.env):
                    yield Hit(
                        f"{where}: backend Service {name} does not exist in namespace "
                        f"{namespace or '(none)'} of env {ingress.env} "
                        f"(Services: {_listing(sorted(services))})",
                        ingress,
                        field=field_path(ingress, service_ref, "name"),
                    )
                continue
            problem = _backend_port_problem(service, service_ref.get("port"))
            if problem:
                yield Hit(
                    f"{where}: Service {name} {problem}",
                    ingress,
                    field=field_path(ingress, service_ref, "port"),
                )


def _backend_port_problem(service: Resource, port_ref: Any) -> str | None:
    """Why an Ingress backend's ``port`` (number or name) is not one of the Service's ports."""
    if not isinstance(port_ref, dict):
        return None
    ports = _list_of_dicts(service.spec.get("ports"))
    number, port_name = port_ref.get("number"), port_ref.get("name")
    if isinstance(number, int) and not isinstance(number, bool):
        if number not in [p.get("port") for p in ports]:
            return f"does not expose port {number} (ports: {_service_ports_text(ports)})"
    elif (
        isinstance(port_name, str) and port_name and port_name not in [p.get("name") for p in ports]
    ):
        return f"has no port named {port_name!r} (ports: {_service_ports_text(ports)})"
    return None


@rule(
    "servicemonitor-port-unknown",
    kinds=("ServiceMonitor",),
    remediation=(
        "Use a port name the selected Services declare (endpoints[].port), or a targetPort the "
        "pods declare."
    ),
)
def servicemonitor_port_unknown(ctx: CheckContext) -> Iterator[Hit]:
    """A ServiceMonitor selects no Service, or scrapes a port its Services do not expose.

    The Prometheus Operator keeps only endpoints whose Service port name equals the endpoint's
    ``port`` (or whose pod declares ``targetPort``), so a typo yields zero targets: no error,
    no alert, just a dashboard that quietly flatlines and alerts that can never fire. The
    selector is matched against Service labels (not pod labels) in the namespaces of
    ``namespaceSelector`` (default: the ServiceMonitor's own), among the rendered Services and
    those the Prometheus Operator creates (``*-operated``, the kubelet Service of
    ``--kubelet-service``). A ServiceMonitor looking only in default or kube-system, where the
    env renders no Service, selects what the cluster provides: a note, not a finding."""
    for monitor in ctx.of_kind("ServiceMonitor"):
        if not monitor.key.api_version.startswith("monitoring.coreos.com/"):
            continue
        spec = monitor.spec
        selector = spec.get("selector", {})
        if not valid_label_selector(selector):
            continue
        namespaces = _monitored_namespaces(ctx, monitor)
        candidates = [
            s
            for s in [*ctx.of_kind("Service", env=monitor.env), *ctx.operator_made]
            if s.kind == "Service" and s.env == monitor.env
        ]
        services = [
            s
            for s in candidates
            if (namespaces is None or _namespace_of(ctx, s) in namespaces)
            and selector_matches(selector, s.labels)
        ]
        where = (
            "any namespace" if namespaces is None else f"namespace {', '.join(sorted(namespaces))}"
        )
        rendered = ctx.of_kind("Service", env=monitor.env)
        if not services and _cluster_provided(ctx, namespaces, rendered):
            ctx.note(
                f"{monitor.env}: ServiceMonitor {monitor.name} selects Services in {where}, "
                "which the cluster or an operator provides (kubelet, kube-dns, kubernetes) and "
                "this repository does not render: not checked"
            )
            continue
        if not services:
            if _env_complete(ctx, monitor.env):
                yield Hit(
                    f"selector {_selector_text(selector)} matches no Service in {where} of env "
                    f"{monitor.env}: nothing is scraped",
                    monitor,
                )
            continue
        names = ", ".join(f"Service/{s.name}" for s in services)
        for index, endpoint in enumerate(_list_of_dicts(spec.get("endpoints"))):
            problem = _endpoint_problem(ctx, endpoint, services, names)
            if problem:
                yield Hit(f"endpoints[{index}]: {problem}", monitor)


def _endpoint_problem(
    ctx: CheckContext, endpoint: dict[str, Any], services: list[Resource], names: str
) -> str | None:
    """Why one ServiceMonitor endpoint scrapes nothing: its ``port`` is not a named port of the
    selected Services, or its ``targetPort`` is not declared by the pods behind them."""
    port, target = endpoint.get("port"), endpoint.get("targetPort")
    if isinstance(port, str) and port:
        exposed = {
            str(p.get("name"))
            for s in services
            for p in _list_of_dicts(s.spec.get("ports"))
            if isinstance(p.get("name"), str)
        }
        if port not in exposed:
            return (
                f"port {port!r} is not a named port of the selected Services ({names}; "
                f"port names: {_listing(sorted(n for n in exposed if n))})"
            )
    elif isinstance(target, int | str) and not isinstance(target, bool) and target != "":
        declared = [
            p
            for s in services
            for w in ctx.relations.workloads_selected(s)
            for p in _declared_ports(w)
        ]
        wanted = int(target) if isinstance(target, int) or target.isdigit() else target
        if not any(wanted in (name, number) for name, number in declared):
            return (
                f"targetPort {target!r} is not declared by the pods behind {names} "
                f"(declared: {_ports_text(declared)})"
            )
    return None


# --- helpers -----------------------------------------------------------------------------


def _namespace_of(ctx: CheckContext, resource: Resource) -> str:
    return ctx.namespace_of(resource)


def _env_complete(ctx: CheckContext, env: str) -> bool:
    """Whether every overlay of ``env`` was selected and rendered, so that "not found" means
    "does not exist" rather than "was not looked at"."""
    if not ctx.env_selected(env):
        return False
    rendered = {r.overlay_path for r in ctx.resources if r.env == env}
    # ctx.overlays are the units discovery found (Argo CD's paths when argocd/ has them).
    expected = {o.key for o in ctx.overlays if o.env == env}
    return expected <= rendered


def _declared_ports(workload: Resource) -> list[tuple[str, int]]:
    """(name, containerPort) of every port of the containers that serve traffic, native
    sidecars included (the EndpointSlice controller resolves a named targetPort in the app
    containers, then in the init containers with restartPolicy Always: k8s.io/endpointslice
    FindPort); name "" when unnamed."""
    declared = []
    for container in running_containers(pod_spec(workload)):
        for port in _list_of_dicts(container.get("ports")):
            number = port.get("containerPort")
            if isinstance(number, int) and not isinstance(number, bool):
                declared.append((str(port.get("name") or ""), number))
    return declared


# Namespaces whose Services the cluster itself (kubernetes, kube-dns) or an operator running
# elsewhere (the kubelet Service of --kubelet-service) creates, not a GitOps repository.
CLUSTER_NAMESPACES = frozenset({"default", "kube-system"})


def _cluster_provided(
    ctx: CheckContext, namespaces: set[str] | None, rendered: list[Resource]
) -> bool:
    """Whether a ServiceMonitor looks only in cluster namespaces in which the env renders no
    Service: its Services exist or not outside this repository, so "selects nothing" cannot be
    judged here (kube-prometheus's kubelet, coredns and apiserver monitors)."""
    if namespaces is None or not namespaces <= CLUSTER_NAMESPACES:
        return False
    return not any(_namespace_of(ctx, s) in namespaces for s in rendered)


def _monitored_namespaces(ctx: CheckContext, monitor: Resource) -> set[str] | None:
    """The namespaces a ServiceMonitor looks in; None for ``any: true``."""
    selector = monitor.spec.get("namespaceSelector")
    if isinstance(selector, dict):
        if selector.get("any") is True:
            return None
        names = selector.get("matchNames")
        if isinstance(names, list) and names:
            return {str(n) for n in names}
    return {_namespace_of(ctx, monitor)}


def _ingress_backends(ingress: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = ingress.spec
    default = spec.get("defaultBackend")
    if isinstance(default, dict):
        yield "defaultBackend", default
    for rule_index, ingress_rule in enumerate(_list_of_dicts(spec.get("rules"))):
        http = ingress_rule.get("http")
        if not isinstance(http, dict):
            continue
        host = ingress_rule.get("host") or f"rules[{rule_index}] (any host)"
        for path in _list_of_dicts(http.get("paths")):
            backend = path.get("backend")
            if isinstance(backend, dict):
                yield f"rule {host} path {path.get('path', '/')}", backend


def _list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _port_label(port: dict[str, Any]) -> str:
    name, number = port.get("name"), port.get("port")
    return f"{name} ({number})" if name else str(number)


def _ports_text(declared: list[tuple[str, int]]) -> str:
    if not declared:
        return "none"
    return ", ".join(f"{name}={number}" if name else str(number) for name, number in declared)


def _service_ports_text(ports: list[dict[str, Any]]) -> str:
    texts = [f"{p['name']}={p.get('port')}" if p.get("name") else str(p.get("port")) for p in ports]
    return ", ".join(texts) or "none"


def _labels_text(labels: dict[str, str]) -> str:
    pairs = sorted(labels.items(), key=lambda kv: str(kv[0]))
    return ",".join(f"{k}={v}" for k, v in pairs) or "(no labels)"


def _selector_text(selector: dict[str, Any]) -> str:
    match_labels = selector.get("matchLabels") or {}
    parts = [f"{k}={v}" for k, v in sorted(match_labels.items(), key=lambda kv: str(kv[0]))]
    for expression in _list_of_dicts(selector.get("matchExpressions")):
        values = ",".join(str(v) for v in expression.get("values") or [])
        parts.append(f"{expression.get('key')} {expression.get('operator')} ({values})")
    return ", ".join(parts) or "{} (every Service)"


def _listing(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f", ... {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")
