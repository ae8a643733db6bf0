"""What one ``gitops diff`` found: the changes, the findings, the notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops.diff.resources import ResourceChange
from gitops.diff.select import AffectedOverlay, SideRef
from gitops.model import Finding


@dataclass(frozen=True)
class DiffResult:
    base: SideRef
    head: SideRef
    rendered_base: tuple[str, ...]
    rendered_head: tuple[str, ...]
    changes: tuple[ResourceChange, ...]
    findings_added: tuple[Finding, ...]
    findings_fixed: tuple[Finding, ...]
    affected: tuple[AffectedOverlay, ...] = ()
    argocd_compared: bool = False
    notes: tuple[str, ...] = ()
    overlay_order: tuple[str, ...] = ()  # every overlay name, in env then service order
    # The overlays whose findings were compared: the changed ones and all they can reach.
    checked: tuple[str, ...] = ()
    # Per finding added or fixed, the changed overlay(s) that caused it ("argocd",
    # "gitops.yaml" when those changed); the overlay it lands in is its own env/service.
    caused_by: dict[Finding, tuple[str, ...]] = field(default_factory=dict, compare=False)
    # Parsed objects of each compared overlay (base, head): input to the Behaviour section.
    objects: dict[str, tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def has_differences(self) -> bool:
        return bool(self.changes or self.findings_added or self.findings_fixed)

    @property
    def broken_by_change(self) -> list[ResourceChange]:
        """The head side's render errors of overlays (argocd/ included) that rendered on the
        base side or did not exist there: the change breaks them (exit 1)."""
        base = {c.overlay for c in self.changes if c.action == "render-error" and c.side == "base"}
        return [
            c
            for c in self.changes
            if c.action == "render-error" and c.side == "head" and c.overlay not in base
        ]

    def causes(self, finding: Finding) -> tuple[str, ...]:
        return self.caused_by.get(finding, ())

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per (env, service) with anything to report, in overlay order."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}

        def row(env: str, service: str) -> dict[str, Any]:
            return rows.setdefault(
                (env, service),
                {
                    "env": env,
                    "service": service,
                    "added": 0,
                    "changed": 0,
                    "removed": 0,
                    "renderErrors": 0,
                    "findingsAdded": 0,
                    "findingsFixed": 0,
                },
            )

        for change in self.changes:
            bucket = "renderErrors" if change.action == "render-error" else change.action
            row(change.env, change.service)[bucket] += 1
        for finding in self.findings_added:
            row(finding.env, finding.service)["findingsAdded"] += 1
        for finding in self.findings_fixed:
            row(finding.env, finding.service)["findingsFixed"] += 1
        order = {name: i for i, name in enumerate(self.overlay_order)}
        return sorted(
            rows.values(),
            key=lambda r: (
                order.get(f"{r['env']}/{r['service']}", len(order)),
                r["env"],
                r["service"],
            ),
        )
