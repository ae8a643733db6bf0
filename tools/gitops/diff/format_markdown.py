"""The ``--format markdown`` report: a PR comment, cut to fit GitHub's size limit."""

from __future__ import annotations

import re

from gitops.diff.format_text import _finding_line
from gitops.diff.options import DEFAULT_MAX_BYTES, MARKDOWN_MARKER
from gitops.diff.resources import ResourceChange
from gitops.diff.result import DiffResult


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _md_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("`", "'")
    )


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _details(change: ResourceChange, diff_text: str | None = None) -> str:
    summary = f"<details><summary><code>{_md_escape(change.title())}</code></summary>\n\n"
    if change.key is None:
        return (
            summary
            + f"Render error on **{change.side}**: {_md_escape(change.message)}\n\n</details>\n"
        )
    note = ""
    if change.secret and change.secret.describe():
        note = f"Secret {_md_escape(change.secret.describe())} (values hidden)\n\n"
    body = change.diff if diff_text is None else diff_text
    fence = _fence(body)
    return f"{summary}{note}{fence}diff\n{body.rstrip()}\n{fence}\n\n</details>\n"


def format_markdown(
    result: DiffResult, max_bytes: int = DEFAULT_MAX_BYTES, full_command: str = "gitops diff"
) -> str:
    """A pull-request comment: summary table, findings added/fixed, one collapsible diff per
    changed resource; never more than ``max_bytes`` UTF-8 bytes (what is cut is said)."""
    head = [
        MARKDOWN_MARKER,
        "### gitops diff",
        "",
        f"Base `{result.base.describe()}` → head `{result.head.describe()}`. Rendered "
        f"{len(result.rendered_base)} overlay(s) on base and {len(result.rendered_head)} on head "
        f"(of {len(result.overlay_order)}): only overlays whose kustomize inputs changed. "
        f"Findings compared over {len(result.checked)} overlay(s) the change can reach.",
        "",
    ]
    head += [f"> {_md_escape(note)}" for note in result.notes]
    if result.notes:
        head.append("")
    if not result.has_differences:
        head.append("No differences in rendered resources or policy findings.")
        return _cap("\n".join(head) + "\n", max_bytes)
    table = [
        "| Env | Service | Added | Changed | Removed | Render errors | Findings added | "
        "Findings fixed |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result.summary_rows():
        table.append(
            f"| {r['env'] or '—'} | {r['service']} | {r['added']} | {r['changed']} | "
            f"{r['removed']} | {r['renderErrors']} | {r['findingsAdded']} | "
            f"{r['findingsFixed']} |"
        )
    blocks: list[str] = ["\n".join([*head, *table]) + "\n"]
    for title, findings in (
        ("Findings added by this change", result.findings_added),
        ("Findings fixed by this change", result.findings_fixed),
    ):
        if findings:
            items = [
                f"- `{_md_escape(f.rule)}` {f.severity} "
                f"{_md_escape(_finding_line(f, result.causes(f)).split(' ', 2)[2])}"
                for f in findings
            ]
            blocks.append(f"\n#### {title}\n\n" + "\n".join(items) + "\n")
    if result.changes:
        blocks.append("\n#### Resources\n\n")
    blocks += [_details(c) for c in result.changes]
    return _assemble(blocks, result, max_bytes, full_command)


def _truncation_note(cut_blocks: int, cut_bytes: int, max_bytes: int, full_command: str) -> str:
    return (
        f"\n> **Cut to fit {max_bytes:,} bytes:** {cut_blocks} more section(s) "
        f"({cut_bytes:,} bytes) are not shown. See all of it with `{full_command}` "
        "(or `--format text`) locally, or in this job's log.\n"
    )


def _assemble(blocks: list[str], result: DiffResult, max_bytes: int, full_command: str) -> str:
    out = ""
    for index, block in enumerate(blocks):
        remaining = blocks[index + 1 :]
        if (
            _size(out + block) + (_reserve(remaining, max_bytes, full_command) if remaining else 0)
            <= max_bytes
        ):
            out += block
            continue
        # The first block that does not fit: a diff is cut at a line boundary if a useful part
        # fits; everything after it is summarised in the note.
        note = _truncation_note(
            len(blocks) - index, sum(_size(b) for b in blocks[index:]), max_bytes, full_command
        )
        room = max_bytes - _size(out) - _size(note)
        partial = _partial_details(block, result, index, blocks, room)
        if partial is not None:
            out += partial
            note = (
                _truncation_note(
                    len(blocks) - index - 1,
                    sum(_size(b) for b in remaining),
                    max_bytes,
                    full_command,
                )
                if remaining
                else (
                    f"\n> **Cut to fit {max_bytes:,} bytes:** the last diff is shortened. "
                    f"See all of it with `{full_command}` locally, or in this job's log.\n"
                )
            )
        return _cap(out + note, max_bytes)
    return out


def _reserve(remaining: list[str], max_bytes: int, full_command: str) -> int:
    return _size(
        _truncation_note(len(remaining), sum(_size(b) for b in remaining), max_bytes, full_command)
    )


def _partial_details(
    block: str, result: DiffResult, index: int, blocks: list[str], room: int
) -> str | None:
    if room < 400 or "<details>" not in block:
        return None
    change = next((c for c in result.changes if _details(c) == block), None)
    if change is None or change.key is None:
        return None
    marker = "\n… (diff cut here)\n"
    lines = change.diff.splitlines(keepends=True)
    kept: list[str] = []
    for line in lines:
        candidate = "".join([*kept, line]) + marker
        if _size(_details(change, candidate)) > room:
            break
        kept.append(line)
    if len(kept) < 3:
        return None
    return _details(change, "".join(kept) + marker)


def _cap(text: str, max_bytes: int) -> str:
    """Last resort (a tiny --max-bytes): cut at a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 4].decode("utf-8", errors="ignore") + "\n…\n"
