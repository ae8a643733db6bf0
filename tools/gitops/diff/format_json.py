"""The ``--format json`` report."""

from __future__ import annotations

import json

from gitops.diff.result import DiffResult


def format_json(result: DiffResult) -> str:
    document = {
        "base": {"ref": result.base.label, "sha": result.base.sha},
        "head": {"ref": result.head.label, "sha": result.head.sha},
        "rendered": {"base": list(result.rendered_base), "head": list(result.rendered_head)},
        "changes": [c.to_json() for c in result.changes],
        "findings": {
            "added": [f.to_json() for f in result.findings_added],
            "fixed": [f.to_json() for f in result.findings_fixed],
        },
        "summary": result.summary_rows(),
        "affected": [{"overlay": a.name, "reason": a.reason} for a in result.affected],
        "argocdCompared": result.argocd_compared,
        "notes": list(result.notes),
    }
    return json.dumps(document, indent=2) + "\n"
