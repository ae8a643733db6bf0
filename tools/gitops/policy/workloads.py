"""Rules about the pods every workload runs: probes, resources, images and security context.

Every rule walks each pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob
through its jobTemplate, and bare Pods) and yields one hit per container and field, naming the
container, the field and the expected value:

    container web: readinessProbe port "metrics" is not declared by the container (declared: http)
    init container setup: securityContext.allowPrivilegeEscalation is unset (expected false)

Documents may be schema-invalid: whatever cannot be interpreted is skipped (the ``schema`` rule
reports it), never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from gitops.k8s import is_sidecar, spec_containers
from gitops.k8s.images import reference_problem
from gitops.k8s_math import PROBE_DEFAULTS, probe_timings
from gitops.model import Resource, Severity
from gitops.policy.engine import (
    WORKLOAD_KINDS,
    CheckContext,
    Hit,
    field_path,
    pod_spec,
    pod_template,
    rule,
)
from gitops.quantity import parse_quantity

POD_KINDS = (*WORKLOAD_KINDS, "Pod")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))

# Pod Security Standard "restricted", Kubernetes 1.33 (k8s.io/pod-security-admission/policy).
RESTRICTED_VOLUME_TYPES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
# IANA_SVC_NAME, what the API requires of a named port (validation.IsValidPortName).
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)$")


@dataclass(frozen=True)
class _Container:
    """One container of a pod spec, with the name messages use for it."""

    body: dict[str, Any]
    init: bool
    sidecar: bool  # an init container with restartPolicy Always: it runs beside the app

    @property
    def name(self) -> str:
        return str(self.body.get("name") or "?")

    @property
    def label(self) -> str:
        return f"{'init container' if self.init else 'container'} {self.name}"

    @property
    def security_context(self) -> dict[str, Any]:
        return _dict(self.body.get("securityContext"))

    def probe(self, kind: str) -> dict[str, Any] | None:
        probe = self.body.get(kind)
        return probe if isinstance(probe, dict) else None

    def port_names(self) -> list[str]:
        return [
            str(p["name"])
            for p in _list(self.body.get("ports"))
            if isinstance(p, dict) and p.get("name")
        ]

    def port_number(self, port: object) -> object:
        """A probe port as a number when the container declares the name (for comparisons)."""
        for declared in _list(self.body.get("ports")):
            if isinstance(declared, dict) and port and declared.get("name") == port:
                return declared.get("containerPort", port)
        return port


# --- probes -------------------------------------------------------------------------------


@rule(
    "probe-missing",
    kinds=POD_KINDS,
    remediation=(
        "Add a readinessProbe and a livenessProbe (different thresholds) to each app container "
        "behind a Service."
    ),
)
def probe_missing(ctx: CheckContext) -> Iterator[Hit]:
    """A container whose pod a Service routes to lacks a readinessProbe or a livenessProbe.

    Without readiness a pod receives traffic the moment its process starts, and keeps receiving it
    while it is wedged: every rollout and every hang becomes user-visible errors. Without liveness
    a deadlocked process is never restarted. Only app containers of pods selected by a Service
    (same env and namespace, non-empty selector) need both; Jobs and queue workers are not
    routed to and need none. A startupProbe only delays the other two and replaces neither.
    """
    for workload in _pod_workloads(ctx):
        routing = sorted(s.name for s in ctx.relations.services_selecting(workload))
        if not routing:
            continue
        routed_by = (
            f"Service {routing[0]} routes"
            if len(routing) == 1
            else f"Services {', '.join(routing)} route"
        )
        for container in _containers(workload):
            if container.init:
                continue
            for kind in ("readinessProbe", "livenessProbe"):
                if container.probe(kind) is None:
                    yield Hit(
                        f"{container.label}: no {kind}, but {routed_by} to this pod (expected a "
                        "readinessProbe and a livenessProbe)",
                        workload,
                    )


@rule(
    "probe-port-unknown",
    kinds=POD_KINDS,
    remediation="Declare the port name in the container's ports[].name, or use the port number.",
)
def probe_port_unknown(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A probe uses a named port that its container does not declare in ``ports[].name``.

    The API server accepts it, but the kubelet cannot resolve the name: the probe errors on every
    run and its result is discarded. Readiness never turns Ready (the rollout hangs and the pod
    never gets traffic) and liveness never fires (a hung process is never restarted). Numeric
    ports are always resolvable and are not checked here.
    """
    for container in _containers(workload):
        declared = container.port_names()
        for kind in PROBES:
            probe = container.probe(kind)
            if probe is None:
                continue
            for handler in ("httpGet", "tcpSocket"):
                port = _dict(probe.get(handler)).get("port")
                if not isinstance(port, str) or port.isdigit() or port in declared:
                    continue
                yield Hit(
                    f'{container.label}: {kind} port "{port}" is not declared by the '
                    f"container (declared: {', '.join(declared) or 'none'})",
                    workload,
                )


