"""``gitops check`` findings of each side, and which the change added or fixed."""

from __future__ import annotations

from collections.abc import Iterable

from gitops.model import Finding


def _finding_identity(finding: Finding) -> tuple[str, ...]:
    # source/patches are where a finding points, not what it is: they may move with a refactor.
    return (
        finding.env,
        finding.service,
        finding.rule,
        finding.resource,
        finding.message,
        str(finding.severity),
    )


def compare_findings(
    base: Iterable[Finding], head: Iterable[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """(added by the change, fixed by the change)."""
    base_ids = {_finding_identity(f): f for f in base}
    head_ids = {_finding_identity(f): f for f in head}
    added = [f for i, f in head_ids.items() if i not in base_ids]
    fixed = [f for i, f in base_ids.items() if i not in head_ids]
    return sorted(added), sorted(fixed)
