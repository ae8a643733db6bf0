"""What the API server rejects and the OpenAPI schemas cannot say, at the target version.

The published schemas give types and required fields; the API server's hand-written validation
(k8s.io/kubernetes/pkg/apis/{core,apps,batch,policy,autoscaling}/validation, and
k8s.io/apimachinery/pkg/util/validation for names and labels) rejects much more. This module
re-states the rules a manifest author can break, one ``<field path>: <problem>`` per problem,
in the same form as schema messages. ``gitops validate`` prints them next to the schema's;
``gitops check`` reports them as ``schema-api`` findings (HPA bounds as ``hpa-bounds``).

Rules that changed between minor versions follow the target version through its feature gates
(:class:`gitops.k8s.features.FeatureGates`, defaults per version plus gitops.yaml's
``featureGates``); each such rule names its gate. Cited sources are k8s.io/kubernetes@v1.36.3.

    >>> api_problems({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
    ...               "spec": {"selector": {"matchLabels": {"app": "w"}},
    ...                        "template": {"metadata": {"labels": {"app": "x"}}}}},
    ...              FeatureGates.for_version("1.36"))
    ['spec.template.metadata.labels: {"app": "x"} does not match spec.selector ...']

Documents may be schema-invalid: a field of the wrong type is skipped here (the schema reports
it), never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from gitops.k8s.features import FeatureGates
from gitops.k8s.selectors import selector_matches, valid_label_selector

# k8s.io/apimachinery/pkg/util/validation
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)$")
ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")  # IsEnvVarName
PERCENT = re.compile(r"^[0-9]+%$")  # IsValidPercent
LABEL_MAX, SUBDOMAIN_MAX, SVC_NAME_MAX = 63, 253, 15
INT32_MAX = 2**31 - 1

# metadata.name rule per kind (the validation's ValidateNameFunc); kinds not listed (RBAC's
# path-segment names, custom resources) are not checked. PodDisruptionBudget is not listed:
# policy's ValidatePodDisruptionBudget validates only the spec, so kube-apiserver 1.36 admits a
# PDB named "Bad_Name" or 254 characters long (tests/cluster/test_differential.py showed it).
# Service is not listed either: its rule depends on a feature gate (see _service_name).
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
CONTAINER_RESTART_POLICIES = ("Always", "OnFailure", "Never")  # supportedContainerRestartPolicies
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
# ValidateNonnegativeField per kind, spec-relative: pkg/apis/apps/validation
# (ValidateDeploymentSpec, ValidateReplicaSetSpec, ValidateStatefulSetSpec,
# ValidateDaemonSetSpec) and pkg/apis/batch/validation (validateJobSpec, validateCronJobSpec).
_JOB_COUNTS = (
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
)
_NON_NEGATIVE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (
        ("replicas",),
        ("minReadySeconds",),
        ("revisionHistoryLimit",),
        ("progressDeadlineSeconds",),
    ),
    "ReplicaSet": (("replicas",), ("minReadySeconds",)),
    "StatefulSet": (("replicas",), ("minReadySeconds",), ("ordinals", "start")),
    "DaemonSet": (("minReadySeconds",), ("revisionHistoryLimit",)),
    "Job": tuple((name,) for name in _JOB_COUNTS),
    "CronJob": (
        ("startingDeadlineSeconds",),
        ("successfulJobsHistoryLimit",),
        ("failedJobsHistoryLimit",),
        *(("jobTemplate", "spec", name) for name in _JOB_COUNTS),
    ),
}
PROBE_KINDS = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
PROBE_COUNTS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)
ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
RESTART_RULE_ACTIONS = ("Restart",)
RESTART_RULE_OPERATORS = ("In", "NotIn")
MAX_RESTART_RULES, MAX_RESTART_RULE_EXIT_CODES = 20, 255
# pkg/apis/autoscaling/validation/validation.go
HPA_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
HPA_SELECT_POLICIES = ("Max", "Min", "Disabled")
HPA_POLICY_TYPES = ("Pods", "Percent")
MAX_STABILIZATION_WINDOW_SECONDS = 3600
MAX_PERIOD_SECONDS = 1800
# Checks a caller may leave out because a policy rule reports the same thing.
CHECK_PROBE_HANDLERS = "probe-handlers"  # probe-invalid: every probe rule below
CHECK_HPA_BOUNDS = "hpa-bounds"  # hpa-bounds: every HPA rule below


def api_problems(
    body: Mapping[str, Any], gates: FeatureGates, skip: frozenset[str] = frozenset()
) -> list[str]:
    """Every problem of one object the API server of ``gates``' version would reject; [] for
    kinds not covered."""
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    group = api_version.rpartition("/")[0]
    if group not in _BUILTIN_GROUPS:
        return []
    problems = list(_metadata(body, kind, gates))
    spec = _dict(body.get("spec"))
    if kind in _SELECTOR_WORKLOADS:
        problems += _workload_selector(spec, kind)
    problems += _counts(kind, spec)
    if kind in (*_SELECTOR_WORKLOADS, "Job", "CronJob", "Pod"):
        problems += _pod_template(body, kind, gates, skip)
    for path, allowed in _SPEC_ENUMS.get(kind, ()):
        problems += _enum(f"spec.{'.'.join(path)}", _dig(spec, path), allowed)
    if kind == "Service":
        problems += _service(spec)
    if kind == "PodDisruptionBudget":
        problems += _pdb(spec)
    if kind == "HorizontalPodAutoscaler" and CHECK_HPA_BOUNDS not in skip:
        problems += hpa_problems(spec, gates)
    return problems


# --- metadata, labels, selectors ---------------------------------------------------------


def _metadata(body: Mapping[str, Any], kind: str, gates: FeatureGates) -> Iterator[str]:
    metadata = _dict(body.get("metadata"))
    name = metadata.get("name")
    if isinstance(name, str):
        rule = _service_name(gates) if kind == "Service" else _NAME_RULES.get(kind)
        if rule is not None:
            what, pattern, limit = rule
            yield from _name("metadata.name", name, what, pattern, limit)
    yield from _labels("metadata.labels", metadata.get("labels"))
    yield from _annotations("metadata.annotations", metadata.get("annotations"))


def _service_name(gates: FeatureGates) -> tuple[str, re.Pattern[str], int]:
    """ValidateService: a DNS-1035 label, or with RelaxedServiceNameValidation (beta, on by
    default from 1.36) a DNS-1123 label, so "1healthz" is valid."""
    if gates.enabled("RelaxedServiceNameValidation"):
        return "a DNS-1123 label", DNS1123_LABEL, LABEL_MAX
    return "a DNS-1035 label", DNS1035_LABEL, LABEL_MAX


def _name(where: str, value: str, what: str, pattern: re.Pattern[str], limit: int) -> Iterator[str]:
    if len(value) > limit:
        yield f"{where}: {value!r} is longer than {limit} characters (must be {what})"
    elif not pattern.match(value):
        first = ", starting with a letter" if pattern is DNS1035_LABEL else ""
        yield f"{where}: {value!r} is not {what} (lower-case letters, digits and '-'{first})"


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


# --- counts and rolling updates -----------------------------------------------------------


def _counts(kind: str, spec: dict[str, Any]) -> Iterator[str]:
    """Counts that must not be negative, and the Deployment's cross-field limits."""
    for path in _NON_NEGATIVE.get(kind, ()):
        yield from _non_negative(f"spec.{'.'.join(path)}", _dig(spec, path))
    if kind == "Deployment":
        ready, deadline = spec.get("minReadySeconds", 0), spec.get("progressDeadlineSeconds")
        if _is_int(ready) and _is_int(deadline) and deadline <= ready:
            yield (
                f"spec.progressDeadlineSeconds: {deadline} must be greater than "
                f"minReadySeconds ({ready})"
            )
        yield from _deployment_strategy(_dict(spec.get("strategy")))


