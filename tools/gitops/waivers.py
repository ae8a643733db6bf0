"""Waivers: documented, owned, expiring exceptions to policy findings.

``policy/waivers.yaml`` (path configurable as ``policy.waivers`` in gitops.yaml)::

    waivers:
      - rule: image-tag-mutable
        match: {env: dev, service: airbyte, kind: Deployment, name: "airbyte-*"}
        reason: upstream publishes only moving tags for this image
        owner: team-data
        expires: 2027-01-31

Every field but ``match`` is required; ``match`` keys are optional (absent = any) and ``name``
may be a glob. An expired waiver is an error finding (``waiver-expired``) and excuses nothing; a
waiver that matches nothing is a warning (``waiver-unused``).

A resource may also carry ``gitops.io/waive: rule-a,rule-b`` with ``gitops.io/waive-reason``;
without a reason the annotation is ignored and the finding says so.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.model import Finding, Resource, Severity
from gitops.policy import CheckContext, all_rules, get_rule

DEFAULT_WAIVERS_FILE = "policy/waivers.yaml"
WAIVE_ANNOTATION = "gitops.io/waive"
WAIVE_REASON_ANNOTATION = "gitops.io/waive-reason"
_MATCH_KEYS = frozenset({"env", "service", "kind", "name"})
_REQUIRED = ("rule", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    rule: str
    match: tuple[tuple[str, str], ...]
    reason: str
    owner: str
    expires: dt.date
    source: str  # "policy/waivers.yaml#3" (1-based entry number)

    def matches(self, finding: Finding, kind: str, name: str) -> bool:
        if finding.rule != self.rule:
            return False
        actual = {"env": finding.env, "service": finding.service, "kind": kind, "name": name}
        return all(fnmatch.fnmatchcase(actual[k], v) for k, v in self.match)


def waivers_path(config: RepoConfig) -> str:
    return str(config.policy.get("waivers") or DEFAULT_WAIVERS_FILE)


def load_waivers(repo: Path, config: RepoConfig) -> list[Waiver]:
    rel = waivers_path(config)
    path = repo / rel
    if not path.is_file():
        return []
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{rel}: invalid YAML: {str(exc).splitlines()[0]}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{rel}: not UTF-8 text (byte offset {exc.start})") from exc
    entries = raw.get("waivers") if isinstance(raw, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ConfigError(f"{rel}: expected `waivers:` to be a list")
    known_rules = {r.id for r in all_rules()}
    return [
        _waiver(f"{rel}#{number}", entry, known_rules)
        for number, entry in enumerate(entries, start=1)
    ]


def _waiver(where: str, entry: Any, known_rules: set[str]) -> Waiver:
    """One entry of the waivers file, validated (``where``: ``<file>#<number>``)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each waiver must be a mapping")
    missing = [k for k in _REQUIRED if not entry.get(k)]
    if missing:
        raise ConfigError(
            f"{where}: waiver is missing {', '.join(missing)} "
            "(every waiver needs rule, reason, owner and expires)"
        )
    if entry["rule"] not in known_rules:
        raise ConfigError(f"{where}: unknown rule {entry['rule']!r}")
    match = entry.get("match") or {}
    if not isinstance(match, dict) or set(match) - _MATCH_KEYS:
        raise ConfigError(
            f"{where}: match may only use {', '.join(sorted(_MATCH_KEYS))}, got {match!r}"
        )
    return Waiver(
        rule=str(entry["rule"]),
        match=tuple(sorted((str(k), str(v)) for k, v in match.items())),
        reason=str(entry["reason"]),
        owner=str(entry["owner"]),
        expires=_expiry(where, entry["expires"]),
        source=where,
    )


def _expiry(where: str, expires: Any) -> dt.date:
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError as exc:
            raise ConfigError(f"{where}: expires must be a date (YYYY-MM-DD)") from exc
    if not isinstance(expires, dt.date):
        raise ConfigError(f"{where}: expires must be a date (YYYY-MM-DD)")
    return expires


def apply_waivers(
    findings: list[Finding],
    waivers: list[Waiver],
    context: CheckContext,
    today: dt.date | None = None,
) -> tuple[list[Finding], list[tuple[Finding, str]], list[Finding]]:
    """Split findings into (kept, waived with reason) and add the waivers' own findings."""
    today = today or dt.date.today()
    by_key: dict[tuple[str, str, str], Resource] = {
        (r.env, r.service, str(r.key)): r for r in [*context.resources, *context.argocd_resources]
    }
    active = [w for w in waivers if w.expires >= today]
    used: set[str] = set()
    kept: list[Finding] = []
    waived: list[tuple[Finding, str]] = []
    for finding in findings:
        resource = by_key.get((finding.env, finding.service, finding.resource))
        kind = resource.kind if resource else ""
        name = resource.name if resource else ""
        reason = _annotation_reason(finding, resource)
        if reason is not None and not reason.startswith("!"):
            waived.append((finding, f"annotation: {reason}"))
            continue
        if reason is not None:  # "!..." = annotation present but rejected
            finding = _with_note(finding, reason[1:])
        waiver = next((w for w in active if w.matches(finding, kind, name)), None)
        if waiver is not None:
            used.add(waiver.source)
            waived.append((finding, f"{waiver.source} ({waiver.owner}): {waiver.reason}"))
            continue
        kept.append(finding)
    return kept, waived, _waiver_findings(waivers, used, today)


def _waiver_findings(waivers: list[Waiver], used: set[str], today: dt.date) -> list[Finding]:
    """The waivers' own findings: expired ones (waiver-expired), unused ones (waiver-unused)."""
    expired_rule = get_rule("waiver-expired")
    unused_rule = get_rule("waiver-unused")
    own: list[Finding] = []
    for waiver in waivers:
        if waiver.expires < today:
            own.append(
                Finding(
                    "",
                    "",
                    expired_rule.id,
                    "",
                    f"waiver for {waiver.rule} ({waiver.owner}) expired on "
                    f"{waiver.expires.isoformat()}: {waiver.reason}",
                    expired_rule.severity,
                    source=waiver.source.split("#")[0],
                )
            )
        elif waiver.source not in used:
            own.append(
                Finding(
                    "",
                    "",
                    unused_rule.id,
                    "",
                    f"{waiver.source}: waiver for {waiver.rule} "
                    f"({_describe(waiver.match)}) matches no finding: delete it",
                    Severity.WARNING,
                    source=waiver.source.split("#")[0],
                )
            )
    return own


def _annotation_reason(finding: Finding, resource: Resource | None) -> str | None:
    """The annotation waiver's reason for this finding; ``"!<note>"`` when it is rejected."""
    if resource is None:
        return None
    annotations: dict[str, Any] = resource.annotations
    rules = {r.strip() for r in str(annotations.get(WAIVE_ANNOTATION, "")).split(",") if r.strip()}
    if finding.rule not in rules:
        return None
    reason = str(annotations.get(WAIVE_REASON_ANNOTATION, "")).strip()
    if not reason:
        return (
            f"!waiver annotation {WAIVE_ANNOTATION} ignored: {WAIVE_REASON_ANNOTATION} is missing"
        )
    return reason


def _with_note(finding: Finding, note: str) -> Finding:
    return Finding(
        finding.env,
        finding.service,
        finding.rule,
        finding.resource,
        f"{finding.message} ({note})",
        finding.severity,
        finding.source,
        finding.patches,
    )


def _describe(match: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in match) or "any resource"
