"""Report formats: what a terminal, a SARIF upload, a JUnit viewer and GitHub annotations see."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

from gitops.check import CheckReport
from gitops.model import Finding, Location, Severity
from gitops.policy import all_rules
from gitops.report import format_report
from tests.conftest import FIXTURES

REPO = FIXTURES / "source-tracing"
FINDINGS = (
    Finding(
        env="prod",
        service="web",
        rule="render-failed",
        resource="",
        message="resource 'x.yaml' does not exist",
        severity=Severity.ERROR,
        source="overlays/prod/web",
        location=Location("overlays/prod/web/kustomization.yaml", 1),
    ),
    Finding(
        env="prod",
        service="web",
        rule="waiver-unused",
        resource="v1/Service/shop/web",
        message="port 80, with a comma: and 100% of it\nsecond line",
        severity=Severity.WARNING,
        source="base/web/service.yaml",
        patches=("overlays/prod/web/service-port.yaml",),
        location=Location("overlays/prod/web/service-port.yaml", 7),
        related=(Location("base/web/service.yaml", 2),),
    ),
)
NO_FILE = Finding(
    env="prod",
    service="api",
    rule="argocd-path-missing",
    resource="",
    message="overlays/prod/api: no kustomization.yaml in this overlay directory",
    source="overlays/prod/api",
)


def _report(findings: tuple[Finding, ...] = FINDINGS) -> CheckReport:
    return CheckReport(
        findings=findings,
        waived=(),
        rendered=("prod/web", "prod/api"),
        kubernetes_version="1.33",
        rules=tuple(all_rules()),
    )


def test_text_groups_by_overlay_and_names_source_and_patches() -> None:
    text = format_report(_report(), "text", REPO, color=False)
    lines = text.splitlines()
    assert lines[0] == "prod/web"
    assert lines[1].split()[:2] == ["error", "render-failed"]
    assert lines[2].strip() == "at overlays/prod/web/kustomization.yaml:1"
    assert "Service/web: port 80" in text
    assert (
        "at overlays/prod/web/service-port.yaml:7 (defined in base/web/service.yaml; "
        "patched by overlays/prod/web/service-port.yaml)"
    ) in text
    assert lines[-1] == (
        "2 overlays checked against Kubernetes 1.33: 1 error(s), 1 warning(s), 0 waived"
    )
    assert "\033[" not in text
    assert "\033[31m" in format_report(_report(), "text", REPO, color=True)


def test_notes_head_the_text_report_and_are_listed_in_json() -> None:
    notes = ("env order assumed from the env names (no envs in gitops.yaml): dev -> prod",)
    report = dataclasses.replace(_report(), notes=notes)
    lines = format_report(report, "text", REPO, color=False).splitlines()
    assert lines[:3] == [f"note: {notes[0]}", "", "prod/web"]
    assert json.loads(format_report(report, "json", REPO))["notes"] == list(notes)


def test_json_has_the_documented_shape() -> None:
    document = json.loads(format_report(_report(), "json", REPO))
    assert set(document) >= {"findings", "summary"}
    assert document["findings"][1] == {
        "rule": "waiver-unused",
        "severity": "warning",
        "env": "prod",
        "service": "web",
        "resource": "v1/Service/shop/web",
        "message": "port 80, with a comma: and 100% of it\nsecond line",
        "source": "base/web/service.yaml",
        "patches": ["overlays/prod/web/service-port.yaml"],
        "location": {"path": "overlays/prod/web/service-port.yaml", "line": 7},
    }
    assert document["summary"]["errors"] == 1 and document["summary"]["warnings"] == 1


def test_sarif_points_at_the_line_that_caused_the_finding() -> None:
    document = json.loads(format_report(_report(), "sarif", REPO))
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "render-failed" in rule_ids and "schema" in rule_ids
    result = run["results"][1]
    assert result["ruleId"] == "waiver-unused" and result["level"] == "warning"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "overlays/prod/web/service-port.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"]["startLine"] == 7
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "base/web/service.yaml"
    assert related["physicalLocation"]["region"]["startLine"] == 2
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "waiver-unused"


def test_a_finding_about_no_file_has_no_location() -> None:
    """A SARIF uri and a GitHub file= are always existing files: an overlay folder without a
    kustomization is shown without one rather than as a path that is not a file."""
    report = _report((NO_FILE,))
    (result,) = json.loads(format_report(report, "sarif", REPO))["runs"][0]["results"]
    assert "locations" not in result
    assert json.loads(format_report(report, "json", REPO))["findings"][0]["location"] is None
    assert format_report(report, "github", REPO).startswith("::error title=argocd-path-missing::")


def test_junit_one_suite_per_overlay_failures_for_errors() -> None:
    root = ET.fromstring(format_report(_report(), "junit", REPO))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"prod/web", "prod/api"}
    assert suites["prod/web"].get("failures") == "1"
    assert suites["prod/api"].get("failures") == "0"
    failure = suites["prod/web"].find("testcase/failure")
    assert failure is not None and failure.get("type") == "render-failed"


def test_github_annotations_escape_properties_and_data() -> None:
    lines = format_report(_report(), "github", REPO).splitlines()
    assert lines[0].startswith(
        "::error file=overlays/prod/web/kustomization.yaml,line=1,title=render-failed::"
    )
    assert lines[1].startswith(
        "::warning file=overlays/prod/web/service-port.yaml,line=7,title=waiver-unused::"
    )
    assert "100%25 of it%0Asecond line" in lines[1]
    assert lines[-1] == "gitops check: 1 error(s), 1 warning(s) in 2 overlays"
