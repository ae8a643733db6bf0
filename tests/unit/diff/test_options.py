"""``gitops.diff.options``: the defaults the CLI documents are the ones the library uses."""

from __future__ import annotations

import pytest

from gitops.cli_parser import build_parser
from gitops.diff import DiffOptions
from gitops.diff.options import DEFAULT_MAX_BYTES, FORMATS, MARKDOWN_MARKER, MIN_MAX_BYTES


def test_cli_defaults_match_the_options() -> None:
    args = build_parser().parse_args(["diff"])
    defaults = DiffOptions()
    assert (args.format, args.context, args.max_bytes, args.exit_code) == (
        defaults.format, defaults.context, defaults.max_bytes, defaults.exit_code
    )  # fmt: skip
    for name in FORMATS:
        assert build_parser().parse_args(["diff", "--format", name]).format == name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["diff", "--format", "yaml"])


def test_the_markdown_budget_fits_a_github_comment_and_the_marker_is_hidden() -> None:
    # GitHub rejects issue comments over 65,536 characters; the marker must not render.
    assert MIN_MAX_BYTES < DEFAULT_MAX_BYTES < 65_536
    assert MARKDOWN_MARKER.startswith("<!--") and MARKDOWN_MARKER.endswith("-->")
