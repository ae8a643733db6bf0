"""``gitops.diff.format_markdown``: the PR comment, cut to a byte budget with a note."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.diff import MARKDOWN_MARKER, format_markdown
from tests.unit.diff.scratch import diff, many_changes, replicas_patch, write


def test_markdown_is_cut_to_max_bytes_with_a_note(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    many_changes(scratch_repo)
    untouched()
    result = diff(scratch_repo, base="HEAD")
    full = format_markdown(result, max_bytes=10**9)
    assert len(full.encode()) > 60_000
    for limit in (60_000, 20_000, 5_000):
        cut = format_markdown(result, max_bytes=limit, full_command="gitops diff --base abc")
        assert len(cut.encode("utf-8")) <= limit
        assert cut.startswith(MARKDOWN_MARKER + "\n")
        assert "| prod | web | 1 | 0 | 0 | 0 | 0 | 0 |" in cut  # the summary always survives
        assert f"**Cut to fit {limit:,} bytes:**" in cut
        assert "See all of it with `gitops diff --base abc`" in cut
        assert cut.count("<details>") == cut.count("</details>")


def test_markdown_fits_without_a_note_when_small(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": replicas_patch(6)})
    untouched()
    markdown = format_markdown(diff(scratch_repo, base="HEAD"))
    assert "Cut to fit" not in markdown
    assert "<details><summary><code>prod/web: changed Deployment/web</code></summary>" in markdown
    assert "```diff\n--- base/prod/web/Deployment/web" in markdown