def _non_negative(where: str, value: Any) -> Iterator[str]:
    if _is_int(value) and value < 0:
        yield f"{where}: {value} must be greater than or equal to 0"


def _deployment_strategy(strategy: dict[str, Any]) -> Iterator[str]:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment (pkg/apis/apps/validation):
    maxSurge and maxUnavailable are non-negative counts or percentages (maxUnavailable at most
    100%), not both 0; a Recreate strategy has no rollingUpdate. Unset values default to 25%
    (pkg/apis/apps/v1/defaults.go)."""
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "Recreate" and rolling is not None:
        yield "spec.strategy.rollingUpdate: may not be specified when strategy type is 'Recreate'"
        return
    if not isinstance(rolling, dict):
        return
    where = "spec.strategy.rollingUpdate"
    values = {field: rolling.get(field, "25%") for field in ("maxSurge", "maxUnavailable")}
    for field, value in values.items():
        yield from _int_or_percent(f"{where}.{field}", value, at_most_100=field == "maxUnavailable")
    if (
        _int_or_percent_value(values["maxSurge"])
        == 0
        == _int_or_percent_value(values["maxUnavailable"])
    ):
        yield f"{where}.maxUnavailable: may not be 0 when maxSurge is 0"


def _int_or_percent(where: str, value: Any, at_most_100: bool) -> Iterator[str]:
    if isinstance(value, str):
        if not PERCENT.match(value):
            yield f"{where}: {value!r} must be an integer or a percentage like '25%'"
        elif at_most_100 and int(value[:-1]) > 100:
            yield f"{where}: {value!r} must not be greater than 100%"
    else:
        yield from _non_negative(where, value)


def _int_or_percent_value(value: Any) -> int | None:
    if isinstance(value, str):
        return int(value[:-1]) if PERCENT.match(value) else None
    return value if _is_int(value) else None


# --- pods ------------------------------------------------------------------------------


def _pod_template(
    body: Mapping[str, Any], kind: str, gates: FeatureGates, skip: frozenset[str]
) -> Iterator[str]:
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
    yield from _pod_fields(where, pod_spec, kind)
    claim_templates = (
        _list(_dict(body.get("spec")).get("volumeClaimTemplates")) if kind == "StatefulSet" else []
    )
    volumes, problems = _volumes(where, pod_spec, claim_templates)
    yield from problems
    yield from _containers(where, pod_spec, volumes, gates, skip)


def _pod_fields(where: str, pod_spec: dict[str, Any], kind: str) -> Iterator[str]:
    restart = pod_spec.get("restartPolicy")
    yield from _enum(f"{where}.restartPolicy", restart, POD_RESTART_POLICIES)
    if kind in _SELECTOR_WORKLOADS and restart not in (None, "Always"):
        yield f"{where}.restartPolicy: {restart!r} is not supported for a {kind} (only Always)"
    if kind in ("Job", "CronJob") and restart == "Always":
        yield f"{where}.restartPolicy: 'Always' is not supported for a {kind} (OnFailure or Never)"
    yield from _enum(f"{where}.dnsPolicy", pod_spec.get("dnsPolicy"), DNS_POLICIES)
    deadline = pod_spec.get("activeDeadlineSeconds")  # ValidatePodSpec: 1..MaxInt32
    if _is_int(deadline) and not 1 <= deadline <= INT32_MAX:
        yield f"{where}.activeDeadlineSeconds: {deadline} is outside 1..{INT32_MAX}"


def _volumes(
    where: str, pod_spec: dict[str, Any], claim_templates: list[Any]
) -> tuple[set[str], list[str]]:
    """The names a volumeMount may use, and the problems of the pod's volumes. A StatefulSet's
    volumeClaimTemplates are volumes too: the API server adds one per template to the pod
    template before validating it, replacing a pod volume of the same name
    (pkg/apis/apps/validation: volumesToAddForTemplates)."""
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
    for template in claim_templates:
        name = _dict(_dict(template).get("metadata")).get("name")
        if isinstance(name, str):
            names.add(name)
    return names, problems


def _containers(
    where: str,
    pod_spec: dict[str, Any],
    volumes: set[str],
    gates: FeatureGates,
    skip: frozenset[str],
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
            image = container.get("image")
            if image is None or image == "":  # validateContainerCommon; optional in the schema
                yield f"{path}.image: required (every container needs an image)"
            yield from _container_enums(path, container)
            yield from _restart_policy(path, container, field, gates)
            yield from _ports(path, container)
            yield from _env(path, container, gates)
            yield from _mounts(path, container, volumes)
            plain_init = field == "initContainers" and container.get("restartPolicy") != "Always"
            if plain_init and container.get("lifecycle") is not None:
                yield (
                    f"{path}.lifecycle: may not be set for init containers without "
                    "restartPolicy Always"
                )
            if CHECK_PROBE_HANDLERS not in skip:
                yield from _probes(path, container, plain_init)


def _container_enums(path: str, container: dict[str, Any]) -> Iterator[str]:
    yield from _enum(f"{path}.imagePullPolicy", container.get("imagePullPolicy"), PULL_POLICIES)
    yield from _enum(
        f"{path}.terminationMessagePolicy",
        container.get("terminationMessagePolicy"),
        ("File", "FallbackToLogsOnError"),
    )


def _restart_policy(
    path: str, container: dict[str, Any], field: str, gates: FeatureGates
) -> Iterator[str]:
    """A container's own restartPolicy and restartPolicyRules, as the target version has them.

    With ContainerRestartRules (beta, on by default from 1.35) every container may set
    Always, OnFailure or Never, with rules (validateContainerRestartPolicy). In 1.34 (the gate
    exists, off) a value the gate governs is dropped before validation: an init container's
    OnFailure/Never and any app container's policy (pkg/api/pod/util.go
    dropContainerRestartRules), so the object is admitted without it. Before 1.34 only an init
    container may set it, and only to Always (a native sidecar, KEP-753)."""
    policy, rules = container.get("restartPolicy"), container.get("restartPolicyRules")
    if field == "ephemeralContainers":
        return  # not part of a pod template a manifest creates
    if gates.enabled("ContainerRestartRules"):
        yield from _enum(f"{path}.restartPolicy", policy, CONTAINER_RESTART_POLICIES)
        yield from _restart_rules(path, policy, rules, field, gates)
    elif gates.exists("ContainerRestartRules"):
        return
    elif field == "initContainers" and policy is not None and policy != "Always":
        yield (
            f"{path}.restartPolicy: {policy!r} is not supported (only Always before 1.34; "
            "OnFailure and Never need ContainerRestartRules, on by default from 1.35)"
        )
    elif field == "containers" and policy is not None:
        yield f"{path}.restartPolicy: may not be set for non-init containers"


def _restart_rules(
    path: str, policy: Any, rules: Any, field: str, gates: FeatureGates
) -> Iterator[str]:
    """validateContainerRestartPolicy / validateInitContainerRestartPolicy."""
    if not isinstance(rules, list) or not rules:
        return
    if policy is None:
        yield f"{path}.restartPolicy: must specify restartPolicy when restart rules are used"
    restart_all = gates.enabled("RestartAllContainersOnContainerExits")
    if field == "initContainers" and policy == "Always" and not restart_all:
        yield (
            f"{path}.restartPolicyRules: restartPolicyRules are not allowed for init containers "
            "with restart policy Always"
        )
        return
    if len(rules) > MAX_RESTART_RULES:
        yield f"{path}.restartPolicyRules: {len(rules)} rules, more than {MAX_RESTART_RULES}"
    actions = (
        (*RESTART_RULE_ACTIONS, "RestartAllContainers") if restart_all else RESTART_RULE_ACTIONS
    )
    for index, rule in enumerate(rules):
        where = f"{path}.restartPolicyRules[{index}]"
        rule = _dict(rule)
        yield from _enum(f"{where}.action", rule.get("action"), actions)
        exit_codes = rule.get("exitCodes")
        if not isinstance(exit_codes, dict):
            yield f"{where}.exitCodes: must be specified"
            continue
        yield from _enum(
            f"{where}.exitCodes.operator", exit_codes.get("operator"), RESTART_RULE_OPERATORS
        )
        values = _list(exit_codes.get("values"))
        if len(values) > MAX_RESTART_RULE_EXIT_CODES:
            yield f"{where}.exitCodes.values: more than {MAX_RESTART_RULE_EXIT_CODES} values"


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
    if _is_int(value) and not low <= value <= 65535:
        yield f"{where}: {value} is outside {low}..65535"


def _env(path: str, container: dict[str, Any], gates: FeatureGates) -> Iterator[str]:
    """ValidateEnv and validateEnvVarValueFrom: a name the version accepts, and ``valueFrom``
    with exactly one source and no ``value`` next to it."""
    relaxed = gates.enabled("RelaxedEnvironmentVariableValidation")
    for index, variable in enumerate(_list(container.get("env"))):
        if not isinstance(variable, dict):
            continue
        where = f"{path}.env[{index}]"
        name = variable.get("name")
        if isinstance(name, str) and name:
            problem = _relaxed_env_name_problem(name) if relaxed else _env_name_problem(name)
            if problem:
                yield f"{where}.name: {name!r} {problem}"
        value_from = variable.get("valueFrom")
        if not isinstance(value_from, dict):
            continue
        sources = [s for s in ENV_SOURCES if value_from.get(s) is not None]
        if not sources:
            yield f"{where}.valueFrom: must specify one of {', '.join(ENV_SOURCES)}"
        elif variable.get("value"):
            yield f"{where}.valueFrom: may not be specified when value is not empty"
        elif len(sources) > 1:
            yield f"{where}.valueFrom: may not have more than one source ({', '.join(sources)})"


def _env_name_problem(name: str) -> str | None:
    """IsEnvVarName: letters, digits, '_', '-', '.', not starting with a digit, not '.'/'..'."""
    if not ENV_VAR_NAME.match(name):
        return (
            "is not a valid environment variable name (letters, digits, '_', '-' or '.', not "
            "starting with a digit; any printable ASCII but '=' with "
            "RelaxedEnvironmentVariableValidation, on by default from 1.32)"
        )
    if name in (".", "..") or name.startswith(".."):
        return "must not be '.' or start with '..'"
    return None


def _relaxed_env_name_problem(name: str) -> str | None:
    """IsRelaxedEnvVarName: printable ASCII other than '='."""
    if any(not " " <= char <= "~" or char == "=" for char in name):
        return "must consist only of printable ASCII characters other than '='"
    return None


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
    for index, device in enumerate(_list(container.get("volumeDevices"))):
        name = _dict(device).get("name")
        if isinstance(name, str) and name not in volumes:
            where = f"{path}.volumeDevices[{index}].name"
            yield f"{where}: volume {name!r} is not defined in the pod's volumes"


def _probes(path: str, container: dict[str, Any], plain_init: bool) -> Iterator[str]:
    """validateLivenessProbe/ReadinessProbe/StartupProbe and validateProbe; an init container
    that is not a sidecar may have no probes (validateInitContainers)."""
    for probe_kind in PROBE_KINDS:
        probe = container.get(probe_kind)
        if not isinstance(probe, dict):
            continue
        where = f"{path}.{probe_kind}"
        if plain_init:
            yield f"{where}: may not be set for init containers without restartPolicy Always"
            continue
        handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
        if not handlers:
            yield f"{where}: must specify a handler type (one of {', '.join(PROBE_HANDLERS)})"
        elif len(handlers) > 1:
            found = ", ".join(handlers)
            yield f"{where}: may not specify more than 1 handler type ({found})"
        yield from _probe_numbers(where, probe_kind, probe)


def _probe_numbers(where: str, probe_kind: str, probe: dict[str, Any]) -> Iterator[str]:
    for field in PROBE_COUNTS:
        yield from _non_negative(f"{where}.{field}", probe.get(field))
    success = probe.get("successThreshold")  # 0 is defaulted to 1
    if probe_kind != "readinessProbe" and _is_int(success) and success > 1:
        yield f"{where}.successThreshold: {success} must be 1"
    grace = probe.get("terminationGracePeriodSeconds")
    if probe_kind == "readinessProbe" and grace is not None:
        yield f"{where}.terminationGracePeriodSeconds: must not be set for readinessProbes"
    elif _is_int(grace) and grace <= 0:
        yield f"{where}.terminationGracePeriodSeconds: {grace} must be greater than 0"


# --- Service, PDB ---------------------------------------------------------------------


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
        # 0 and "" are defaulted to the port before validation (pkg/apis/core/v1/defaults.go
        # SetDefaults_Service), so they are valid.
        if isinstance(target, str) and target:
            yield from _port_name(f"{where}.targetPort", target)
        elif target != 0:
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
        else:
            yield from _non_negative(f"spec.{field}", value)
    yield from _selector("spec.selector", spec.get("selector"))


# --- HorizontalPodAutoscaler --------------------------------------------------------------


def hpa_problems(spec: Mapping[str, Any], gates: FeatureGates) -> list[str]:
    """validateHorizontalPodAutoscalerSpec (pkg/apis/autoscaling/validation): replica bounds,
    metric types and behavior ranges. ``hpa-bounds`` reports the same list in ``check``."""
    problems = list(_hpa_replicas(spec, gates))
    metrics = [m for m in _list(spec.get("metrics")) if isinstance(m, dict)]
    for index, metric in enumerate(metrics):
        problems += _enum(f"spec.metrics[{index}].type", metric.get("type"), HPA_METRIC_TYPES)
    minimum = spec.get("minReplicas")
    if minimum == 0 and not any(m.get("type") in ("Object", "External") for m in metrics):
        problems.append(
            "spec.metrics: minReplicas 0 needs at least one Object or External metric "
            "(scaling to zero)"
        )
    behavior = _dict(spec.get("behavior"))
    for direction in ("scaleUp", "scaleDown"):
        rules = behavior.get(direction)
        if isinstance(rules, dict):
            problems += _scaling_rules(f"spec.behavior.{direction}", rules)
    return problems


def _hpa_replicas(spec: Mapping[str, Any], gates: FeatureGates) -> Iterator[str]:
    """minReplicas >= 1 (>= 0 with HPAScaleToZero, alpha, off in every version: the registry's
    MinReplicasLowerBound), maxReplicas >= 1 and >= minReplicas (minReplicas defaults to 1)."""
    minimum, maximum = spec.get("minReplicas"), spec.get("maxReplicas")
    lower = 0 if gates.enabled("HPAScaleToZero") else 1
    if _is_int(minimum) and minimum < lower:
        gate = "" if lower == 0 else " (0 only with the HPAScaleToZero feature gate, alpha)"
        yield f"spec.minReplicas: {minimum} must be greater than or equal to {lower}{gate}"
    if _is_int(maximum) and maximum < 1:
        yield f"spec.maxReplicas: {maximum} must be greater than or equal to 1"
    elif _is_int(maximum) and _is_int(minimum) and maximum < minimum:
        yield f"spec.maxReplicas: {maximum} must be greater than or equal to minReplicas {minimum}"


def _scaling_rules(where: str, rules: dict[str, Any]) -> Iterator[str]:
    """validateScalingRules and validateScalingPolicy."""
    window = rules.get("stabilizationWindowSeconds")
    if _is_int(window) and not 0 <= window <= MAX_STABILIZATION_WINDOW_SECONDS:
        yield (
            f"{where}.stabilizationWindowSeconds: {window} is outside "
            f"0..{MAX_STABILIZATION_WINDOW_SECONDS}"
        )
    yield from _enum(f"{where}.selectPolicy", rules.get("selectPolicy"), HPA_SELECT_POLICIES)
    policies = rules.get("policies")
    if isinstance(policies, list) and not policies:
        yield f"{where}.policies: must specify at least one policy (or leave policies out)"
    for index, policy in enumerate(_list(policies)):
        if not isinstance(policy, dict):
            continue
        path = f"{where}.policies[{index}]"
        yield from _enum(f"{path}.type", policy.get("type"), HPA_POLICY_TYPES)
        value, period = policy.get("value"), policy.get("periodSeconds")
        if _is_int(value) and value <= 0:
            yield f"{path}.value: {value} must be greater than 0"
        if _is_int(period) and not 1 <= period <= MAX_PERIOD_SECONDS:
            yield f"{path}.periodSeconds: {period} is outside 1..{MAX_PERIOD_SECONDS}"
    # A policy without type, value or periodSeconds is the schema's (they are required).


# --- helpers ----------------------------------------------------------------------------


def _enum(where: str, value: Any, allowed: tuple[str, ...]) -> Iterator[str]:
    if value is not None and value not in allowed:
        yield f"{where}: {value!r} is not one of {', '.join(allowed)}"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _dig(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
