"""The subset of Go ``text/template`` (and Argo CD's fasttemplate) that ApplicationSets use here.

Argo CD renders every string of an ApplicationSet template against each generator's parameters.
We re-implement the forms a directory generator needs, and refuse anything else loudly rather than
guess: field chains (``{{ .path.basename }}``), ``index`` over lists and maps
(``{{ index .path.segments 1 }}``), and the string functions ``lower``, ``upper``, ``trim``
through pipes (``{{ .path.basename | upper }}``). ``missingkey=error`` turns an absent key into
an error, as in Go; otherwise Go prints ``<no value>``.

    >>> render_go_template("{{index .path.segments 1}}-{{.path.basename}}",
    ...                    {"path": {"segments": ["overlays", "dev", "web"], "basename": "web"}})
    'dev-web'
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

from gitops.errors import ConfigError

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_FIELD = re.compile(r"^(\.[A-Za-z_][A-Za-z0-9_]*)+$|^\.$")
_PIPE_FUNCS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "trim": str.strip,
}


class TemplateError(ConfigError):
    """A template uses a form we do not implement, or references a missing key."""


def render_go_template(text: str, params: dict[str, Any], missingkey_error: bool = True) -> str:
    def substitute(match: re.Match[str]) -> str:
        return _to_text(_evaluate(match.group(1), params, missingkey_error))

    return _ACTION.sub(substitute, text)


def render_fasttemplate(text: str, params: dict[str, str]) -> str:
    """Argo CD's legacy (non-Go) templating: ``{{path.basename}}``; unknown keys stay as written."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        return params.get(key, match.group(0))

    return re.sub(r"\{\{\s*([^{}\s]+)\s*\}\}", substitute, text)


def _evaluate(action: str, params: dict[str, Any], missingkey_error: bool) -> Any:
    stages = [stage.strip() for stage in action.split("|")]
    value = _evaluate_call(stages[0], params, missingkey_error)
    for stage in stages[1:]:
        func = _PIPE_FUNCS.get(stage)
        if func is None:
            raise TemplateError(
                f"template function {stage!r} is not supported (supported: "
                f"{', '.join(sorted(_PIPE_FUNCS))}) in {{{{{action}}}}}"
            )
        value = func(_to_text(value))
    return value


def _evaluate_call(expr: str, params: dict[str, Any], missingkey_error: bool) -> Any:
    try:
        words = shlex.split(expr)
    except ValueError as exc:
        raise TemplateError(f"cannot parse template action {{{{{expr}}}}}: {exc}") from exc
    if not words:
        raise TemplateError("empty template action {{}}")
    if words[0] == "index":
        if len(words) < 3:
            raise TemplateError(f"index needs a value and at least one key: {{{{{expr}}}}}")
        value = _lookup(words[1], params, missingkey_error, expr)
        for key in words[2:]:
            value = _index(value, key, expr)
        return value
    if len(words) == 1 and _FIELD.match(words[0]):
        return _lookup(words[0], params, missingkey_error, expr)
    if len(words) == 2 and words[0] in _PIPE_FUNCS and _FIELD.match(words[1]):
        return _PIPE_FUNCS[words[0]](_to_text(_lookup(words[1], params, missingkey_error, expr)))
    raise TemplateError(
        f"template action {{{{{expr}}}}} is not supported: use field access (.a.b), "
        "index, or lower/upper/trim"
    )


def _lookup(chain: str, params: dict[str, Any], missingkey_error: bool, expr: str) -> Any:
    if not _FIELD.match(chain):
        raise TemplateError(f"expected a field like .path.basename in {{{{{expr}}}}}, got {chain}")
    value: Any = params
    for name in [part for part in chain.split(".") if part]:
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif missingkey_error:
            raise TemplateError(f"map has no entry for key {name!r} in {{{{{expr}}}}}")
        else:
            return None
    return value


def _index(value: Any, key: str, expr: str) -> Any:
    if isinstance(value, list):
        try:
            position = int(key)
        except ValueError as exc:
            raise TemplateError(f"index of a list needs an integer, got {key!r}") from exc
        if not 0 <= position < len(value):
            raise TemplateError(
                f"index out of range: {position} (length {len(value)}) in {{{{{expr}}}}}"
            )
        return value[position]
    if isinstance(value, dict):
        return value.get(key)
    raise TemplateError(f"cannot index {type(value).__name__} in {{{{{expr}}}}}")


def _to_text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_to_text(v) for v in value) + "]"
    return str(value)
