"""gitops.schema.formats: the quantity grammar and RE2 patterns of CRD fields."""

from __future__ import annotations

import re

import jsonschema
import pytest

from gitops.schema.formats import (
    QUANTITY_PATTERN,
    RE2_FORMATS,
    re2_format_checker,
    re2_matcher,
)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("100m", True),
        ("1.5Gi", True),
        (".5", True),
        ("1e3", True),
        ("1E-3", True),
        ("1e9223372036854775807", True),  # int64 max: strconv.ParseInt accepts it
        ("1e9223372036854775808", False),  # one more: the parser fails
        ("1e-9223372036854775808", True),
        ("1e1.5", False),
        ("1.5 Gi", False),
        ("10mb", False),
        ("abc", False),
    ],
)
def test_quantity_pattern(value: str, ok: bool) -> None:
    assert (re.match(QUANTITY_PATTERN, value) is not None) is ok


def test_re2_matcher_searches_like_go_regexp() -> None:
    assert re2_matcher("b")("abc")  # search, not fullmatch: Go's MatchString
    assert re2_matcher("^a+$")("aaa")
    assert not re2_matcher("^a+$")("aab")


def test_re2_formats_know_every_re2_name_and_nothing_else() -> None:
    assert "re2:^x$" in RE2_FORMATS
    assert "email" not in RE2_FORMATS
    assert RE2_FORMATS["re2:^x$"]("x")
    with pytest.raises(KeyError):
        RE2_FORMATS["email"]


def test_format_checker_rejects_a_non_matching_string_only() -> None:
    checker = re2_format_checker()
    checker.check("x", "re2:^x$")
    checker.check(5, "re2:^x$")  # not a string: the type keyword reports it
    with pytest.raises(jsonschema.exceptions.FormatError, match="does not match"):
        checker.check("y", "re2:^x$")
