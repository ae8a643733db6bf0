"""Strict, fast loading of multi-document YAML (rendered manifests, CRDs).

PyYAML's C parser does the scanning; our loader subclass adds what Kubernetes tooling expects and
PyYAML does not do: a duplicate mapping key is reported (``kubectl apply`` rejects it with a
strict-decoding error, while PyYAML would silently keep the last value), and a plain scalar
means what it means to ``sigs.k8s.io/yaml`` (kubectl's YAML reader, go-yaml v2) rather than to
PyYAML's YAML 1.1: ``y``/``n`` are booleans, ``1:30`` and dates are strings, ``0o17`` and ``1e3``
are numbers, a bare ``=`` or ``<<`` value is that string. Every rendered stream (check, diff,
status, promote, probe, simulate) and every file ``validate`` reads goes through this one
loader (:func:`read_documents`); :func:`go_scalar` is the rule, :func:`plain_safe` says which
strings must be quoted to read back the same.

    >>> loaded = read_documents("kind: A\\n---\\nkind: B\\nkind: C\\n", "x.yaml")
    >>> [(d.index, d.line, d.body) for d in loaded.documents]
    [(0, 1, {'kind': 'A'}), (1, 3, {'kind': 'C'})]
    >>> loaded.documents[1].problems
    ("duplicate key 'kind' at line 4 (first at line 3)",)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from gitops.errors import GitopsError

# The C parser is ~10x faster on large rendered streams; the pure-Python one behaves the same.
_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"
# Alias expansion limit. Aliases share nodes, so a 400-byte "billion laughs" document parses
# into a few dozen nodes that every later walk (schema validation, rules, JSON) visits billions
# of times. Like Go's YAML decoders ("document contains excessive aliasing"), a document whose
# alias-expanded node count exceeds MAX_ALIAS_EXPANSION times its distinct nodes (and at least
# ALIAS_EXPANSION_FLOOR, so small documents may reuse anchors freely) is refused.
MAX_ALIAS_EXPANSION = 10
ALIAS_EXPANSION_FLOOR = 10_000


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when PyYAML was built with it (the same safe YAML 1.1
    types; several times faster on the kustomization and data files every command reads)."""
    return yaml.load(text, Loader=_BaseLoader)


def safe_load_all(text: str) -> Iterator[Any]:
    """``yaml.safe_load_all`` through libyaml when available; see :func:`safe_load`."""
    return yaml.load_all(text, Loader=_BaseLoader)


