"""What the API server rejects and the OpenAPI schemas cannot say.

The published schemas give types and required fields; the API server's hand-written validation
(k8s.io/kubernetes/pkg/apis/{core,apps,policy,autoscaling}/validation, and
k8s.io/apimachinery/pkg/util/validation for names and labels) rejects much more. This module
re-states the rules a manifest author can break, one ``<field path>: <problem>`` per problem,
in the same form as schema messages. ``gitops validate`` prints them next to the schema's;
``gitops check`` reports them as ``schema-api`` findings.

    >>> api_problems({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
    ...               "spec": {"selector": {"matchLabels": {"app": "w"}},
    ...                        "template": {"metadata": {"labels": {"app": "x"}}}}})
    ['spec.template.metadata.labels: {"app": "x"} does not match spec.selector ...']

Documents may be schema-invalid: a field of the wrong type is skipped here (the schema reports
it), never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

# k8s.io/apimachinery/pkg/util/validation
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)$")
LABEL_MAX, SUBDOMAIN_MAX, SVC_NAME_MAX = 63, 253, 15

# metadata.name rule per kind (the validation's ValidateNameFunc); kinds not listed (RBAC's
# path-segment names, custom resources) are not checked. PodDisruptionBudget is not listed:
# policy's ValidatePodDisruptionBudget validates only the spec, so kube-apiserver 1.36 admits a
# PDB named "Bad_Name" or 254 characters long (tests/cluster/test_differential.py showed it).
_SUBDOMAIN_KINDS = frozenset(
    {
        "ConfigMap",
        "Secret",
        "Pod",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "HorizontalPodAutoscaler",
        "Ingress",
        "NetworkPolicy",
        "ServiceAccount",
        "PersistentVolumeClaim",
    }
)
_NAME_RULES: dict[str, tuple[str, re.Pattern[str], int]] = {
    **{
        kind: ("a DNS-1123 subdomain", DNS1123_SUBDOMAIN, SUBDOMAIN_MAX)
        for kind in _SUBDOMAIN_KINDS
    },
    "Service": ("a DNS-1035 label", DNS1035_LABEL, LABEL_MAX),
    "Namespace": ("a DNS-1123 label", DNS1123_LABEL, LABEL_MAX),
    # CronJob: the Job name it creates appends 11 characters (validation.go, 52).
    "CronJob": ("a DNS-1123 subdomain", DNS1123_SUBDOMAIN, 52),
}
_BUILTIN_GROUPS = frozenset(
    {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io"}
)
_SELECTOR_WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
POD_RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
DEPLOYMENT_STRATEGIES = ("Recreate", "RollingUpdate")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
# Enumerated spec fields per kind (the values each validation accepts, Kubernetes 1.33).
_SPEC_ENUMS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "Deployment": ((("strategy", "type"), DEPLOYMENT_STRATEGIES),),
    "StatefulSet": (
        (("podManagementPolicy",), ("OrderedReady", "Parallel")),
        (("updateStrategy", "type"), ("RollingUpdate", "OnDelete")),
    ),
    "DaemonSet": ((("updateStrategy", "type"), ("RollingUpdate", "OnDelete")),),
    "CronJob": ((("concurrencyPolicy",), ("Allow", "Forbid", "Replace")),),
    "Service": (
        (("sessionAffinity",), ("ClientIP", "None")),
        (("externalTrafficPolicy",), ("Cluster", "Local")),
        (("internalTrafficPolicy",), ("Cluster", "Local")),
        (("ipFamilyPolicy",), ("SingleStack", "PreferDualStack", "RequireDualStack")),
    ),
    "PodDisruptionBudget": ((("unhealthyPodEvictionPolicy",), ("IfHealthyBudget", "AlwaysAllow")),),
}
PROBE_KINDS = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
# Checks a caller may leave out because a policy rule reports the same thing.
CHECK_PROBE_HANDLERS = "probe-handlers"


def api_problems(body: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> list[str]:
    """Every problem of one object the API server would reject; [] for kinds not covered."""
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    group = api_version.rpartition("/")[0]
    if group not in _BUILTIN_GROUPS:
        return []
    problems = list(_metadata(body, kind))
    spec = _dict(body.get("spec"))
    if kind in _SELECTOR_WORKLOADS:
        problems += _workload_selector(spec, kind)
    if kind in (*_SELECTOR_WORKLOADS, "Job", "CronJob", "Pod"):
        problems += _pod_template(body, kind, skip)
    for path, allowed in _SPEC_ENUMS.get(kind, ()):
        problems += _enum(f"spec.{'.'.join(path)}", _dig(spec, path), allowed)
    if kind == "Service":
        problems += _service(spec)
    if kind == "PodDisruptionBudget":
        problems += _pdb(spec)
    if kind == "HorizontalPodAutoscaler":
        problems += _hpa(spec)
    return problems


# --- metadata, labels, selectors ---------------------------------------------------------


def _metadata(body: Mapping[str, Any], kind: str) -> Iterator[str]:
    metadata = _dict(body.get("metadata"))
    name = metadata.get("name")
    if isinstance(name, str) and kind in _NAME_RULES:
        what, pattern, limit = _NAME_RULES[kind]
        yield from _name("metadata.name", name, what, pattern, limit)
    yield from _labels("metadata.labels", metadata.get("labels"))
    yield from _annotations("metadata.annotations", metadata.get("annotations"))


def _name(where: str, value: str, what: str, pattern: re.Pattern[str], limit: int) -> Iterator[str]:
    if len(value) > limit:
        yield f"{where}: {value!r} is longer than {limit} characters (must be {what})"
    elif not pattern.match(value):
        yield f"{where}: {value!r} is not {what} (lower-case letters, digits and '-')"


def qualified_name_problem(key: str) -> str | None:
    """Why ``key`` is not a label or annotation key (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "has an empty prefix"
    if slash and (len(prefix) > SUBDOMAIN_MAX or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"prefix {prefix!r} is not a DNS-1123 subdomain"
    if not name or len(name) > LABEL_MAX:
        return f"name part must be 1-{LABEL_MAX} characters"
    if not QUALIFIED_NAME.match(name):
        return "name part must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    return None


def _labels(where: str, labels: Any) -> Iterator[str]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        problem = qualified_name_problem(str(key))
        value_problem = None
        if isinstance(value, str):
            if len(value) > LABEL_MAX:
                value_problem = f"label value is longer than {LABEL_MAX} characters"
            elif not LABEL_VALUE.match(value):
                value_problem = (
                    f"label value {value!r} must be empty or alphanumerics, '-', '_' or '.', "
                    "starting and ending alphanumeric"
                )
        if problem is None and value_problem is None:
            continue  # the common case: no path to format
        path = f"{where}[{json.dumps(str(key))}]"
        if problem:
            yield f"{path}: invalid label key: {problem}"
        if value_problem:
            yield f"{path}: {value_problem}"


def _annotations(where: str, annotations: Any) -> Iterator[str]:
    if not isinstance(annotations, dict):
        return
    total = 0
    for key, value in annotations.items():
        problem = qualified_name_problem(str(key))
        if problem:
            yield f"{where}[{json.dumps(str(key))}]: invalid annotation key: {problem}"
        total += len(str(key)) + (len(value) if isinstance(value, str) else 0)
    if total > 256 * 1024:
        yield f"{where}: {total} bytes in total, more than the 256 KiB the API server accepts"


def _selector(where: str, selector: Any) -> Iterator[str]:
    if not isinstance(selector, dict):
        return
    yield from _labels(f"{where}.matchLabels", selector.get("matchLabels"))
    expressions = selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, dict):
            continue
        path = f"{where}.matchExpressions[{index}]"
        operator, values = expression.get("operator"), expression.get("values")
        key = expression.get("key")
        if isinstance(key, str) and (problem := qualified_name_problem(key)):
            yield f"{path}.key: invalid label key: {problem}"
        yield from _enum(f"{path}.operator", operator, SELECTOR_OPERATORS)
        if operator in ("In", "NotIn") and not values:
            yield f"{path}.values: must be non-empty when operator is {operator}"
        if operator in ("Exists", "DoesNotExist") and values:
            yield f"{path}.values: must be empty when operator is {operator}"


def _workload_selector(spec: dict[str, Any], kind: str) -> Iterator[str]:
    from gitops.policy import selector_matches, valid_label_selector

    selector = spec.get("selector")
    yield from _selector("spec.selector", selector)
    if not isinstance(selector, dict) or not valid_label_selector(selector):
        return
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        yield f"spec.selector: empty selector is invalid for a {kind}"
        return
    template_metadata = _dict(_dict(spec.get("template")).get("metadata"))
    labels = template_metadata.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    if not selector_matches(selector, {str(k): str(v) for k, v in labels.items()}):
        yield (
            f"spec.template.metadata.labels: {json.dumps(labels, sort_keys=True)} does not match "
            "spec.selector (the API server rejects it)"
        )


# --- pods ------------------------------------------------------------------------------


def _pod_template(body: Mapping[str, Any], kind: str, skip: frozenset[str]) -> Iterator[str]:
    spec = _dict(body.get("spec"))
    prefix = "spec.template"
    if kind == "Pod":
        pod_spec, prefix = spec, ""
    else:
        if kind == "CronJob":
            spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
            prefix = "spec.jobTemplate.spec.template"
        template = _dict(spec.get("template"))
        yield from _labels(
            f"{prefix}.metadata.labels", _dict(template.get("metadata")).get("labels")
        )
        yield from _annotations(
            f"{prefix}.metadata.annotations", _dict(template.get("metadata")).get("annotations")
        )
        pod_spec = _dict(template.get("spec"))
    where = f"{prefix}.spec" if prefix else "spec"
    restart = pod_spec.get("restartPolicy")
    yield from _enum(f"{where}.restartPolicy", restart, POD_RESTART_POLICIES)
    if kind in _SELECTOR_WORKLOADS and restart not in (None, "Always"):
        yield f"{where}.restartPolicy: {restart!r} is not supported for a {kind} (only Always)"
    if kind in ("Job", "CronJob") and restart == "Always":
        yield f"{where}.restartPolicy: 'Always' is not supported for a {kind} (OnFailure or Never)"
    yield from _enum(f"{where}.dnsPolicy", pod_spec.get("dnsPolicy"), DNS_POLICIES)
    volumes = _volumes(where, pod_spec)
    yield from volumes[1]
    yield from _containers(where, pod_spec, volumes[0], skip)


def _volumes(where: str, pod_spec: dict[str, Any]) -> tuple[set[str], list[str]]:
    names: set[str] = set()
    problems: list[str] = []
    for index, volume in enumerate(_list(pod_spec.get("volumes"))):
        name = _dict(volume).get("name")
        if not isinstance(name, str):
            continue
        path = f"{where}.volumes[{index}].name"
        problems += _name(path, name, "a DNS-1123 label", DNS1123_LABEL, LABEL_MAX)
        if name in names:
            problems.append(f"{path}: duplicate volume name {name!r}")
        names.add(name)
    return names, problems


def _containers(
    where: str, pod_spec: dict[str, Any], volumes: set[str], skip: frozenset[str]
) -> Iterator[str]:
    seen: set[str] = set()
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(_list(pod_spec.get(field))):
            if not isinstance(container, dict):
                continue
            path = f"{where}.{field}[{index}]"
            name = container.get("name")
            if isinstance(name, str):
                yield from _name(f"{path}.name", name, "a DNS-1123 label", DNS1123_LABEL, LABEL_MAX)
                if name in seen:
                    yield f"{path}.name: duplicate container name {name!r}"
                seen.add(name)
            yield from _enum(
                f"{path}.imagePullPolicy", container.get("imagePullPolicy"), PULL_POLICIES
            )
            yield from _enum(
                f"{path}.terminationMessagePolicy",
                container.get("terminationMessagePolicy"),
                ("File", "FallbackToLogsOnError"),
            )
            if field == "initContainers":
                # Only sidecars set it, and only to Always (KEP-753).
                yield from _enum(
                    f"{path}.restartPolicy", container.get("restartPolicy"), ("Always",)
                )
            yield from _ports(path, container)
            yield from _mounts(path, container, volumes)
            if CHECK_PROBE_HANDLERS not in skip:
                yield from _probes(path, container)


def _ports(path: str, container: dict[str, Any]) -> Iterator[str]:
    names: set[str] = set()
    for index, port in enumerate(_list(container.get("ports"))):
        if not isinstance(port, dict):
            continue
        where = f"{path}.ports[{index}]"
        name = port.get("name")
        if isinstance(name, str):
            yield from _port_name(f"{where}.name", name)
            if name in names:
                yield f"{where}.name: duplicate port name {name!r}"
            names.add(name)
        yield from _port_number(f"{where}.containerPort", port.get("containerPort"), low=1)
        yield from _port_number(f"{where}.hostPort", port.get("hostPort"), low=0)
        yield from _enum(f"{where}.protocol", port.get("protocol"), PROTOCOLS)


def _port_name(where: str, name: str) -> Iterator[str]:
    if len(name) > SVC_NAME_MAX:
        yield f"{where}: {name!r} is longer than {SVC_NAME_MAX} characters (an IANA service name)"
    elif not IANA_SVC_NAME.match(name):
        yield (
            f"{where}: {name!r} is not an IANA service name (lower-case letters, digits and "
            "single '-', at least one letter)"
        )


def _port_number(where: str, value: Any, low: int) -> Iterator[str]:
    if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= 65535:
        yield f"{where}: {value} is outside {low}..65535"


def _mounts(path: str, container: dict[str, Any], volumes: set[str]) -> Iterator[str]:
    mount_paths: set[str] = set()
    for index, mount in enumerate(_list(container.get("volumeMounts"))):
        if not isinstance(mount, dict):
            continue
        where = f"{path}.volumeMounts[{index}]"
        name = mount.get("name")
        if isinstance(name, str) and name not in volumes:
            yield f"{where}.name: volume {name!r} is not defined in the pod's volumes"
        mount_path = mount.get("mountPath")
        if isinstance(mount_path, str):
            if mount_path in mount_paths:
                yield f"{where}.mountPath: {mount_path!r} is mounted twice in this container"
            mount_paths.add(mount_path)


def _probes(path: str, container: dict[str, Any]) -> Iterator[str]:
    for probe_kind in PROBE_KINDS:
        probe = container.get(probe_kind)
        if not isinstance(probe, dict):
            continue
        handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
        if not handlers:
            options = ", ".join(PROBE_HANDLERS)
            yield f"{path}.{probe_kind}: must specify a handler type (one of {options})"
        elif len(handlers) > 1:
            found = ", ".join(handlers)
            yield f"{path}.{probe_kind}: may not specify more than 1 handler type ({found})"


# --- Service, PDB, HPA ------------------------------------------------------------------


def _service(spec: dict[str, Any]) -> Iterator[str]:
    yield from _enum("spec.type", spec.get("type"), SERVICE_TYPES)
    ports = [p for p in _list(spec.get("ports")) if isinstance(p, dict)]
    names: set[str] = set()
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            yield f"{where}.name: required when a Service has more than one port"
        if isinstance(name, str) and name:
            yield from _name(f"{where}.name", name, "a DNS-1123 label", DNS1123_LABEL, LABEL_MAX)
            if name in names:
                yield f"{where}.name: duplicate port name {name!r}"
            names.add(name)
        yield from _port_number(f"{where}.port", port.get("port"), low=1)
        yield from _enum(f"{where}.protocol", port.get("protocol"), PROTOCOLS)
        target = port.get("targetPort")
        if isinstance(target, str):
            yield from _port_name(f"{where}.targetPort", target)
        else:
            yield from _port_number(f"{where}.targetPort", target, low=1)


def _pdb(spec: dict[str, Any]) -> Iterator[str]:
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield "spec: minAvailable and maxUnavailable cannot be both set"
    for field in ("minAvailable", "maxUnavailable"):
        value = spec.get(field)
        if isinstance(value, str):
            match = re.fullmatch(r"(\d+)%", value)
            if match is None:
                yield f"spec.{field}: {value!r} must be an integer or a percentage like '50%'"
            elif int(match.group(1)) > 100:
                yield f"spec.{field}: {value!r} must not be greater than 100%"
        elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
            yield f"spec.{field}: {value} must be greater than or equal to 0"
    yield from _selector("spec.selector", spec.get("selector"))


def _hpa(spec: dict[str, Any]) -> Iterator[str]:
    behavior = _dict(spec.get("behavior"))
    for direction in ("scaleUp", "scaleDown"):
        rules = behavior.get(direction)
        if not isinstance(rules, dict) or "policies" not in rules:
            continue
        where = f"spec.behavior.{direction}.policies"
        policies = rules.get("policies")
        if isinstance(policies, list) and not policies:
            yield f"{where}: must specify at least one policy (or leave policies out)"
        # A policy without type, value or periodSeconds is the schema's (they are required).


# --- helpers ----------------------------------------------------------------------------


def _enum(where: str, value: Any, allowed: tuple[str, ...]) -> Iterator[str]:
    if value is not None and value not in allowed:
        yield f"{where}: {value!r} is not one of {', '.join(allowed)}"


def _dig(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
