"""gitops.schema.messages: jsonschema errors as ``<field path>: <problem>`` lines."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from gitops.schema.formats import QUANTITY_PATTERN
from gitops.schema.messages import format_error, format_path, message_sort_key


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (["spec", "containers", 0, "env"], "spec.containers[0].env"),
        (
            ["metadata", "labels", "app.kubernetes.io/name"],
            'metadata.labels["app.kubernetes.io/name"]',
        ),
        ([], "(root)"),
    ],
)
def test_format_path(path: list[str | int], text: str) -> None:
    assert format_path(path) == text


def test_list_indexes_sort_numerically() -> None:
    messages = ["c[10]: x", "c[2]: y", "b: z"]
    assert sorted(messages, key=message_sort_key) == ["b: z", "c[2]: y", "c[10]: x"]


def _messages(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return sorted(m for e in validator.iter_errors(instance) for m in format_error(e))


def test_one_line_per_unknown_field_and_per_missing_field() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "r": {}},
        "required": ["r"],
        "additionalProperties": False,
    }
    assert _messages(schema, {"a": "1", "b": 1, "c": [1]}) == [
        "a: expected integer, got string '1'",
        "b: unknown field",
        "c: unknown field",
        "r: required field missing",
    ]


def test_quantity_and_enum_messages_say_what_is_expected() -> None:
    schema = {
        "type": "object",
        "properties": {
            "cpu": {"type": "string", "pattern": QUANTITY_PATTERN},
            "mode": {"enum": ["a", "b", None]},
        },
    }
    assert _messages(schema, {"cpu": "abc", "mode": "c"}) == [
        "cpu: 'abc' does not match the quantity format (100m, 0.5, 2Gi)",
        "mode: 'c' is not one of 'a', 'b'",
    ]