class YamlError(GitopsError):
    """A YAML stream could not be parsed; ``problems`` holds one ``source:line: ...`` per issue."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Document:
    """One mapping document of a stream."""

    source: str  # path as the user named it, or "-" for stdin
    index: int  # 0-based position in the stream, empty documents included
    line: int  # 1-based line of the document's first node
    body: dict[str, Any]
    # Duplicate keys with their lines; the body keeps the last value, as PyYAML does.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedStream:
    source: str
    documents: tuple[Document, ...]
    # "source:line: problem" for what is not a document: syntax errors (parsing stops there,
    # as the parser cannot resynchronise) and documents that are not mappings.
    errors: tuple[str, ...]


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that records duplicate keys instead of silently overwriting them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self._record_duplicates(node)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def _record_duplicates(self, node: yaml.MappingNode) -> None:
        first_line: dict[Any, int] = {}
        for key_node, _value in node.value:
            # Merge keys (<<) legitimately repeat keys of the merged mapping; only plain scalars
            # can be compared cheaply, and that is all Kubernetes manifests use as keys.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.duplicate_keys.append(
                    f"duplicate key {key!r} at line {line} (first at line {first_line[key]})"
                )
            else:
                first_line[key] = line


def _construct_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(node.value)


# --- plain scalars as Kubernetes reads them --------------------------------------------------
# go-yaml v2's resolver (go.yaml.in/yaml/v2 resolve.go: resolveMapList, resolve), which
# sigs.k8s.io/yaml uses to turn kubectl's YAML into JSON. Written from its table and branches.
_GO_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE"), True),
    **dict.fromkeys(("on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE"), False),
    **dict.fromkeys(("off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    "<<": "<<",  # a merge key; as a value, the string
}
# strconv.ParseInt/ParseUint with base 0: a sign (ParseInt only), 0b/0o/0x prefixes, a leading
# 0 for octal (after go-yaml removed every "_").
_GO_INT = re.compile(r"([-+]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_GO_BASES = {"b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16}
# yamlStyleFloat in resolve.go
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")  # hint '.': strconv.ParseFloat
# What may resolve to something other than a string: the words, and text starting like a
# number (resolve.go's hints 'D', 'S' and '.').
_GO_IMPLICIT = re.compile(
    "|".join(re.escape(w) for w in _GO_WORDS if w) + r"|[-+0-9.][0-9A-Za-z_.+-]*"
)
_GO_SCALAR_TAG = "tag:gitops,2025:go-yaml-v2-plain"


def go_scalar(text: str) -> Any:
    """A plain (unquoted, untagged) scalar as go-yaml v2 resolves it: bool, None, int, float,
    or the text itself. Sexagesimal numbers (``1:30``) and timestamps stay strings, as
    sigs.k8s.io/yaml leaves them."""
    if text in _GO_WORDS:
        return _GO_WORDS[text]
    if text[0] == ".":
        return float(text) if _GO_DOT_FLOAT.fullmatch(text) else text
    if text[0] not in "+-0123456789":
        return text
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        return value if math.isfinite(value) else text  # ParseFloat's range error: a string
    return text


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), else ParseUint(plain, 0, 64) (no sign), else None."""
    match = _GO_INT.fullmatch(plain)
    if match is None:
        return None
    sign, digits = match.groups()
    if digits[:2].lower() in ("0b", "0o", "0x"):
        value = int(digits[2:], _GO_BASES[digits[1]])
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    if sign == "-":
        value = -value
    if -(2**63) <= value < 2**63 or (not sign and value < 2**64):
        return value
    return None


def plain_safe(text: str) -> bool:
    """Whether the string ``text`` written unquoted reads back as the same string, for this
    loader (go-yaml v2's rules) and for YAML 1.1 readers alike."""
    if text == "" or text != text.strip():
        return False
    return go_scalar(text) == text and not isinstance(go_scalar(text), bool | float | int)


def _construct_go_scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return go_scalar(str(node.value))


# The loader resolves plain scalars with go-yaml v2's rules only: PyYAML's YAML 1.1 table goes.
_StrictLoader.yaml_implicit_resolvers = {}
# `<<` as a key merges (flatten_mapping reads the tag); as a value it is the string "<<".
_StrictLoader.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])
_StrictLoader.add_implicit_resolver(
    _GO_SCALAR_TAG,
    re.compile(f"^(?:{_GO_IMPLICIT.pattern}|)$"),  # and the empty scalar: null
    [*"yYnNtTfFoO~", "", *"+-.0123456789"],
)
_StrictLoader.add_constructor(_GO_SCALAR_TAG, _construct_go_scalar)
_StrictLoader.add_constructor(_MERGE_TAG, _construct_as_string)
# Explicitly tagged values keep the strings Kubernetes sees: `!!timestamp 2024-01-01` is the
# string "2024-01-01" in sigs.k8s.io/yaml's JSON, and `!!value =` the string "=".
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_as_string)
_StrictLoader.add_constructor("tag:yaml.org,2002:value", _construct_as_string)


