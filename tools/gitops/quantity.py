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
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)


def parse_quantity(value: object) -> Fraction:
    """The exact value of a quantity; ``ValueError`` if it is not one."""
    if isinstance(value, bool):  # YAML `true` is an int subclass, never a quantity
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value))
    if not isinstance(value, str):
        raise ValueError(f"not a quantity: {value!r}")
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not a quantity: {value!r}")
    number = Fraction(match["number"])
    if match["exponent"]:
        return number * Fraction(10) ** int(match["exponent"][1:])
    suffix = match["suffix"] or ""
    if suffix in _BINARY_SUFFIXES:
        return number * Fraction(1024) ** _BINARY_SUFFIXES[suffix]
    return number * Fraction(10) ** _DECIMAL_SUFFIXES[suffix]
