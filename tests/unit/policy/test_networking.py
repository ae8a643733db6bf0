"""Networking rules on fixture mini-repos rendered by the real kustomize.

Each rule's exact findings on its fixture are in tests/fixtures/<rule>/expected.yaml; these tests
cover the service selection and variations of the fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.fixturelib import check_fixture, check_repo, of_rule


def _findings(scenario: str, rule_id: str, service: str | None = None) -> list[tuple[str, str]]:
    findings = of_rule(check_fixture(scenario, service=service).findings, rule_id)
    return sorted((f.resource, f.message) for f in findings)


def test_ingress_backend_not_judged_when_sibling_overlays_were_not_rendered() -> None:
    # Checking only the shared overlay: the Services live in an overlay that was not rendered.
    assert _findings("ingress-backend-unknown", "ingress-backend-unknown", service="shared") == []


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
    report = check_repo(repo)
    assert [
        (f.resource, f.message) for f in report.findings if f.rule == "servicemonitor-port-unknown"
    ] == [
        (
            "monitoring.coreos.com/v1/ServiceMonitor/demo/web-elsewhere",
            "selector app=web matches no Service in namespace monitoring of env dev: "
            "nothing is scraped",
        )
    ]
