"""``gitops check`` findings of each side: which the change added or fixed, where they land."""

from __future__ import annotations

from collections.abc import Iterable

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


def lands_in(finding: Finding) -> str:
    """The overlay a finding is about (``env/service``), ``argocd`` or ``""`` (the repository)."""
    if finding.env:
        return f"{finding.env}/{finding.service}"
    return finding.service


def landing_namespaces(snapshot: Snapshot) -> dict[str, frozenset[str]]:
    """Per overlay (``env/service``) the namespaces its objects land in: their own, else the
    destination of the Application that syncs the overlay."""
    destinations: dict[str, str] = {}
    if snapshot.argocd is not None:
        for app in snapshot.argocd.applications:
            namespace = str(app.destination.get("namespace") or "")
            destinations.setdefault(app.path, namespace)
            destinations.setdefault(f"{app.path}@{app.name}", namespace)  # a chart source
    found: dict[str, set[str]] = {}
    for resource in snapshot.resources:
        namespace = resource.namespace or destinations.get(resource.overlay_path, "")
        found.setdefault(f"{resource.env}/{resource.service}", set()).add(namespace)
    return {name: frozenset(spaces) for name, spaces in found.items()}
