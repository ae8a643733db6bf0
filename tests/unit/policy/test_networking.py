"""Networking rules on fixture mini-repos rendered by the real kustomize."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.check import run_check
from gitops.config import load_config
from tests.conftest import FIXTURES


def _findings(scenario: str, rule_id: str, service: str | None = None) -> list[tuple[str, str]]:
    repo = FIXTURES / scenario
    report = run_check(repo, load_config(repo), service=service)
    return sorted((f.resource, f.message) for f in report.findings if f.rule == rule_id)


def test_service_selector_unmatched_flags_the_typo_only() -> None:
    assert _findings("service-selector-unmatched", "service-selector-unmatched") == [
        (
            "v1/Service/demo/web-typo",
            "selector app=wbe matches no pod template in namespace demo of env dev "
            "(pod templates: Deployment/web (app=web))",
        )
    ]


def test_service_target_port_unknown_named_and_numeric() -> None:
    # Service web: targetPort http (declared) and 8080 defaulted from port (declared): fine.
    assert _findings("service-target-port-unknown", "service-target-port-unknown") == [
        (
            "v1/Service/demo/web-bad",
            "port legacy (80): targetPort 80 is not a containerPort of Deployment/web "
            "(declared: http=8080)",
        ),
        (
            "v1/Service/demo/web-bad",
            "port metrics (9090): targetPort 'metrics' is not declared by the containers of "
            "Deployment/web (declared: http=8080)",
        ),
    ]


def test_ingress_backend_unknown_across_overlays_of_the_env() -> None:
    # defaultBackend web:80 and path / -> web:http resolve to the Service in overlays/dev/web.
    ingress = "networking.k8s.io/v1/Ingress/demo/shared"
    assert _findings("ingress-backend-unknown", "ingress-backend-unknown") == [
        (
            ingress,
            "rule web.example.test path /api: backend Service api does not exist in namespace "
            "demo of env dev (Services: web)",
        ),
        (
            ingress,
            "rule web.example.test path /direct: Service web does not expose port 8080 "
            "(ports: http=80)",
        ),
        (
            ingress,
            "rule web.example.test path /grpc: Service web has no port named 'grpc' "
            "(ports: http=80)",
        ),
    ]


def test_ingress_backend_not_judged_when_sibling_overlays_were_not_rendered() -> None:
    # Checking only the shared overlay: the Services live in an overlay that was not rendered.
    assert _findings("ingress-backend-unknown", "ingress-backend-unknown", service="shared") == []


def test_servicemonitor_port_unknown() -> None:
    # ServiceMonitor web (port http, targetPort http, targetPort 8080) is correct.
    assert _findings("servicemonitor-port-unknown", "servicemonitor-port-unknown") == [
        (
            "monitoring.coreos.com/v1/ServiceMonitor/demo/web-no-service",
            "selector app.kubernetes.io/name=web matches no Service in namespace demo of env "
            "dev: nothing is scraped",
        ),
        (
            "monitoring.coreos.com/v1/ServiceMonitor/demo/web-wrong-ports",
            "endpoints[0]: port 'metrics' is not a named port of the selected Services "
            "(Service/web; port names: http)",
        ),
        (
            "monitoring.coreos.com/v1/ServiceMonitor/demo/web-wrong-ports",
            "endpoints[1]: targetPort 9090 is not declared by the pods behind Service/web "
            "(declared: http=8080)",
        ),
    ]


def test_servicemonitor_namespace_selector(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("servicemonitor-port-unknown")
    (repo / "overlays/dev/web/servicemonitor.yaml").write_text(
        """apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web-elsewhere
spec:
  namespaceSelector:
    matchNames: [monitoring]
  selector:
    matchLabels:
      app: web
  endpoints:
    - port: http
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web-any
spec:
  namespaceSelector:
    any: true
  selector:
    matchLabels:
      app: web
  endpoints:
    - port: http
"""
    )
    report = run_check(repo, load_config(repo))
    assert [
        (f.resource, f.message) for f in report.findings if f.rule == "servicemonitor-port-unknown"
    ] == [
        (
            "monitoring.coreos.com/v1/ServiceMonitor/demo/web-elsewhere",
            "selector app=web matches no Service in namespace monitoring of env dev: "
            "nothing is scraped",
        )
    ]
