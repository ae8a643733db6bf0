"""``gitops check`` findings of each side, and which the change added or fixed."""

from __future__ import annotations

from collections.abc import Iterable

from gitops.diff.select import SideState
from gitops.errors import GitopsError
from gitops.model import Finding
from gitops.snapshot import Snapshot


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


def check_services(side: SideState, services: Iterable[str]) -> list[str | None]:
    """The services whose ``gitops check`` findings are compared: every env of each (rules may
    compare envs with each other, so a one-env change is checked against its siblings); one
    ``None`` when that is every service (Argo CD is then checked once, not per service)."""
    all_services = {o.service for o in side.overlays.values()}
    present: list[str | None] = [*sorted(all_services & set(services))]
    if len(present) > 1 and len(present) == len(all_services):
        present = [None]
    return present


def side_findings(
    side: SideState, snapshot: Snapshot, present: list[str | None]
) -> tuple[list[Finding], list[str]]:
    """The check findings of each of ``present`` out of one snapshot (nothing is rendered
    here); a check that cannot run becomes a note."""
    from gitops.check import check_snapshot
    from gitops.render import select_overlays

    findings: list[Finding] = []
    notes: list[str] = []
    for service in present:
        try:
            # An unknown service is reported as `gitops check --service` reports it.
            select_overlays(snapshot.discovery, snapshot.workspace.config, None, service)
            report = check_snapshot(snapshot, None, service, copy_bodies=len(present) > 1)
        except GitopsError as exc:
            scope = service or "all services"
            notes.append(f"{side.name}: findings for {scope} could not be computed: {exc}")
            continue
        findings.extend(report.findings)
    return findings, notes
