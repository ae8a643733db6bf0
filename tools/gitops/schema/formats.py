"""Value formats the published schemas do not check: the resource.Quantity grammar, and Go
(RE2) regular expressions for the ``pattern`` of CRD fields."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jsonschema

RE2_FORMAT_PREFIX = "re2:"


# Grammar of resource.Quantity from the doc comment of k8s.io/apimachinery/pkg/api/resource
# (quantity.go): <signedNumber><suffix>, suffix one of the binary SI (Ki..Ei), decimal SI
# (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e/E and an integer: the doc says
# <signedNumber>, but the parser reads it with strconv.ParseInt, so "1e1.5" fails). The published
# OpenAPI only says "string or number", so "abc" would pass without this.
def _decimal_at_most(limit: int) -> str:
    """A regex for the decimal strings (leading zeros allowed) whose value is at most ``limit``:
    fewer digits, or the same number of digits and smaller at the first digit that differs."""
    digits = str(limit)
    choices = [f"0*[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            choices.append(f"0*{digits[:i]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    choices.append(f"0*{digits}")
    return "(?:" + "|".join(choices) + ")"


# The exponent is what strconv.ParseInt(..., 10, 64) accepts: -2^63 .. 2^63-1 (quantity.py).
_EXPONENT = rf"[eE](?:\+?{_decimal_at_most(2**63 - 1)}|-{_decimal_at_most(2**63)})"
QUANTITY_PATTERN = (
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
    rf"(([KMGTPE]i)|[numkMGTPE]|{_EXPONENT})?$"
)


@functools.lru_cache(maxsize=4096)
def re2_matcher(pattern: str) -> Callable[[str], bool]:
    """``search`` with RE2 semantics (what the API server's Go regexp does with a CRD's
    ``pattern``). Without the google-re2 package, Python's re is used and a pattern it cannot
    compile is not checked, with one warning naming the package to install."""
    try:
        import re2  # type: ignore[import-untyped]
    except ImportError:
        return _python_matcher(pattern)
    try:
        compiled = re2.compile(pattern)
    except re2.error as exc:
        _warn_once(f"CRD pattern {pattern!r} is not a valid RE2 expression ({exc}): not checked")
        return lambda _value: True
    return lambda value: compiled.search(value) is not None


def _python_matcher(pattern: str) -> Callable[[str], bool]:
    try:
        fallback = re.compile(pattern)
    except re.error:
        _warn_once(
            f"CRD pattern {pattern!r} needs a Go/RE2 regex engine: not checked "
            "(pip install google-re2)"
        )
        return lambda _value: True
    return lambda value: fallback.search(value) is not None


@functools.cache
def _warn_once(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class _Re2Formats(dict[str, Callable[[str], bool]]):
    """fastjsonschema's ``formats``/``custom_formats``: every ``re2:<pattern>`` format name is
    known, and maps to its RE2 matcher."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.startswith(RE2_FORMAT_PREFIX)

    def __missing__(self, name: str) -> Callable[[str], bool]:
        if not name.startswith(RE2_FORMAT_PREFIX):
            raise KeyError(name)
        matcher = re2_matcher(name[len(RE2_FORMAT_PREFIX) :])
        self[name] = matcher
        return matcher


RE2_FORMATS = _Re2Formats()


def re2_format_checker() -> jsonschema.FormatChecker:
    import jsonschema

    class Re2FormatChecker(jsonschema.FormatChecker):
        def check(self, instance: object, format: str) -> None:
            if not format.startswith(RE2_FORMAT_PREFIX) or not isinstance(instance, str):
                return
            if not RE2_FORMATS[format](instance):
                raise jsonschema.exceptions.FormatError(
                    f"{instance!r} does not match {format[4:]!r}"
                )

    return Re2FormatChecker(formats=())
