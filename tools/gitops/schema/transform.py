"""Schema transformation: each kind's schema made self-contained, Kubernetes quirks made
explicit (int32/int64 bounds, quantities, int-or-string, CRD structural-schema rules)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from gitops.schema.builtin import SchemaPackage
from gitops.schema.formats import QUANTITY_PATTERN, RE2_FORMAT_PREFIX

_DRAFT = "http://json-schema.org/draft-07/schema#"
_QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING_DEF = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
OBJECT_META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Keys that only document a schema (or that we deliberately do not check, like `format`: the
# published schemas use int32/int64/byte, which jsonschema ignores by default too; keeping both
# validators blind to them keeps their verdicts identical).
_ANNOTATION_KEYS = frozenset(
    {"description", "example", "externalDocs", "default", "format", "title", "$id", "$schema"}
)
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs"})


def builtin_effective_schema(
    package: SchemaPackage, filename: str, definitions: Callable[[], dict[str, Any]]
) -> tuple[list[str], dict[str, Any]] | None:
    """(["group/version/Kind", ...], self-contained schema) or None if there is no such file."""
    path = package.directory / filename
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    gvks = [
        f"{g['group']}/{g['version']}/{g['kind']}" if g["group"] else f"{g['version']}/{g['kind']}"
        for g in raw.get("x-kubernetes-group-version-kind", [])
    ]
    defs = definitions()
    schema = strip_annotations(raw)
    schema["$defs"] = closure(schema, defs)
    schema["$schema"] = _DRAFT
    return gvks, schema


def strip_annotations(node: Any, names: bool = False) -> Any:
    """Drop documentation keys; ``names`` marks a map of field names (``properties``), whose
    keys are kept whatever they are (a CRD's JSONSchemaProps has a field named ``description``).
    ``format: int32``/``int64`` become bounds: the API server's decoder rejects an integer
    field out of its Go type's range, which the published schemas only hint at."""
    if isinstance(node, dict):
        stripped = {
            key: strip_annotations(value, names=not names and key in _NAME_MAPS)
            for key, value in node.items()
            if names or (key not in _ANNOTATION_KEYS and not key.startswith("x-kubernetes-"))
        }
        bits = _INT_FORMATS.get(str(node.get("format"))) if not names else None
        if bits is not None and "integer" in _types(node.get("type")):
            stripped.setdefault("minimum", -(2 ** (bits - 1)))
            stripped.setdefault("maximum", 2 ** (bits - 1) - 1)
        return stripped
    if isinstance(node, list):
        return [strip_annotations(item) for item in node]
    return node


_INT_FORMATS = {"int32": 32, "int64": 64}


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def closure(schema: dict[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """The definitions ``schema`` reaches, with every $ref rewritten to a local ``#/$defs/``.

    A Deployment reaches ~110 of the ~700 definitions; compiling only those keeps the generated
    validator (and its cache file) small.
    """
    out: dict[str, Any] = {}
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and "/$defs/" in ref:
                name = ref.rsplit("/", 1)[1]
                node["$ref"] = f"#/$defs/{name}"
                if name not in out:
                    out[name] = _replacement_definition(name) or strip_annotations(defs[name])
                    pending.append(out[name])
            pending.extend(v for k, v in node.items() if k != "$ref")
    return out


def _replacement_definition(name: str) -> dict[str, Any] | None:
    # The published definitions say oneOf[string, number]: a bad value then fails with "is not
    # valid under any of the given schemas". One type list with a pattern (which JSON Schema
    # applies to strings only) accepts the same values, rejects "abc" and reports it plainly.
    if name == _QUANTITY_DEF:
        return {"type": ["string", "number", "null"], "pattern": QUANTITY_PATTERN}
    if name == _INT_OR_STRING_DEF:
        return {"type": ["string", "integer", "null"]}
    return None


def crd_effective_schema(
    openapi: Mapping[str, Any], api_version: str, kind: str, object_meta: Mapping[str, Any]
) -> dict[str, Any]:
    """JSON Schema for one served version of a CRD, as strict as the API server's field
    validation: unknown fields are errors except under ``x-kubernetes-preserve-unknown-fields``.

    ``object_meta`` is the built-in schema of ``metadata`` (with its ``$defs``): the API server
    validates a custom resource's metadata as ObjectMeta whatever the CRD says about it.
    """
    root = _convert_openapi(openapi, in_combinator=False)
    properties = root.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "enum": [api_version]}
    properties["kind"] = {"type": "string", "enum": [kind]}
    properties["metadata"] = {"$ref": f"#/$defs/{OBJECT_META_DEF}"}
    root["$defs"] = dict(object_meta)
    root["$schema"] = _DRAFT
    return root


def _convert_openapi(node: Mapping[str, Any], in_combinator: bool) -> dict[str, Any]:
    """Structural-schema OpenAPI v3 (as CRDs hold it) to JSON Schema draft 7.

    Facts from the Kubernetes docs "Extend the Kubernetes API with CustomResourceDefinitions":
    a field not in ``properties`` is pruned (so, in strict validation, unknown) unless the object
    has ``additionalProperties`` or ``x-kubernetes-preserve-unknown-fields: true``;
    ``x-kubernetes-int-or-string`` allows an integer or a string; ``nullable`` allows null;
    ``x-kubernetes-embedded-resource`` implies apiVersion, kind and metadata.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATION_KEYS or key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: _convert_openapi(sub, False) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _convert_openapi(value, in_combinator=key == "not")
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert_openapi(branch, True) for branch in value]
        elif key == "pattern" and isinstance(value, str):
            # A Go regular expression: checked with RE2 through a custom format (both JSON
            # Schema libraries would compile it with Python's re, which rejects some of them).
            out["format"] = RE2_FORMAT_PREFIX + value
        else:
            out[key] = value
    _apply_markers(node, out)
    # Branches of allOf/anyOf/oneOf may only constrain what the parent declares (structural
    # schema rule): closing them would reject fields the parent allows.
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    is_object = out.get("type") == "object" or "properties" in out
    if is_object and not in_combinator and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _apply_markers(node: Mapping[str, Any], out: dict[str, Any]) -> None:
    """What the Kubernetes markers of ``node`` mean in JSON Schema terms, added to ``out``."""
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    bits = _INT_FORMATS.get(str(node.get("format")))
    if bits is not None and "integer" in _types(node.get("type")):
        out.setdefault("minimum", -(2 ** (bits - 1)))
        out.setdefault("maximum", 2 ** (bits - 1) - 1)
    if node.get("x-kubernetes-int-or-string") is True or node.get("format") == "int-or-string":
        # Both markers come with anyOf[integer, string] branches in generated CRDs (or none):
        # the type list is what matters, branches only repeat it.
        out["type"] = ["integer", "string"]
    if node.get("x-kubernetes-embedded-resource") is True and not preserve:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
