"""Kubernetes resource quantities (``500m``, ``1Gi``, ``1e3``) as exact numbers.

The grammar is apimachinery's ``resource.Quantity``: a signed decimal number followed by a binary
SI suffix (Ki..Ei), a decimal SI suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent
(``e3``, ``E-2``). YAML may also hand us a bare int or float (``cpu: 1``, ``cpu: 0.5``).
Fractions keep the comparison exact: ``100m`` is exactly ``0.1``, never ``0.1000000001``.

    >>> parse_quantity("500m") < parse_quantity("1")
    True
    >>> parse_quantity("1Gi") == 1024 ** 3
    True
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
# Number first, then exactly one suffix form; "1E" is exa, "1E3" an exponent (as in apimachinery).
# The exponent is an integer (apimachinery parses it with strconv.ParseInt): "1e1.5" is invalid.
# No surrounding spaces: the API server rejects " 1" and "1 ".
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)
# apimachinery's maxAllowed: DecimalSI and BinarySI values are capped at 2^63-1.
MAX_ALLOWED = Fraction(2**63 - 1)
NANO = Fraction(1, 10**9)
# Exact arithmetic on 10**e costs O(e): beyond this magnitude a value is clamped (a decimal
# exponent beyond it is no resource any cluster has; below it, the value rounds to 1n anyway).
MAX_EXPONENT = 400


def parse_quantity(value: object) -> Fraction:
    """The value the API server stores for a quantity; ``ValueError`` if it is not one.

    As apimachinery's ``ParseQuantity`` (k8s.io/apimachinery/pkg/api/resource/quantity.go):
    the exponent is read as an int64 and truncated to int32, non-zero values are rounded away
    from zero to a whole nano unit (``0.1n`` is ``1n``, ``-0.1n`` is ``-1n``), and DecimalSI and
    BinarySI values are capped at 2^63-1. Bounded: every input parses in microseconds.
    """
    if not isinstance(value, str):
        return _bounded(_number(value), cap=True)
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = Fraction(match["number"])
    except ValueError as exc:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise ValueError(f"not a quantity: {value[:40]!r}... (too many digits)") from exc
    if match["exponent"]:
        exponent = int(match["exponent"][1:])
        if not -(2**63) <= exponent < 2**63:  # strconv.ParseInt(..., 64) fails
            raise ValueError(f"not a quantity: {value!r} (exponent out of range)")
        exponent = (exponent + 2**31) % 2**32 - 2**31  # Go's int32(parsed)
        return _bounded(_scaled(number, exponent), cap=False)
    suffix = match["suffix"] or ""
    if suffix in _BINARY_SUFFIXES:
        return _bounded(number * Fraction(1024) ** _BINARY_SUFFIXES[suffix], cap=True)
    return _bounded(number * Fraction(10) ** _DECIMAL_SUFFIXES[suffix], cap=True)


def _number(value: object) -> Fraction:
    """A YAML number's exact value; ``ValueError`` for anything else (NaN, infinities, a
    boolean: YAML ``true`` is an int subclass, never a quantity)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return Fraction(repr(value))
    raise ValueError(f"not a quantity: {value!r}")


def _scaled(number: Fraction, exponent: int) -> Fraction:
    if number == 0:
        return number
    if exponent > MAX_EXPONENT:
        return Fraction(10) ** MAX_EXPONENT * (1 if number > 0 else -1)
    if exponent < -MAX_EXPONENT:
        return NANO / 2 * (1 if number > 0 else -1)  # far below 1n: rounds to +-1n
    return number * Fraction(10) ** exponent


def _bounded(value: Fraction, cap: bool) -> Fraction:
    magnitude = abs(value)
    if magnitude and (magnitude / NANO).denominator != 1:
        # inf.RoundUp on the absolute value: away from zero, to a whole nano unit.
        magnitude = Fraction(-((-magnitude * 10**9) // 1), 10**9)
    if cap and magnitude > MAX_ALLOWED:
        magnitude = MAX_ALLOWED
    return magnitude if value >= 0 else -magnitude
