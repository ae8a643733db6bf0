"""CRD patterns are Go regular expressions, checked with RE2 semantics."""

from __future__ import annotations

import sys

import pytest

from gitops.cli import main
from gitops.schema import re2_matcher
from tests.conftest import FIXTURES

REPO = FIXTURES / "validate-go-regex-crd"


def test_inline_flags_mid_pattern_validate_instead_of_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", "--repo", str(REPO), str(REPO / "rules.yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    # `good` passes: (?i) makes CRITICAL and pager-DUTY match, as in Go.
    assert out == [
        f"{REPO}/rules.yaml:9: AlertRule/bad: spec.receiver: 'Pager' does not match "
        "'^[a-z](?i)[a-z0-9-]*$'",
        f"{REPO}/rules.yaml:9: AlertRule/bad: spec.severity: 'fatal' does not match "
        "'^(?i)(critical|warning|info)$'",
        "2 documents, 1 invalid (Kubernetes 1.36)",
    ]


def test_re2_semantics() -> None:
    assert re2_matcher("^[a-z](?i)[a-z0-9-]*$")("aBC")
    assert not re2_matcher("^[a-z](?i)[a-z0-9-]*$")("ABC")  # the flag starts after [a-z]
    assert re2_matcher("ab")("xxabxx")  # JSON Schema pattern: unanchored search


def test_without_re2_an_unsupported_pattern_is_skipped_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "re2", None)  # import re2 -> ImportError
    re2_matcher.cache_clear()
    try:
        assert re2_matcher("^x(?i)y$")("anything")
        assert re2_matcher("^ab$")("ab") and not re2_matcher("^ab$")("abc")
    finally:
        re2_matcher.cache_clear()
    assert capsys.readouterr().err == (
        "warning: CRD pattern '^x(?i)y$' needs a Go/RE2 regex engine: not checked "
        "(pip install google-re2)\n"
    )
