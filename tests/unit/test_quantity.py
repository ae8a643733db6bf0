"""Quantities parse as the API server parses them, in bounded time."""

from __future__ import annotations

import re
import time
from fractions import Fraction

import pytest

from gitops.k8s_math import milli_value
from gitops.quantity import MAX_ALLOWED, parse_quantity
from gitops.schema import QUANTITY_PATTERN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500m", Fraction(1, 2)),
        ("1Gi", Fraction(1024**3)),
        ("1e3", Fraction(1000)),
        ("0.1n", Fraction(1, 10**9)),  # sub-nano: rounded up to 1n
        ("-0.1n", Fraction(-1, 10**9)),  # away from zero
        ("1.0000000001", Fraction(1_000_000_001, 10**9)),
        ("8Ei", MAX_ALLOWED),  # 2^63 is over the cap
        ("10E", MAX_ALLOWED),
        ("1e4294967297", Fraction(10)),  # int32(4294967297) == 1, as Go truncates it
        ("1e-10000000", Fraction(1, 10**9)),
        (2, Fraction(2)),
        (0.5, Fraction(1, 2)),
    ],
)
def test_values_as_the_api_server_stores_them(raw: object, expected: Fraction) -> None:
    assert parse_quantity(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1e1.5", " 1", "1 ", "1Ki ", "abc", "1e99999999999999999999", "", "e3", "1KiB", True]
)
def test_rejected(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(raw)


def test_huge_exponents_are_bounded_and_still_ordered() -> None:
    started = time.perf_counter()
    huge = parse_quantity("1e10000000")
    assert parse_quantity("1e2147483647") == huge  # both beyond any real resource
    assert huge > parse_quantity("8Ei") > parse_quantity("2")
    # A single parse took ~10 s before; a generous bound that still catches exact 10**1e7.
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "raw", ["1", "1.5", ".5", "1.", "-1m", "+2Ki", "1e3", "1E-3", "1E", "1e1.5", " 1", "1e", "5 m"]
)
def test_schema_pattern_agrees_with_the_parser(raw: str) -> None:
    try:
        parse_quantity(raw)
        parses = True
    except ValueError:
        parses = False
    assert bool(re.search(QUANTITY_PATTERN, raw)) == parses


def test_negative_milli_values_round_away_from_zero() -> None:
    assert milli_value("-1.5m") == -2
    assert milli_value("1.5m") == 2
    assert milli_value("250m") == 250
