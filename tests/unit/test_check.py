"""The check pipeline end to end: render failures, schema findings with their source and patches,
severity per env, exit codes and the CLI formats."""

from __future__ import annotations

import json

import pytest

from gitops.check import run_check
from gitops.cli import main
from gitops.config import load_config
from tests.conftest import FIXTURES

REPO = FIXTURES / "check-pipeline"


def _findings(rule: str) -> list[tuple[str, str, str]]:
    report = run_check(REPO, load_config(REPO))
    return [(f.env, str(f.severity), f.message) for f in report.findings if f.rule == rule]


def test_a_broken_overlay_is_a_render_failed_finding_and_the_others_are_still_checked() -> None:
    report = run_check(REPO, load_config(REPO))
    failed = [f for f in report.findings if f.rule == "render-failed"]
    assert [(f.env, f.service, f.source) for f in failed] == [
        ("dev", "broken", "overlays/dev/broken")
    ]
    assert "resource 'missing.yaml'" in failed[0].message
    assert {f.env for f in report.findings if f.rule == "image-tag-mutable"} == {"dev", "prod"}
    assert report.rendered == ("dev/api", "dev/broken", "prod/api")


def test_severity_is_configurable_per_env() -> None:
    assert sorted((env, severity) for env, severity, _ in _findings("image-tag-mutable")) == [
        ("dev", "warning"),
        ("prod", "error"),
    ]


def test_cli_json_schema_finding_names_source_and_patch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--repo", str(REPO), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    schema = [f for f in document["findings"] if f["rule"] == "schema"]
    assert schema == [
        {
            "rule": "schema",
            "severity": "error",
            "env": "dev",
            "service": "api",
            "resource": "apps/v1/Deployment/shop/api",
            "message": "spec.replica: unknown field",
            "source": "base/api/deployment.yaml",
            "patches": ["overlays/dev/api/typo.yaml"],
        }
    ]
    assert document["summary"]["overlays"] == 3


def test_cli_service_selection_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--repo", str(REPO), "--env", "prod"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("prod/api\n")
    assert "image-tag-mutable  Deployment/api:" in out
    assert "dev/" not in out


def test_cli_unknown_kubernetes_version_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--repo", str(REPO), "--k8s-version", "1.9"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_cli_github_and_sarif_outputs(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--repo", str(REPO), "--env", "prod", "--format", "github"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(
        "::error file=base/api/deployment.yaml,line=1,title=image-tag-mutable::"
    )
    assert main(["check", "--repo", str(REPO), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    results = sarif["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "base/api/deployment.yaml" in uris and "overlays/dev/broken" in uris
