"""The ``--format json`` report."""

from __future__ import annotations

import json
from typing import Any

from gitops.diff.findings import lands_in
from gitops.diff.result import DiffResult
from gitops.model import Finding


def format_json(result: DiffResult) -> str:
    document = {
        "base": {"ref": result.base.label, "sha": result.base.sha},
        "head": {"ref": result.head.label, "sha": result.head.sha},
        "rendered": {"base": list(result.rendered_base), "head": list(result.rendered_head)},
        "checked": list(result.checked),
        "changes": [c.to_json() for c in result.changes],
        "findings": {
            "added": [_finding(result, f) for f in result.findings_added],
            "fixed": [_finding(result, f) for f in result.findings_fixed],
        },
        "summary": result.summary_rows(),
        "affected": [{"overlay": a.name, "reason": a.reason} for a in result.affected],
        "argocdCompared": result.argocd_compared,
        "notes": list(result.notes),
    }
    return json.dumps(document, indent=2) + "\n"


def _finding(result: DiffResult, finding: Finding) -> dict[str, Any]:
    """A check finding, with the overlay it lands in and the changed overlay(s) behind it."""
    return {
        **finding.to_json(),
        "overlay": lands_in(finding),
        "causedBy": list(result.causes(finding)),
    }
