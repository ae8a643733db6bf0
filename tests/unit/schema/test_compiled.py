"""gitops.schema.compiled: fastjsonschema validators, their error cap and their disk cache."""

from __future__ import annotations

import json
from pathlib import Path

from gitops.schema.compiled import (
    MAX_ERRORS_PER_DOCUMENT,
    CompiledKind,
    DiskCache,
    compile_schema,
    load_code,
)

SCHEMA = {"type": "object", "additionalProperties": {"type": "string"}}


def _kind() -> CompiledKind:
    schema_text, code = compile_schema(dict(SCHEMA))
    assert json.loads(schema_text) == SCHEMA
    return CompiledKind("example.com/v1/Map", schema_text, load_code(code))


def test_valid_document_has_no_errors_and_invalid_ones_list_every_field() -> None:
    kind = _kind()
    assert kind.errors({"a": "x"}) == []
    assert kind.errors({"k2": 2, "k10": 10}) == [
        "k10: expected string, got integer 10",
        "k2: expected string, got integer 2",
    ]


def test_errors_are_capped_per_document() -> None:
    messages = _kind().errors({f"k{i:03}": i for i in range(3 * MAX_ERRORS_PER_DOCUMENT)})
    assert len(messages) == MAX_ERRORS_PER_DOCUMENT + 1
    assert all(m.endswith(f"got integer {int(m[1:4])}") for m in messages[:-1])
    assert messages[-1].startswith("(more errors not shown")


def test_disk_cache_round_trip_and_keys(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    key = cache.key("builtin", "1.33", "configmap-v1.json")
    assert key == cache.key("builtin", "1.33", "configmap-v1.json")
    assert key != cache.key("builtin", "1.34", "configmap-v1.json")
    assert cache.get(key) is None
    schema_text, code = compile_schema(dict(SCHEMA))
    cache.put(key, ["v1/ConfigMap"], schema_text, code)
    cached = cache.get(key)
    assert cached is not None
    assert cached[:2] == (["v1/ConfigMap"], schema_text)
    assert CompiledKind("v1/ConfigMap", schema_text, load_code(cached[2])).errors({"a": 1})


def test_cache_without_a_directory_keeps_nothing() -> None:
    cache = DiskCache(None)
    schema_text, code = compile_schema(dict(SCHEMA))
    cache.put("k", [], schema_text, code)
    assert cache.get("k") is None
