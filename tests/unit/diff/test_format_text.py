"""``gitops.diff.format_text``: the terminal report, plain or coloured."""

from __future__ import annotations

from gitops.diff import format_text
from tests.unit.diff.results import empty_result, sample_result


def test_text_report_lists_summary_findings_and_each_change() -> None:
    text = format_text(sample_result())
    lines = text.splitlines()
    assert lines[0] == ("gitops diff: merge-base(HEAD, main) (0123456789ab) -> working tree")
    assert lines[1] == (
        "rendered: 2 overlay(s) on base, 2 on head (of 3); findings compared over 3 overlay(s) "
        "the change can reach"
    )
    assert "note: remote base not followed" in lines
    assert "ENV   SERVICE  ADDED  CHANGED  REMOVED  ERRORS  FINDINGS+  FIXED" in lines
    assert "prod  web      0      2        0        0       1          0" in lines
    assert (
        "  warning pdb-blocks-drain prod/web PodDisruptionBudget/web: blocks every drain" in lines
    )
    assert "  error render-failed dev/web fixed now" in lines
    assert "=== prod/web: changed Deployment/web" in lines
    assert "+  replicas: 3" in lines
    assert "  Secret keys added: token (values hidden)" in lines
    assert "=== dev/web: render error on head" in lines and "  boom" in lines
    assert "\x1b[" not in text


def test_colour_only_when_asked_and_the_same_words() -> None:
    coloured = format_text(sample_result(), color=True)
    assert "\x1b[32m+  replicas: 3\x1b[0m" in coloured
    assert "\x1b[31m-  replicas: 2\x1b[0m" in coloured
    stripped = coloured
    for code in ("\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[36m"):
        stripped = stripped.replace(code, "")
    assert stripped == format_text(sample_result())


def test_no_differences_says_so() -> None:
    assert format_text(empty_result()).splitlines()[-1] == (
        "no differences in rendered resources or findings"
    )
