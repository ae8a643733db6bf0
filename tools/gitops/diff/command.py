"""What ``gitops diff`` does after parsing, and the Behaviour section hook."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from gitops.diff.compare import run_diff
from gitops.diff.format_json import format_json
from gitops.diff.format_markdown import format_markdown
from gitops.diff.format_text import format_text
from gitops.diff.options import FORMATS, MIN_MAX_BYTES, DiffOptions
from gitops.diff.result import DiffResult
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, GitopsError
from gitops.simulate.behaviour import behaviour_sections
from gitops.simulate.behaviour import format_markdown as behaviour_markdown
from gitops.simulate.behaviour import format_text as behaviour_text
from gitops.simulate.behaviour import to_json as behaviour_json
from gitops.workspace import Workspace


def diff_command(
    workspace: Workspace, options: DiffOptions, out: TextIO, err: TextIO | None = None
) -> int:
    """What ``gitops diff`` does after parsing: run, print, and return the exit code: 1 when
    the head side breaks a render the base side did not (whatever the options), else 0, or 1
    with ``--exit-code`` when there are differences; errors raise GitopsError -> 2. Each broken
    render is one ``error:`` line on ``err`` (stderr)."""
    if options.format not in FORMATS:
        raise GitopsError(f"--format {options.format}: expected one of {', '.join(FORMATS)}")
    if options.context < 0:
        raise GitopsError(f"--context {options.context}: expected a number of lines >= 0")
    if options.max_bytes < MIN_MAX_BYTES:
        raise GitopsError(f"--max-bytes {options.max_bytes}: expected at least {MIN_MAX_BYTES}")
    result = run_diff(workspace, options.base, options.head, options.context)
    behaviour = _behaviour_hook(result, options)
    if options.format == "json":
        document = json.loads(format_json(result))
        document["behaviour"] = behaviour.to_json() if behaviour else []
        out.write(json.dumps(document, indent=2) + "\n")
    elif options.format == "markdown":
        command = "gitops diff" + (f" --base {result.base.sha[:12]}" if result.base.sha else "")
        if options.head:
            command += f" --head {options.head}"
        out.write(format_markdown(result, options.max_bytes, command))
        out.write(behaviour.markdown() if behaviour else "")
    else:
        out.write(format_text(result, options.color))
        out.write(behaviour.text() if behaviour else "")
    broken = result.broken_by_change
    for change in broken:
        print(
            f"error: {change.overlay}: does not render with this change: {change.message}",
            file=err or sys.stderr,
        )
    if broken or (options.exit_code and result.has_differences):
        return EXIT_PROBLEMS
    return EXIT_OK


class _Behaviour:
    """The Behaviour section (gitops.simulate.behaviour), kept apart from the diff proper."""

    def __init__(self, sections: list[Any]) -> None:
        self.sections = sections

    def to_json(self) -> list[dict[str, object]]:
        return behaviour_json(self.sections)

    def markdown(self) -> str:
        return "\n" + behaviour_markdown(self.sections) if self.sections else ""

    def text(self) -> str:
        return behaviour_text(self.sections)


def _behaviour_hook(result: DiffResult, options: DiffOptions) -> _Behaviour | None:
    """Simulate base and head of every overlay whose HPA, PDB or workload scaling inputs
    changed; None when nothing of the kind changed."""
    sections = behaviour_sections(result.objects, options.plot_dir)
    return _Behaviour(sections) if sections else None
