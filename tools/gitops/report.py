"""Render a :class:`~gitops.check.CheckReport` for people and for machines.

Formats: ``text`` (grouped by env/service, coloured on a terminal), ``json``, ``sarif``
(2.1.0, locations on the source file so GitHub annotates the right file), ``junit`` (one suite
per overlay) and ``github`` (workflow ``::error``/``::warning`` commands).

    >>> print(format_report(report, "text"))
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gitops import __version__
from gitops.check import CheckReport
from gitops.model import Finding, Location, Severity

FORMATS = ("text", "json", "sarif", "junit", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_RED, _YELLOW, _BOLD, _DIM, _RESET = "\033[31m", "\033[33m", "\033[1m", "\033[2m", "\033[0m"


def format_report(
    report: CheckReport, fmt: str, repo: Path | None = None, color: bool | None = None
) -> str:
    if fmt == "text":
        if color is None:
            color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        return format_text(report, color)
    if fmt == "json":
        return format_json(report)
    if fmt == "sarif":
        return format_sarif(report, repo)
    if fmt == "junit":
        return format_junit(report)
    if fmt == "github":
        return format_github(report, repo)
    raise ValueError(f"unknown format {fmt!r}")


def _group(findings: tuple[Finding, ...]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        label = "/".join(p for p in (finding.env, finding.service) if p) or "repository"
        groups[label].append(finding)
    return groups


def format_text(report: CheckReport, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines = [paint(f"note: {note}", _DIM) for note in report.notes]
    if lines:
        lines.append("")
    for label, findings in _group(report.findings).items():
        lines.append(paint(label, _BOLD))
        for finding in findings:
            severity = paint(
                f"{finding.severity!s:7}", _RED if finding.severity is Severity.ERROR else _YELLOW
            )
            subject = _short_resource(finding.resource)
            subject = f"{subject}: " if subject else ""
            lines.append(f"  {severity} {finding.rule}  {subject}{finding.message}")
            where = _where(finding)
            if where:
                lines.append(paint(f"          at {where}", _DIM))
        lines.append("")
    summary = report.summary()
    judged = f" ({report.judge})" if report.judge else ""
    lines.append(
        f"{summary['overlays']} overlays checked against Kubernetes {report.kubernetes_version}"
        f"{judged}: "
        f"{summary['errors']} error(s), {summary['warnings']} warning(s), "
        f"{summary['waived']} waived"
    )
    return "\n".join(lines) + "\n"


def _where(finding: Finding) -> str:
    """``file:line`` of the value the finding is about, then where the resource was defined
    and patched when that is elsewhere."""
    location = finding.location
    first = f"{location.path}:{location.line}" if location else finding.source or ""
    rest = []
    resource = finding.resource
    if resource and finding.source and location is not None and finding.source != location.path:
        rest.append(f"defined in {finding.source}")
    if finding.patches:
        rest.append(f"patched by {', '.join(finding.patches)}")
    return first + (f" ({'; '.join(rest)})" if rest else "")


def _short_resource(resource: str) -> str:
    """ "apps/v1/Deployment/integration/web" -> "Deployment/web"."""
    parts = resource.split("/")
    return f"{parts[-3]}/{parts[-1]}" if len(parts) >= 4 else resource


def format_json(report: CheckReport) -> str:
    document = {
        "findings": [f.to_json() for f in report.findings],
        "waived": [{**f.to_json(), "waiver": reason} for f, reason in report.waived],
        "rendered": list(report.rendered),
        "notes": list(report.notes),
        "summary": report.summary(),
    }
    return json.dumps(document, indent=2) + "\n"


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def format_sarif(report: CheckReport, repo: Path | None = None) -> str:
    rules = [
        {
            "id": r.id,
            "name": "".join(part.capitalize() for part in r.id.split("-")),
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": " ".join(r.doc.split())},
            "help": {"text": " ".join(r.doc.split())},
            "defaultConfiguration": {"level": _level(r.severity)},
        }
        for r in report.rules
    ]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": _level(finding.severity),
            "message": {"text": _sarif_message(finding)},
            "partialFingerprints": {
                "gitopsFinding/v1": f"{finding.rule}:{finding.env}:{finding.service}:"
                f"{finding.resource}"
            },
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        # GitHub annotates the location: an existing file of the repository and the line that
        # set the value (gitops.locate); a finding about no file has none.
        if finding.location is not None:
            result["locations"] = [_location(finding.location)]
        if finding.related:
            result["relatedLocations"] = [
                {**_location(where), "id": i, "message": {"text": "also shapes this resource"}}
                for i, where in enumerate(finding.related)
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitops",
                        "version": __version__,
                        "informationUri": "https://github.com/example-org/integration-gitops",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}}
                if repo is None
                else {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _sarif_message(finding: Finding) -> str:
    scope = "/".join(p for p in (finding.env, finding.service) if p)
    subject = _short_resource(finding.resource)
    prefix = f"[{scope}] " if scope else ""
    return f"{prefix}{subject + ': ' if subject else ''}{finding.message}"


def _location(where: Location) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": where.path, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": where.line},
        }
    }


def format_junit(report: CheckReport) -> str:
    by_overlay = _group(report.findings)
    suites = []
    labels = list(report.rendered) + [k for k in by_overlay if k not in report.rendered]
    for label in labels:
        findings = by_overlay.get(label, [])
        cases = []
        for finding in findings:
            name = f"{finding.rule} {_short_resource(finding.resource)}".strip()
            tag = "failure" if finding.severity is Severity.ERROR else "system-out"
            body = escape(f"{finding.message}\nsource: {finding.source or '-'}")
            if tag == "failure":
                cases.append(
                    f"    <testcase classname={quoteattr(label)} name={quoteattr(name)}>"
                    f"<failure type={quoteattr(finding.rule)} message={quoteattr(finding.message)}>"
                    f"{body}</failure></testcase>"
                )
            else:
                cases.append(
                    f"    <testcase classname={quoteattr(label)} name={quoteattr(name)}>"
                    f"<system-out>warning: {body}</system-out></testcase>"
                )
        if not findings:
            cases.append(f'    <testcase classname={quoteattr(label)} name="policy"/>')
        failures = sum(f.severity is Severity.ERROR for f in findings)
        suites.append(
            f'  <testsuite name={quoteattr(label)} tests="{len(cases)}" '
            f'failures="{failures}" errors="0">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    total = sum(max(len(by_overlay.get(label, [])), 1) for label in labels)
    failures = sum(f.severity is Severity.ERROR for f in report.findings)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="gitops check" tests="{total}" failures="{failures}">\n'
        + "\n".join(suites)
        + "\n</testsuites>\n"
    )


def _gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_property(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: CheckReport, repo: Path | None = None) -> str:
    lines = []
    for finding in report.findings:
        command = "error" if finding.severity is Severity.ERROR else "warning"
        props = []
        if finding.location is not None:
            props.append(f"file={_gh_escape_property(finding.location.path)}")
            props.append(f"line={finding.location.line}")
        props.append(f"title={_gh_escape_property(finding.rule)}")
        lines.append(f"::{command} {','.join(props)}::{_gh_escape_data(_sarif_message(finding))}")
    summary = report.summary()
    lines.append(
        f"gitops check: {summary['errors']} error(s), {summary['warnings']} warning(s) "
        f"in {summary['overlays']} overlays"
    )
    return "\n".join(lines) + "\n"
