"""Run ``gitops check`` on a fixture repo and pick one rule's findings: shared by the rule tests."""

from __future__ import annotations

from pathlib import Path

from gitops.check import run_check
from gitops.config import load_config
from gitops.model import Finding
from gitops.workspace import Workspace


def check_findings(repo: Path, service: str | None = None) -> list[Finding]:
    return list(run_check(Workspace.open(repo, load_config(repo)), service=service).findings)


def findings_of(findings: list[Finding], rule_id: str) -> list[tuple[str, str]]:
    return sorted((f.resource, f.message) for f in findings if f.rule == rule_id)
