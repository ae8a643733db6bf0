"""Error messages: a jsonschema error as one line per problem, ``<field path>: <problem>``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from gitops.schema.formats import QUANTITY_PATTERN, RE2_FORMAT_PREFIX

if TYPE_CHECKING:
    import jsonschema


def format_path(path: Iterable[str | int]) -> str:
    """``spec.containers[0].env`` for a jsonschema error path; odd keys are quoted
    (``metadata.labels["app.kubernetes.io/name"]``)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(root)"


_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def format_error(error: jsonschema.ValidationError) -> list[str]:
    """One jsonschema error as our message lines (an additionalProperties error naming several
    unknown fields becomes one line per field, each with its own path)."""
    path = list(error.absolute_path)
    where = format_path(path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    rule: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extra = [
            k for k in value if k not in allowed and not any(re.search(p, str(k)) for p in patterns)
        ]
        return [f"{format_path([*path, str(k)])}: unknown field" for k in extra]
    if error.validator == "required" and isinstance(rule, list):
        missing = [k for k in rule if isinstance(value, dict) and k not in value]
        return [f"{format_path([*path, k])}: required field missing" for k in missing]
    if error.validator == "type":
        types = [str(t) for t in (rule if isinstance(rule, list) else [rule]) if t != "null"]
        got = _TYPE_NAMES.get(type(value), type(value).__name__)
        shown = f" {_short(value)}" if not isinstance(value, dict | list) else ""
        return [f"{where}: expected {' or '.join(types)}, got {got}{shown}"]
    if error.validator == "format" and str(rule).startswith(RE2_FORMAT_PREFIX):
        return [f"{where}: {_short(value)} does not match {rule[len(RE2_FORMAT_PREFIX) :]!r}"]
    if error.validator == "pattern" and rule == QUANTITY_PATTERN:
        return [f"{where}: {_short(value)} does not match the quantity format (100m, 0.5, 2Gi)"]
    if error.validator == "pattern":
        return [f"{where}: {_short(value)} does not match {rule!r}"]
    if error.validator == "enum":
        options = ", ".join(_short(v) for v in rule if v is not None)
        return [f"{where}: {_short(value)} is not one of {options}"]
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Report the branch that got furthest: the deepest error is usually the real mistake.
        import jsonschema

        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return format_error(best)
    return [f"{where}: {_first_line(error.message)}"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def message_sort_key(message: str) -> tuple[tuple[int, str | int], ...]:
    # Numeric order for list indexes: containers[2] before containers[10].
    parts: Iterator[str] = iter(re.split(r"\[(\d+)\]", message.split(": ", 1)[0]))
    key: list[tuple[int, str | int]] = []
    for i, part in enumerate(parts):
        key.append((0, int(part)) if i % 2 else (1, part))
    key.append((1, message))
    return tuple(key)
