"""The ``--format text`` report (colours on a terminal)."""

from __future__ import annotations

from collections.abc import Callable

from gitops.diff.resources import ResourceChange
from gitops.diff.result import DiffResult
from gitops.model import Finding

_RED, _GREEN, _CYAN, _YELLOW, _BOLD, _RESET = (
    "\033[31m",
    "\033[32m",
    "\033[36m",
    "\033[33m",
    "\033[1m",
    "\033[0m",
)


def _finding_line(finding: Finding, causes: tuple[str, ...] = ()) -> str:
    """``error rule env/service Kind/name: message``; when another overlay's change caused it,
    ``(caused by env/service)``."""
    where = "/".join(p for p in (finding.env, finding.service) if p) or "repository"
    subject = finding.resource.split("/")
    short = f"{subject[-3]}/{subject[-1]}: " if len(subject) >= 4 else ""
    cause = [c for c in causes if c != where]
    by = f" (caused by {', '.join(cause)})" if cause else ""
    return f"{finding.severity} {finding.rule} {where} {short}{finding.message}{by}"


def format_text(result: DiffResult, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines = [
        paint(f"gitops diff: {result.base.describe()} -> {result.head.describe()}", _BOLD),
        f"rendered: {len(result.rendered_base)} overlay(s) on base, "
        f"{len(result.rendered_head)} on head (of {len(result.overlay_order)}); findings "
        f"compared over {len(result.checked)} overlay(s) the change can reach",
    ]
    lines += [f"note: {note}" for note in result.notes]
    if not result.has_differences:
        lines.append("no differences in rendered resources or findings")
        return "\n".join(lines) + "\n"
    lines += ["", *_summary_table(result)]
    for title, findings, code in (
        ("findings added by this change", result.findings_added, _RED),
        ("findings fixed by this change", result.findings_fixed, _GREEN),
    ):
        if findings:
            lines += ["", paint(f"{title}:", _BOLD)]
            lines += [paint(f"  {_finding_line(f, result.causes(f))}", code) for f in findings]
    for change in result.changes:
        lines += ["", *_change_lines(change, paint)]
    return "\n".join(lines) + "\n"


_SUMMARY_COUNTS = ("added", "changed", "removed", "renderErrors", "findingsAdded", "findingsFixed")


def _summary_table(result: DiffResult) -> list[str]:
    rows = [("ENV", "SERVICE", "ADDED", "CHANGED", "REMOVED", "ERRORS", "FINDINGS+", "FIXED")]
    rows += [
        (r["env"] or "-", r["service"], *(str(r[k]) for k in _SUMMARY_COUNTS))
        for r in result.summary_rows()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _change_lines(change: ResourceChange, paint: Callable[[str, str], str]) -> list[str]:
    lines = [paint(f"=== {change.title()}", _BOLD)]
    if change.key is None:
        return [*lines, paint(f"  {change.message}", _RED)]
    if change.secret and change.secret.describe():
        lines.append(f"  Secret {change.secret.describe()} (values hidden)")
    for line in change.diff.rstrip("\n").splitlines():
        if line.startswith(("+++", "---")):
            lines.append(paint(line, _BOLD))
        elif line.startswith("+"):
            lines.append(paint(line, _GREEN))
        elif line.startswith("-"):
            lines.append(paint(line, _RED))
        elif line.startswith("@@"):
            lines.append(paint(line, _CYAN))
        else:
            lines.append(line)
    return lines
