"""The workload rules (probes, resources, images, security context) on fixture mini-repos.

Each fixture holds a failing overlay (``web`` and friends) and a correct one (``api``): the tests
assert the exact findings of the rule on the first and none on the second, with the real
kustomize. Findings of other modules' rules on the same fixtures are ignored.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from typing import Any

import pytest

from gitops.check import run_check
from gitops.config import load_config
from gitops.model import Finding, Resource, ResourceKey, Severity
from gitops.policy import CheckContext, all_rules, get_rule, run_rule
from gitops.policy.workloads import (
    image_tag_mutable,
    probe_identical,
    probe_invalid,
    probe_missing,
    probe_port_unknown,
    requests_exceed_limits,
    resources_missing,
    security_context,
)
from gitops.quantity import parse_quantity
from tests.conftest import FIXTURES


@cache
def _findings(scenario: str) -> tuple[Finding, ...]:
    repo = FIXTURES / scenario
    return run_check(repo, load_config(repo)).findings


def _of_rule(scenario: str, rule_id: str) -> set[tuple[str, str, str]]:
    """(overlay, resource, message) of every finding of one rule."""
    return {
        (f"{f.env}/{f.service}", f.resource, f.message)
        for f in _findings(scenario)
        if f.rule == rule_id
    }


DEPLOYMENT_WEB = "apps/v1/Deployment/demo/web"


def test_probe_missing_only_for_pods_a_service_routes_to() -> None:
    expected_suffix = "routes to this pod (expected a readinessProbe and a livenessProbe)"
    assert _of_rule("probe-missing-behind-service", "probe-missing") == {
        # A startupProbe replaces neither probe.
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f"container web: no readinessProbe, but Service web {expected_suffix}",
        ),
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f"container web: no livenessProbe, but Service web {expected_suffix}",
        ),
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f"container proxy: no livenessProbe, but Service web {expected_suffix}",
        ),
        # A bare Pod in another overlay of the same env and namespace, labelled app: web.
        (
            "dev/debug",
            "v1/Pod/demo/debug",
            f"container shell: no readinessProbe, but Service web {expected_suffix}",
        ),
        (
            "dev/debug",
            "v1/Pod/demo/debug",
            f"container shell: no livenessProbe, but Service web {expected_suffix}",
        ),
    }
    # Not reported: the worker Deployment and the CronJob (no Service selects them: an empty
    # selector selects nothing, a selector with an extra label is no subset), and api (both probes).


def test_probe_missing_severity_is_error() -> None:
    assert {
        f.severity for f in _findings("probe-missing-behind-service") if f.rule == "probe-missing"
    } == {Severity.ERROR}


def test_probe_port_unknown_names_the_port_and_the_declared_ones() -> None:
    assert _of_rule("probe-port-unknown", "probe-port-unknown") == {
        (
            "dev/web",
            DEPLOYMENT_WEB,
            'container web: readinessProbe port "metrics" is not declared by the container '
            "(declared: http)",
        ),
        (
            "dev/web",
            "apps/v1/DaemonSet/demo/agent",
            'container agent: livenessProbe port "admin" is not declared by the container '
            "(declared: none)",
        ),
    }
    # Not reported: the numeric startupProbe port, the declared liveness port, overlay api.


def test_probe_invalid_reports_what_the_api_rejects() -> None:
    assert _of_rule("probe-invalid", "probe-invalid") == {
        ("dev/web", DEPLOYMENT_WEB, message)
        for message in (
            "init container migrate: readinessProbe is set on an init container without "
            "restartPolicy Always (the API rejects it; expected no probes on init containers)",
            "container web: livenessProbe has 2 handlers (exec, httpGet); expected exactly one "
            "of exec, httpGet, tcpSocket, grpc",
            "container web: livenessProbe successThreshold is 2 (expected 1: the API rejects "
            "any other value for a livenessProbe)",
            "container web: readinessProbe periodSeconds is -5 (expected >= 0; unset or 0 means "
            "the default 10)",
            "container web: readinessProbe sets terminationGracePeriodSeconds (expected unset: "
            "the API rejects it on readiness probes)",
            "container web: startupProbe has no handler (expected exactly one of exec, httpGet, "
            "tcpSocket, grpc)",
            'container rpc: livenessProbe grpc.port is "grpc" (expected a number: gRPC probes '
            "take no port names)",
            "container rpc: livenessProbe terminationGracePeriodSeconds is 0 (expected > 0)",
            "container rpc: readinessProbe tcpSocket.port is 70000 (expected 1..65535)",
        )
    }
    # Overlay api is valid: periodSeconds 0 (the default), timeoutSeconds 10 >= periodSeconds 5,
    # readiness successThreshold 2, probes on a sidecar, a liveness grace period.


def test_probe_identical_compares_after_defaults_and_named_ports() -> None:
    findings = [f for f in _findings("probe-identical") if f.rule == "probe-identical"]
    assert [(f.env, f.service, f.resource, f.severity) for f in findings] == [
        ("dev", "web", DEPLOYMENT_WEB, Severity.WARNING)
    ]
    assert findings[0].message.startswith(
        "container web: livenessProbe and readinessProbe are identical (httpGet /health on port "
        "8080, periodSeconds 10, timeoutSeconds 1, failureThreshold 3); expected liveness to "
        "tolerate more"
    )


def test_resources_missing_requires_requests_and_a_memory_limit() -> None:
    expected = "(expected cpu and memory requests and a memory limit)"
    assert _of_rule("resources-missing", "resources-missing") == {
        ("dev/web", DEPLOYMENT_WEB, f"container web: no resources.requests.memory {expected}"),
        ("dev/web", DEPLOYMENT_WEB, f"init container setup: no resources.requests.cpu {expected}"),
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f"init container setup: no resources.requests.memory {expected}",
        ),
        ("dev/web", DEPLOYMENT_WEB, f"init container setup: no resources.limits.memory {expected}"),
        (
            "dev/web",
            "batch/v1/Job/demo/migrate",
            f"container migrate: no resources.limits.memory {expected}",
        ),
    }
    # Overlay api has no cpu limit: optional, not reported.


def test_requests_exceed_limits_after_an_overlay_patch() -> None:
    findings = [
        f
        for f in _findings("requests-exceed-limits-after-patch")
        if f.rule == "requests-exceed-limits"
    ]
    assert {(f.env, f.resource, f.message) for f in findings} == {
        (
            "dev",
            DEPLOYMENT_WEB,
            "container web: resources.requests.cpu 500m is greater than resources.limits.cpu 0.25 "
            "(expected request <= limit)",
        ),
        (
            "dev",
            DEPLOYMENT_WEB,
            "container web: resources.requests.ephemeral-storage 1Gi is greater than "
            "resources.limits.ephemeral-storage 1e9 (expected request <= limit)",
        ),
    }
    # memory 256Mi == "268435456" is allowed; prod (the base alone) is fine.
    assert {(f.source, f.patches) for f in findings} == {
        ("base/web/deployment.yaml", ("overlays/dev/web/resources.yaml",))
    }


def test_image_tag_mutable_without_tag_or_latest() -> None:
    expected = "(expected a version tag or an @sha256: digest)"
    assert _of_rule("image-tag-mutable", "image-tag-mutable") == {
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f'container web: image "registry.example.test:5000/web" has no tag, so it means '
            f":latest {expected}",
        ),
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f'container proxy: image "envoyproxy/envoy:latest" uses the mutable tag "latest" '
            f"{expected}",
        ),
        (
            "dev/web",
            DEPLOYMENT_WEB,
            f'init container setup: image "busybox" has no tag, so it means :latest {expected}',
        ),
        (
            "dev/web",
            "batch/v1/CronJob/demo/report",
            f'container report: image "ghcr.io/example-org/report:latest" uses the mutable tag '
            f'"latest" {expected}',
        ),
    }
    # Overlay api: a tag behind a registry port, a digest, a tag pinned by a digest.


def test_security_context_restricted_profile_one_finding_per_field() -> None:
    assert _of_rule("security-context-restricted", "security-context") == {
        ("dev/web", DEPLOYMENT_WEB, message)
        for message in (
            "pod: spec.hostNetwork is true (expected false or unset)",
            "pod: volume docker-sock uses hostPath (expected one of configMap, csi, "
            "downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)",
            "container web: securityContext.runAsNonRoot is unset and the pod does not set it "
            "(expected true on the pod or the container)",
            "container web: securityContext.runAsUser is 0 (expected a non-zero uid)",
            "container web: securityContext.privileged is true (expected false or unset)",
            "container web: securityContext.allowPrivilegeEscalation is unset (expected false)",
            'container web: securityContext.capabilities.drop does not include "ALL" '
            "(expected [ALL])",
            "container web: securityContext.capabilities.add has NET_ADMIN (expected only "
            "NET_BIND_SERVICE)",
            "container web: securityContext.seccompProfile is unset and the pod sets no valid "
            "one (expected type RuntimeDefault or Localhost on the pod or the container)",
            "container web: securityContext.readOnlyRootFilesystem is unset (expected true; "
            "mount an emptyDir for paths the process writes)",
            "container web: ports[http].hostPort is 8080 (expected unset or 0)",
            "init container setup: securityContext.allowPrivilegeEscalation is true "
            "(expected false)",
            "init container setup: securityContext.readOnlyRootFilesystem is false (expected "
            "true; mount an emptyDir for paths the process writes)",
        )
    }
    # The compliant StatefulSet api (seccomp Localhost per container, NET_BIND_SERVICE,
    # configMap/projected/default-emptyDir volumes) yields nothing.


# --- direct calls: documents the fixtures cannot express -----------------------------------


def _context(*bodies: dict[str, Any]) -> CheckContext:
    resources = []
    for body in bodies:
        metadata = body.get("metadata")
        name = metadata.get("name", "") if isinstance(metadata, dict) else ""
        key = ResourceKey(str(body.get("apiVersion", "")), str(body.get("kind", "")), "demo", name)
        resources.append(Resource("dev", "web", key, body))
    repo = FIXTURES / "render-ok"
    return CheckContext(repo=repo, config=load_config(repo), overlays=(), resources=resources)


ALL_RULES = (
    probe_missing,
    probe_port_unknown,
    probe_invalid,
    probe_identical,
    resources_missing,
    requests_exceed_limits,
    image_tag_mutable,
    security_context,
)


def _rule_id(func: object) -> str:
    return next(r.id for r in all_rules() if r.func is func)


def test_schema_invalid_documents_never_crash_the_rules() -> None:
    broken: list[dict[str, Any]] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": []},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "b"},
            "spec": {
                "template": {
                    "metadata": {"labels": ["x"]},
                    "spec": {
                        "containers": [
                            "web",
                            None,
                            {
                                "name": "c",
                                "ports": "http",
                                "resources": "big",
                                "securityContext": [],
                                "image": 3,
                                "livenessProbe": {"httpGet": "x", "periodSeconds": "a"},
                                "readinessProbe": {"exec": {"command": "ls"}},
                            },
                        ],
                        "initContainers": {"name": "x"},
                        "volumes": ["tmp", {"name": "v", "nfs": {}}],
                        "securityContext": {"sysctls": ["x"], "seLinuxOptions": "y"},
                    },
                }
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "c"},
            "spec": {"jobTemplate": None},
        },
        {"apiVersion": "v1", "kind": "Pod", "metadata": None, "spec": None},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {"selector": "app=web"},
        },
    ]
    ctx = _context(*broken)
    for rule_func in ALL_RULES:
        list(run_rule(ctx, get_rule(_rule_id(rule_func))))  # must not raise


def _deployment(container: dict[str, Any], **pod: Any) -> dict[str, Any]:
    spec = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "web", **container}],
        **pod,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}},
    }


def test_security_context_baseline_fields_of_the_restricted_profile() -> None:
    safe = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    ctx = _context(
        _deployment(
            {
                "securityContext": {
                    **safe,
                    "procMount": "Unmasked",
                    "seLinuxOptions": {"type": "spc_t", "user": "root"},
                    "appArmorProfile": {"type": "Unconfined"},
                }
            },
            hostPID=True,
            securityContext={
                "runAsNonRoot": True,
                "seccompProfile": {"type": "Unconfined"},
                "sysctls": [
                    {"name": "net.ipv4.tcp_syncookies", "value": "1"},
                    {"name": "kernel.msgmax", "value": "1"},
                ],
            },
        )
    )
    assert sorted(hit.message for hit in run_rule(ctx, get_rule("security-context"))) == [
        "container web: securityContext.appArmorProfile.type is Unconfined (expected "
        "RuntimeDefault, Localhost or unset)",
        "container web: securityContext.procMount is Unmasked (expected Default)",
        "container web: securityContext.seLinuxOptions.type is spc_t (expected unset, "
        "container_t, container_init_t, container_kvm_t or container_engine_t)",
        "container web: securityContext.seLinuxOptions.user is set (expected unset)",
        "container web: securityContext.seccompProfile is unset and the pod sets no valid one "
        "(expected type RuntimeDefault or Localhost on the pod or the container)",
        "pod: securityContext.seccompProfile.type is Unconfined (expected RuntimeDefault or "
        "Localhost)",
        "pod: securityContext.sysctls sets kernel.msgmax (expected only the safe namespaced "
        "sysctls of the restricted profile)",
        "pod: spec.hostPID is true (expected false or unset)",
    ]


def test_named_probe_port_resolves_for_the_identical_comparison_only_when_declared() -> None:
    probe = {"tcpSocket": {"port": "http"}}
    declared = _context(
        _deployment(
            {
                "ports": [{"name": "http", "containerPort": 8080}],
                "livenessProbe": probe,
                "readinessProbe": {"tcpSocket": {"port": 8080}},
            }
        )
    )
    assert len(list(run_rule(declared, get_rule("probe-identical")))) == 1
    other_port = _context(
        _deployment(
            {
                "ports": [{"name": "http", "containerPort": 8080}],
                "livenessProbe": probe,
                "readinessProbe": {"tcpSocket": {"port": 8081}},
            }
        )
    )
    assert list(run_rule(other_port, get_rule("probe-identical"))) == []


def test_every_rule_is_registered_with_its_severity_and_a_why() -> None:
    for rule_id in (
        "probe-missing",
        "probe-port-unknown",
        "probe-invalid",
        "resources-missing",
        "requests-exceed-limits",
        "image-tag-mutable",
        "security-context",
    ):
        assert get_rule(rule_id).severity is Severity.ERROR
    assert get_rule("probe-identical").severity is Severity.WARNING
    for rule_func in ALL_RULES:
        doc = (rule_func.__doc__ or "").strip().splitlines()
        assert doc[0].endswith(".") and len(doc) > 2, rule_func.__name__


# --- quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Fraction(1, 2)),
        ("1", Fraction(1)),
        ("0.25", Fraction(1, 4)),
        (".5", Fraction(1, 2)),
        ("1Ki", Fraction(1024)),
        ("1Gi", Fraction(1024**3)),
        ("1.5Gi", Fraction(3 * 1024**3, 2)),
        ("2Ei", Fraction(2 * 1024**6)),
        ("1k", Fraction(1000)),
        ("1M", Fraction(10**6)),
        ("1G", Fraction(10**9)),
        ("1E", Fraction(10**18)),  # exa, not an exponent
        ("1e3", Fraction(1000)),
        ("1E3", Fraction(1000)),
        ("5e-3", Fraction(5, 1000)),
        ("100u", Fraction(1, 10**4)),
        ("10n", Fraction(1, 10**8)),
        ("+3", Fraction(3)),
        ("-1m", Fraction(-1, 1000)),
        (2, Fraction(2)),
        (0.1, Fraction(1, 10)),
    ],
)
def test_parse_quantity(text: object, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text", ["", "Gi", "1GB", "1 Gi", "1e", "1KiB", "abc", "1.2.3", True, None, [1]]
)
def test_parse_quantity_rejects_what_is_no_quantity(text: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_quantities_compare_exactly() -> None:
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert parse_quantity("100m") * 10 == parse_quantity("1")
    assert parse_quantity("256Mi") == parse_quantity("268435456")


def test_probe_missing_names_every_service_routing_to_the_pod() -> None:
    def selecting(name: str, selector: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": selector},
        }

    ctx = _context(
        _deployment({"readinessProbe": {"tcpSocket": {"port": 8080}}}),
        selecting("web", {"app": "web"}),
        selecting("web-canary", {"app": "web"}),
        selecting("other", {"app": "other"}),
    )
    assert [hit.message for hit in probe_missing(ctx)] == [
        "container web: no livenessProbe, but Services web, web-canary route to this pod "
        "(expected a readinessProbe and a livenessProbe)"
    ]
