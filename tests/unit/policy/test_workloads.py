"""The workload rules (probes, resources, images, security context) on fixture mini-repos.

Each fixture holds a failing overlay (``web`` and friends) and a correct one (``api``); the exact
findings of each rule on its fixture are in the fixture's expected.yaml
(tests/unit/test_fixture_tables.py). The tests here call the rules directly on documents the
fixtures cannot express.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from gitops.config import load_config
from gitops.model import Resource, ResourceKey, Severity
from gitops.policy import CheckContext, all_rules, get_rule, run_rule
from gitops.policy.workloads import (
    image_reference_invalid,
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

DEPLOYMENT_WEB = "apps/v1/Deployment/demo/web"


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
    image_reference_invalid,
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


def test_an_image_the_kubelet_cannot_parse_is_reported_with_the_reason() -> None:
    def pod(*images: str) -> dict[str, Any]:
        containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
        spec = {"containers": containers, "initContainers": [{"name": "i", "image": "A/B"}]}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

    body = pod("ghcr.io/Org/web:1.0", "Registry.Example.com:5000/org/web:1.0", "web:-1")
    ctx = _context(body)
    messages = [hit.message for hit in image_reference_invalid(ctx, ctx.resources[0])]
    assert messages == [
        'container c0: image "ghcr.io/Org/web:1.0" cannot be pulled: repository name (Org/web) '
        "must be lowercase (the kubelet refuses it with InvalidImageName)",
        'container c2: image "web:-1" cannot be pulled: not a valid image reference '
        "([host[:port]/]path[:tag][@digest]) (the kubelet refuses it with InvalidImageName)",
        'init container i: image "A/B" cannot be pulled: repository name (B) must be lowercase '
        "(the kubelet refuses it with InvalidImageName)",
    ]