def read_documents(text: str, source: str) -> LoadedStream:
    """Parse every document of ``text``; problems are collected, never raised.

    Empty documents (``---`` with nothing after it, common in rendered output) are skipped.
    A ``.json`` source is parsed as one JSON document.
    """
    if source.endswith(".json"):
        return _read_json(text, source)
    loader = _StrictLoader(text)
    documents: list[Document] = []
    errors: list[str] = []
    index = 0
    # Without a "*" anywhere there is no alias to expand. Scanned once per stream: once per
    # document made a 40,000-document stream quadratic (minutes instead of seconds).
    may_alias = has_alias_marker(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 0
            refused = alias_problem(node) if node is not None and may_alias else None
            if refused is not None:
                errors.append(f"{source}:{line}: document {index} {refused}")
                index += 1
                continue
            body = loader.construct_document(node) if node is not None else None
            duplicates = tuple(loader.duplicate_keys)
            loader.duplicate_keys.clear()
            if isinstance(body, dict):
                documents.append(Document(source, index, line, body, duplicates))
            elif body is not None:
                errors.append(
                    f"{source}:{line}: document {index} is a {_yaml_type(body)}, "
                    "expected a mapping (a Kubernetes object)"
                )
            index += 1
    except yaml.MarkedYAMLError as exc:
        errors.append(_describe_yaml_error(exc, source))
    except yaml.YAMLError as exc:  # errors without a position (rare: encoding problems)
        errors.append(f"{source}: invalid YAML: {exc}")
    finally:
        loader.dispose()
    return LoadedStream(source, tuple(documents), tuple(errors))


def has_alias_marker(text: str) -> bool:
    """Whether the stream may hold an alias (``*name``) at all."""
    return "*" in text


def compose_nodes(text: str) -> list[yaml.Node]:
    """The YAML nodes of every document of ``text`` (with their lines, nothing constructed),
    as this loader resolves them; none when the text is not YAML (whoever reads the file for
    real reports that)."""
    loader = _StrictLoader(text)
    nodes: list[yaml.Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()
    return nodes


def alias_problem(root: yaml.Node) -> str | None:
    """Why a composed document is refused for its aliases, or None: a recursive alias, or an
    expansion over the limit. Linear in the distinct nodes (sizes are memoised per node)."""
    size: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            in_progress.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if key in size:
            continue
        if key in in_progress:
            return "is refused: an alias refers to a node that contains it (recursive alias)"
        in_progress.add(key)
        stack.append((node, True))
        for child in _children(node):
            ident = id(child)
            if ident in in_progress:
                return "is refused: an alias refers to a node that contains it (recursive alias)"
            if ident in size:
                continue
            if type(child) is yaml.ScalarNode:
                size[ident] = 1  # most nodes: sized here, not pushed and popped twice
            else:
                stack.append((child, False))
    expanded, distinct = size[id(root)], len(size)
    limit = max(ALIAS_EXPANSION_FLOOR, MAX_ALIAS_EXPANSION * distinct)
    if expanded > limit:
        return (
            f"is refused: its aliases expand {distinct} YAML nodes to {expanded:,} "
            f"(limit {MAX_ALIAS_EXPANSION}x the document, at least {ALIAS_EXPANSION_FLOOR:,}), "
            "as Go's YAML decoders refuse excessive aliasing"
        )
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_documents(text: str, source: str) -> list[Document]:
    """Like :func:`read_documents` but raise :class:`YamlError` if anything was wrong."""
    loaded = read_documents(text, source)
    problems = list(loaded.errors)
    for document in loaded.documents:
        problems += [f"{source}:{document.line}: {p}" for p in document.problems]
    if problems:
        raise YamlError(tuple(problems))
    return list(loaded.documents)


def _describe_yaml_error(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    problem = exc.problem or exc.context or "syntax error"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return f"{where}: invalid YAML: {problem}{context}"


def _yaml_type(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _read_json(text: str, source: str) -> LoadedStream:
    if not text.strip():
        return LoadedStream(source, (), ())  # no document, like an empty YAML stream
    duplicates: list[str] = []

    def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                # json reports no positions for keys; the document line is the best we have
                duplicates.append(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        body = json.loads(text, object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as exc:
        return LoadedStream(source, (), (f"{source}:{exc.lineno}: invalid JSON: {exc.msg}",))
    if body is None:
        return LoadedStream(source, (), ())
    if not isinstance(body, dict):
        error = f"{source}:1: document 0 is a {_yaml_type(body)}, expected a mapping"
        return LoadedStream(source, (), (error,))
    return LoadedStream(source, (Document(source, 0, 1, body, tuple(duplicates)),), ())