@rule(
    "probe-invalid",
    kinds=POD_KINDS,
    remediation=(
        "Fix the probe as the message says (one handler, valid port and thresholds; no probes on "
        "plain init containers)."
    ),
)
def probe_invalid(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A probe the API server rejects or that can never work.

    Checked: exactly one handler (exec, httpGet, tcpSocket, grpc); exec with a command; ports in
    1..65535 and valid port names (grpc takes numbers only); no negative timings (0 means the
    kubelet default, so it is accepted); successThreshold 1 on liveness and startup probes;
    probe-level terminationGracePeriodSeconds > 0 and never on a readiness probe; no probes on
    plain init containers. A rejected pod template fails the whole sync; a probe without a
    handler never passes. ``timeoutSeconds >= periodSeconds`` is deliberately NOT reported: the
    API accepts it and the probe works (the kubelet skips ticks while a probe runs). When the
    upstream validator judges (gitops.upstream), the API server's own verdicts are ``schema-api``
    findings and this rule reports nothing.
    """
    if ctx.api_judged_upstream:
        return
    for container in _containers(workload, init=True):
        for kind in PROBES:
            probe = container.probe(kind)
            if probe is None:
                continue
            for problem in _probe_problems(container, kind, probe):
                yield Hit(f"{container.label}: {kind} {problem}", workload)


@rule(
    "probe-identical",
    Severity.WARNING,
    kinds=POD_KINDS,
    remediation=(
        "Let liveness tolerate more than readiness: a higher failureThreshold or periodSeconds, or"
        " a cheaper check."
    ),
)
def probe_identical(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A container's livenessProbe and readinessProbe are identical (same check, same timing).

    Readiness should take a pod out of the Service when it (or a dependency) is slow; liveness
    should restart it only when the process itself is stuck. When both are the same probe, the
    first slow dependency or GC pause that fails readiness also fails liveness at the same moment:
    every pod restarts at once instead of briefly leaving the Service. Compared after kubelet
    defaults and with named ports resolved; give liveness a larger failure budget at least.
    """
    for container in _containers(workload):
        liveness = container.probe("livenessProbe")
        readiness = container.probe("readinessProbe")
        if liveness is None or readiness is None:
            continue
        normalized = _normalized_probe(container, liveness, "livenessProbe")
        if normalized is not None and normalized == _normalized_probe(
            container, readiness, "readinessProbe"
        ):
            yield Hit(
                f"{container.label}: livenessProbe and readinessProbe are identical "
                f"({_describe_probe(normalized)}); expected liveness to tolerate more "
                "(higher failureThreshold or periodSeconds) so a slow dependency only "
                "removes the pod from the Service instead of restarting it",
                workload,
            )


# --- resources and images -----------------------------------------------------------------


@rule(
    "resources-missing",
    kinds=POD_KINDS,
    remediation=(
        "Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on "
        "every container."
    ),
)
def resources_missing(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A container (init containers included) lacks a cpu or memory request, or a memory limit.

    Requests are what the scheduler packs nodes by and what HPA utilization is computed against:
    without a cpu request the HPA cannot scale at all, and a pod without requests is BestEffort,
    first to be evicted under node pressure. Without a memory limit one leaking pod can push the
    whole node into OOM. A cpu limit is optional (it only throttles; some teams avoid it). We
    require explicit requests even when limits are set (the API would default requests to the
    limits, which silently reserves the maximum).
    """
    for container in _containers(workload, init=True):
        resources = _dict(container.body.get("resources"))
        for section, name in REQUIRED_RESOURCES:
            if _dict(resources.get(section)).get(name) in (None, ""):
                yield Hit(
                    f"{container.label}: no resources.{section}.{name} (expected cpu and "
                    "memory requests and a memory limit)",
                    workload,
                )


@rule(
    "requests-exceed-limits",
    kinds=POD_KINDS,
    remediation="Lower the request to at most the limit (or raise the limit).",
)
def requests_exceed_limits(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A container requests more of a resource than its limit allows.

    The API server rejects the pod template ("must be less than or equal to ... limit"), so the
    ReplicaSet never creates pods and the sync fails; usually an overlay patch lowered only the
    limit. Quantities are compared exactly (``500m`` < ``1``, ``1Gi`` > ``1G``).
    """
    for container in _containers(workload, init=True):
        resources = _dict(container.body.get("resources"))
        requests = _dict(resources.get("requests"))
        limits = _dict(resources.get("limits"))
        for name in sorted(set(requests) & set(limits), key=str):
            try:
                exceeds = parse_quantity(requests[name]) > parse_quantity(limits[name])
            except ValueError:
                continue  # not a quantity: the schema rule reports it
            if exceeds:
                yield Hit(
                    f"{container.label}: resources.requests.{name} {requests[name]} is "
                    f"greater than resources.limits.{name} {limits[name]} (expected "
                    "request <= limit)",
                    workload,
                )


@rule(
    "image-tag-mutable",
    kinds=POD_KINDS,
    remediation="Pin the image to a version tag or a digest (gitops release set-image does it).",
)
def image_tag_mutable(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A container image has no tag or the tag ``latest``.

    Such a reference moves: two nodes run different code under the same manifest, a restart
    silently upgrades (or downgrades) the pod, and a rollback to "the previous version" rolls
    back nothing. Git then no longer describes what runs. Pin a version tag (promoted env by env)
    or a ``@sha256:`` digest. A registry port (``registry:5000/app``) is not a tag.
    """
    for container in _containers(workload, init=True):
        image = container.body.get("image")
        if not isinstance(image, str) or not image.strip() or "@" in image:
            continue
        tag = _image_tag(image.strip())
        where = field_path(workload, container.body, "image")
        if tag is None:
            yield Hit(
                f'{container.label}: image "{image}" has no tag, so it means :latest '
                "(expected a version tag or an @sha256: digest)",
                workload,
                field=where,
            )
        elif tag == "latest":
            yield Hit(
                f'{container.label}: image "{image}" uses the mutable tag "latest" '
                "(expected a version tag or an @sha256: digest)",
                workload,
                field=where,
            )


@rule(
    "image-reference-invalid",
    kinds=POD_KINDS,
    remediation=(
        "Write the image reference in lower case (registry host excepted): "
        "[host[:port]/]path[:tag][@digest]."
    ),
)
def image_reference_invalid(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A container image reference the kubelet cannot parse (upper-case letters in the path).

    The API server accepts any non-empty image string, so the sync succeeds; then every node
    refuses the reference and the pod waits in ``InvalidImageName`` forever, without pulling
    anything. The usual cause is an upper-case letter in the repository path
    (``registry.example.com/Team/web``): only the registry host may have them. Parsed as the
    kubelet parses it (github.com/distribution/reference ParseNormalizedNamed).
    """
    for container in _containers(workload, init=True):
        image = container.body.get("image")
        if not isinstance(image, str) or not image.strip():
            continue
        problem = reference_problem(image.strip())
        if problem is not None:
            yield Hit(
                f'{container.label}: image "{image}" cannot be pulled: {problem} (the kubelet '
                "refuses it with InvalidImageName)",
                workload,
            )


# --- security context ---------------------------------------------------------------------


@rule(
    "security-context",
    kinds=POD_KINDS,
    remediation=(
        "Set the securityContext fields the message names (runAsNonRoot, seccompProfile "
        "RuntimeDefault, drop ALL capabilities, no privilege escalation, readOnlyRootFilesystem)."
    ),
)
def security_context(ctx: CheckContext, workload: Resource) -> Iterator[Hit]:
    """A pod violates the restricted Pod Security Standard (1.33) or runs a writable root fs.

    The namespaces enforce ``pod-security.kubernetes.io/enforce: restricted``: a violating pod
    template is accepted by the API, but its controller's pods are refused at creation, so the
    Deployment silently sits at 0 ready replicas (the error is only in the ReplicaSet's events).
    Checked: runAsNonRoot, runAsUser 0, allowPrivilegeEscalation false, capabilities (drop ALL,
    add only NET_BIND_SERVICE), seccomp RuntimeDefault/Localhost, privileged, host namespaces,
    hostPorts, volume types, sysctls, SELinux, AppArmor, procMount, hostProcess; plus our house
    rule readOnlyRootFilesystem true, so an exploited process cannot persist anything.
    """
    spec = pod_spec(workload)
    for problem in _pod_security_problems(workload, spec):
        yield Hit(problem, workload)
    for container in _containers(workload, init=True):
        for problem in _container_security_problems(container, spec):
            yield Hit(f"{container.label}: {problem}", workload)


# --- helpers ------------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod_workloads(ctx: CheckContext) -> list[Resource]:
    return ctx.of_kind(*POD_KINDS)


def _pod_annotations(workload: Resource) -> dict[str, Any]:
    return _dict(_dict(pod_template(workload).get("metadata")).get("annotations"))


def _containers(workload: Resource, init: bool = False) -> list[_Container]:
    """App containers; with ``init``, init containers too. Sidecars (init containers with
    restartPolicy Always) are always included: they run for the pod's whole life."""
    spec = pod_spec(workload)
    found = [_Container(c, init=False, sidecar=False) for c in spec_containers(spec)]
    for body in spec_containers(spec, ("initContainers",)):
        sidecar = is_sidecar(body)
        if init or sidecar:
            found.append(_Container(body, init=True, sidecar=sidecar))
    return found


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _probe_problems(container: _Container, kind: str, probe: dict[str, Any]) -> Iterator[str]:
    if container.init and not container.sidecar:
        yield (
            "is set on an init container without restartPolicy Always (the API rejects "
            "it; expected no probes on init containers)"
        )
    handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
    if not handlers:
        yield f"has no handler (expected exactly one of {', '.join(PROBE_HANDLERS)})"
    elif len(handlers) > 1:
        yield (
            f"has {len(handlers)} handlers ({', '.join(handlers)}); expected exactly one "
            f"of {', '.join(PROBE_HANDLERS)}"
        )
    yield from _handler_problems(handlers, probe)
    yield from _timing_problems(kind, probe)


def _handler_problems(handlers: list[str], probe: dict[str, Any]) -> Iterator[str]:
    """An exec probe without a command; a network probe whose port is unset or invalid."""
    if "exec" in handlers and not _list(_dict(probe.get("exec")).get("command")):
        yield "exec.command is empty (expected the command to run)"
    for handler in ("httpGet", "tcpSocket", "grpc"):
        if handler in handlers:
            problem = _port_problem(handler, _dict(probe.get(handler)).get("port"))
            if problem:
                yield problem


def _timing_problems(kind: str, probe: dict[str, Any]) -> Iterator[str]:
    """Negative timings, a success threshold other than 1 (outside readiness), and a
    termination grace period the API rejects."""
    for field, default in PROBE_DEFAULTS.items():
        value = probe.get(field)
        if _is_int(value) and value < 0:
            yield (f"{field} is {value} (expected >= 0; unset or 0 means the default {default})")
    success = probe.get("successThreshold")
    if kind != "readinessProbe" and _is_int(success) and success not in (0, 1):
        yield (
            f"successThreshold is {success} (expected 1: the API rejects any other value "
            f"for a {kind})"
        )
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None and kind == "readinessProbe":
        yield (
            "sets terminationGracePeriodSeconds (expected unset: the API rejects it on "
            "readiness probes)"
        )
    elif _is_int(grace) and grace <= 0:
        yield f"terminationGracePeriodSeconds is {grace} (expected > 0)"


def _port_problem(handler: str, port: object) -> str | None:
    if port is None:
        return f"{handler}.port is unset (expected a port number or name)"
    if _is_int(port):
        if not 1 <= port <= 65535:
            return f"{handler}.port is {port} (expected 1..65535)"
        return None
    if handler == "grpc":
        return f'grpc.port is "{port}" (expected a number: gRPC probes take no port names)'
    if isinstance(port, str) and (len(port) > 15 or not _PORT_NAME.match(port)):
        return (
            f'{handler}.port "{port}" is not a valid port name (expected a number, or a '
            "name of at most 15 lowercase letters, digits and '-', with a letter)"
        )
    return None


def _normalized_probe(
    container: _Container, probe: dict[str, Any], kind: str
) -> dict[str, Any] | None:
    """The probe as the kubelet runs it: one handler with defaults, timings with defaults."""
    handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    action = _dict(probe.get(handler))
    normalized: dict[str, Any]
    if handler == "exec":
        normalized = {"command": _list(action.get("command"))}
    elif handler == "httpGet":
        headers = [h for h in _list(action.get("httpHeaders")) if isinstance(h, dict)]
        normalized = {
            "path": action.get("path") or "/",
            "port": container.port_number(action.get("port")),
            "host": action.get("host") or "",
            "scheme": str(action.get("scheme") or "HTTP").upper(),
            "httpHeaders": sorted((str(h.get("name")), str(h.get("value"))) for h in headers),
        }
    elif handler == "tcpSocket":
        normalized = {
            "port": container.port_number(action.get("port")),
            "host": action.get("host") or "",
        }
    else:
        normalized = {"port": action.get("port"), "service": action.get("service") or ""}
    timings = probe_timings(probe)
    if kind == "livenessProbe":
        timings["successThreshold"] = 1  # the only value the API accepts
    return {"handler": handler, "action": normalized, "timings": timings}


def _describe_probe(normalized: dict[str, Any]) -> str:
    action = normalized["action"]
    timings = normalized["timings"]
    if normalized["handler"] == "httpGet":
        check = f"httpGet {action['path']} on port {action['port']}"
    elif normalized["handler"] == "exec":
        check = f"exec {' '.join(str(part) for part in action['command'])}"
    else:
        check = f"{normalized['handler']} on port {action['port']}"
    return (
        f"{check}, periodSeconds {timings['periodSeconds']}, timeoutSeconds "
        f"{timings['timeoutSeconds']}, failureThreshold {timings['failureThreshold']}"
    )


def _image_tag(image: str) -> str | None:
    """The tag of an image reference without digest; a ``host:port/`` prefix is no tag."""
    last_segment = image.rsplit("/", 1)[-1]
    if ":" not in last_segment:
        return None
    return last_segment.rsplit(":", 1)[1]


def _pod_security_problems(workload: Resource, spec: dict[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"pod: spec.{field} is true (expected false or unset)"
    yield from (f"pod: {p}" for p in _pod_context_problems(_dict(spec.get("securityContext"))))
    yield from _pod_volume_problems(spec)
    yield from _pod_apparmor_annotation_problems(workload)


def _pod_context_problems(context: dict[str, Any]) -> Iterator[str]:
    """The pod-level securityContext against the restricted profile."""
    if context.get("runAsNonRoot") is False:
        yield "securityContext.runAsNonRoot is false (expected true)"
    if _is_int(context.get("runAsUser")) and context.get("runAsUser") == 0:
        yield "securityContext.runAsUser is 0 (expected a non-zero uid)"
    seccomp = context.get("seccompProfile")
    if isinstance(seccomp, dict) and seccomp.get("type") not in SECCOMP_TYPES:
        yield (
            f"securityContext.seccompProfile.type is {seccomp.get('type')} (expected "
            "RuntimeDefault or Localhost)"
        )
    yield from _selinux_apparmor_problems(context)
    if _dict(context.get("windowsOptions")).get("hostProcess") is True:
        yield "securityContext.windowsOptions.hostProcess is true (expected false or unset)"
    for sysctl in _list(context.get("sysctls")):
        name = _dict(sysctl).get("name")
        if name is not None and name not in SAFE_SYSCTLS:
            yield (
                f"securityContext.sysctls sets {name} (expected only the safe "
                "namespaced sysctls of the restricted profile)"
            )


def _pod_volume_problems(spec: dict[str, Any]) -> Iterator[str]:
    for volume in _list(spec.get("volumes")):
        if not isinstance(volume, dict):
            continue
        # A volume with no source at all is defaulted to emptyDir by the API.
        sources = [key for key in volume if key != "name"]
        bad = [str(key) for key in sources if key not in RESTRICTED_VOLUME_TYPES]
        if bad:
            yield (
                f"pod: volume {volume.get('name')} uses {', '.join(bad)} (expected one of "
                f"{', '.join(RESTRICTED_VOLUME_TYPES)})"
            )


def _pod_apparmor_annotation_problems(workload: Resource) -> Iterator[str]:
    for key, value in _pod_annotations(workload).items():
        if (
            str(key).startswith(APPARMOR_ANNOTATION)
            and value not in ("", "runtime/default")
            and not str(value).startswith("localhost/")
        ):
            yield (
                f"pod: annotation {key} is {value} (expected runtime/default or "
                "localhost/<profile>)"
            )


def _selinux_apparmor_problems(context: dict[str, Any]) -> Iterator[str]:
    selinux = _dict(context.get("seLinuxOptions"))
    if (selinux.get("type") or "") not in SELINUX_TYPES:
        yield (
            f"securityContext.seLinuxOptions.type is {selinux.get('type')} (expected unset, "
            "container_t, container_init_t, container_kvm_t or container_engine_t)"
        )
    for field in ("user", "role"):
        if selinux.get(field):
            yield f"securityContext.seLinuxOptions.{field} is set (expected unset)"
    apparmor = context.get("appArmorProfile")
    if isinstance(apparmor, dict) and apparmor.get("type") not in ("RuntimeDefault", "Localhost"):
        yield (
            f"securityContext.appArmorProfile.type is {apparmor.get('type')} (expected "
            "RuntimeDefault, Localhost or unset)"
        )


def _container_security_problems(container: _Container, spec: dict[str, Any]) -> Iterator[str]:
    context = container.security_context
    pod_context = _dict(spec.get("securityContext"))
    # Linux-only fields the restricted profile exempts Windows pods from (PSA since 1.25).
    linux = _dict(spec.get("os")).get("name") != "windows"
    yield from _container_privilege_problems(context, pod_context, linux)
    yield from _container_profile_problems(context, pod_context, linux)
    for port in _list(container.body.get("ports")):
        host_port = _dict(port).get("hostPort")
        if _is_int(host_port) and host_port != 0:
            name = _dict(port).get("name") or _dict(port).get("containerPort")
            yield f"ports[{name}].hostPort is {host_port} (expected unset or 0)"


def _container_privilege_problems(
    context: dict[str, Any], pod_context: dict[str, Any], linux: bool
) -> Iterator[str]:
    """Who the container runs as and what it may do: root, privileged, escalation, caps."""
    if context.get("runAsNonRoot") is False:
        yield "securityContext.runAsNonRoot is false (expected true)"
    elif context.get("runAsNonRoot") is None and pod_context.get("runAsNonRoot") is not True:
        yield (
            "securityContext.runAsNonRoot is unset and the pod does not set it (expected "
            "true on the pod or the container)"
        )
    if _is_int(context.get("runAsUser")) and context.get("runAsUser") == 0:
        yield "securityContext.runAsUser is 0 (expected a non-zero uid)"
    if context.get("privileged") is True:
        yield "securityContext.privileged is true (expected false or unset)"
    if linux and context.get("allowPrivilegeEscalation") is not False:
        yield (
            f"securityContext.allowPrivilegeEscalation is "
            f"{_shown(context.get('allowPrivilegeEscalation'))} (expected false)"
        )
    if linux:
        capabilities = _dict(context.get("capabilities"))
        if "ALL" not in _list(capabilities.get("drop")):
            yield 'securityContext.capabilities.drop does not include "ALL" (expected [ALL])'
        added = [str(c) for c in _list(capabilities.get("add")) if c != "NET_BIND_SERVICE"]
        if added:
            yield (
                f"securityContext.capabilities.add has {', '.join(added)} (expected only "
                "NET_BIND_SERVICE)"
            )


def _container_profile_problems(
    context: dict[str, Any], pod_context: dict[str, Any], linux: bool
) -> Iterator[str]:
    """The confinement of the container: seccomp, SELinux, AppArmor, procMount, root fs."""
    seccomp = context.get("seccompProfile")
    pod_seccomp = pod_context.get("seccompProfile")
    if linux and isinstance(seccomp, dict):
        if seccomp.get("type") not in SECCOMP_TYPES:
            yield (
                f"securityContext.seccompProfile.type is {seccomp.get('type')} (expected "
                "RuntimeDefault or Localhost)"
            )
    elif linux and not (isinstance(pod_seccomp, dict) and pod_seccomp.get("type") in SECCOMP_TYPES):
        yield (
            "securityContext.seccompProfile is unset and the pod sets no valid one (expected "
            "type RuntimeDefault or Localhost on the pod or the container)"
        )
    yield from _selinux_apparmor_problems(context)
    if _dict(context.get("windowsOptions")).get("hostProcess") is True:
        yield "securityContext.windowsOptions.hostProcess is true (expected false or unset)"
    if context.get("procMount") not in (None, "Default"):
        yield f"securityContext.procMount is {context.get('procMount')} (expected Default)"
    if linux and context.get("readOnlyRootFilesystem") is not True:
        yield (
            f"securityContext.readOnlyRootFilesystem is "
            f"{_shown(context.get('readOnlyRootFilesystem'))} (expected true; mount an "
            "emptyDir for paths the process writes)"
        )


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    return str(value).lower() if isinstance(value, bool) else str(value)
