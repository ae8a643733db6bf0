"""gitops.schema.transform: self-contained schemas with Kubernetes' quirks made explicit."""

from __future__ import annotations

from typing import Any

from gitops.schema.formats import QUANTITY_PATTERN
from gitops.schema.transform import (
    OBJECT_META_DEF,
    closure,
    crd_effective_schema,
    strip_annotations,
)


def test_int32_becomes_bounds_and_documentation_is_dropped() -> None:
    node = {"type": "integer", "format": "int32", "description": "replicas"}
    assert strip_annotations(node) == {
        "type": "integer",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    }


def test_a_field_named_like_an_annotation_key_is_kept() -> None:
    node = {"properties": {"description": {"type": "string", "description": "d"}}}
    assert strip_annotations(node) == {"properties": {"description": {"type": "string"}}}


def test_closure_keeps_only_reached_definitions_with_local_refs() -> None:
    defs: dict[str, Any] = {
        "a": {"properties": {"b": {"$ref": "#/definitions/x/$defs/b"}}, "description": "A"},
        "b": {"type": "string"},
        "unused": {"type": "integer"},
    }
    schema: dict[str, Any] = {"properties": {"a": {"$ref": "file.json#/$defs/a"}}}
    found = closure(schema, defs)
    assert found == {"a": {"properties": {"b": {"$ref": "#/$defs/b"}}}, "b": {"type": "string"}}
    assert schema["properties"]["a"] == {"$ref": "#/$defs/a"}


def test_quantity_definition_is_replaced_by_the_grammar() -> None:
    name = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    found = closure({"$ref": f"#/$defs/{name}"}, {})
    assert found[name] == {"type": ["string", "number", "null"], "pattern": QUANTITY_PATTERN}


def test_crd_schema_is_as_strict_as_the_api_server() -> None:
    openapi = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "port": {"x-kubernetes-int-or-string": True},
                    "name": {"type": "string", "pattern": "^[a-z]+$", "nullable": True},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "size": {"type": "integer", "format": "int32"},
                },
            }
        },
    }
    schema = crd_effective_schema(openapi, "example.com/v1", "Widget", {"meta": {}})
    assert schema["additionalProperties"] is False
    assert schema["properties"]["apiVersion"] == {"type": "string", "enum": ["example.com/v1"]}
    assert schema["properties"]["kind"] == {"type": "string", "enum": ["Widget"]}
    assert schema["properties"]["metadata"] == {"$ref": f"#/$defs/{OBJECT_META_DEF}"}
    assert schema["$defs"] == {"meta": {}}
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["port"] == {"type": ["integer", "string"]}
    assert spec["properties"]["name"] == {"type": ["string", "null"], "format": "re2:^[a-z]+$"}
    assert spec["properties"]["free"] == {"type": "object"}  # unknown fields preserved
    assert spec["properties"]["size"] == {
        "type": "integer",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    }
