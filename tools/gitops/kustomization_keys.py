"""Keys kustomize reads silently wrong: duplicates, and field names spelled twice.

kustomize reads a kustomization through sigs.k8s.io/yaml (YAML to JSON, then Go's encoding/json
with unknown fields refused): a key written twice keeps its *last* value without a word, and a
field name is matched case-insensitively, so ``resources`` and ``Resources`` in one mapping are
one field, of which only the spelling that sorts last byte-wise is read (api/types/
kustomization.go, Kustomization.Unmarshal: "TODO: switch to strict decoding to catch duplicate
keys", kubernetes-sigs/kustomize#5061). A strategic-merge patch (a file, or inline) is read by
kyaml, which keeps the *first* of two equal keys; a JSON 6902 patch (a list of operations) goes
through YAML to JSON and keeps the last. tests/unit/test_kustomization_keys.py builds every
case with the pinned kustomize and checks the value it kept.

Nothing here renders: the YAML nodes of a kustomization, of its inline patches and of the patch
files it names are walked for such keys, with their lines.

    >>> problems = kustomization_key_problems(repo, "overlays/prod/web/kustomization.yaml")
    >>> [(p.line, p.message) for p in problems]
    [(3, "duplicate key 'resources' at lines 3 and 7 of overlays/prod/web/kustomization.yaml:
          kustomize reads line 7 and drops line 3")]
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from gitops.yamlio import compose_nodes

DUPLICATE_KEY = "kustomization-duplicate-key"
IGNORED_FIELD = "kustomization-field-ignored"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Mappings of the Kustomization type that are Go maps (keys matched exactly), not structs
# (fields matched case-insensitively): commonLabels, labels[].pairs, ObjectMeta's and the
# generators' labels and annotations, openapi; a chart's valuesInline is free-form below.
_FREE_FORM = frozenset(
    {"openapi", "commonLabels", "commonAnnotations", "pairs", "labels", "annotations"}
)
_FREE_VALUES = frozenset({"valuesInline"})
# Who reads the document, and so which of two equal keys wins.
_KUSTOMIZATION, _STRATEGIC_MERGE, _JSON6902 = "kustomization", "strategic merge", "JSON 6902"


@dataclass(frozen=True, order=True)
class KeyProblem:
    """One key kustomize reads wrongly without a word: the line of the key it drops or
    ignores, and a message naming both lines."""

    path: str  # repo-relative file
    line: int  # 1-based
    rule: str  # DUPLICATE_KEY or IGNORED_FIELD
    message: str


@dataclass(frozen=True)
class _Keys:
    """Two or more keys of one mapping that are one key to kustomize."""

    rule: str
    names: tuple[tuple[str, int], ...]  # (spelling, 0-based line), in document order
    kept: int  # index into names of the one kustomize reads


def kustomization_key_problems(root: Path, rel_file: str) -> list[KeyProblem]:
    """The problems of the kustomization ``rel_file`` (under ``root``), its inline patches and
    the patch files it names. A file that cannot be read or parsed has none here (kustomize
    reports it when the overlay renders)."""
    text = _read(root / rel_file)
    documents = compose_nodes(text) if text is not None else []
    if len(documents) != 1 or not isinstance(documents[0], yaml.MappingNode):
        return []
    document = documents[0]
    problems = [_problem(k, rel_file, "", 0) for k in _walk(document, _KUSTOMIZATION, True)]
    for where, file, inline in _patches(document):
        if file is not None:
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel_file), file))
            patch_text = _read(root / rel)
            for node in compose_nodes(patch_text) if patch_text is not None else []:
                problems += [_problem(k, rel, " (a patch)", 0) for k in _walk_patch(node)]
        elif inline is not None:
            problems += _inline_problems(rel_file, where, inline)
    return sorted(set(problems))


def _inline_problems(rel_file: str, where: str, inline: yaml.ScalarNode) -> list[KeyProblem]:
    """A literal block scalar keeps its lines: the patch's line i is the file's line after the
    ``|`` indicator plus i. A patch in any other style is located at its first line."""
    literal = inline.style == "|"
    offset = inline.start_mark.line + 1
    label = f" ({where}, an inline patch)"
    problems = []
    for node in compose_nodes(inline.value):
        for keys in _walk_patch(node):
            if literal:
                problems.append(_problem(keys, rel_file, label, offset))
            else:
                problem = _problem(keys, rel_file, label + " from its first line", 0)
                problems.append(
                    KeyProblem(rel_file, inline.start_mark.line + 1, keys.rule, problem.message)
                )
    return problems


def _problem(keys: _Keys, path: str, label: str, offset: int) -> KeyProblem:
    """The message for one set of equal keys; the problem sits on the last key kustomize does
    not read (a reviewer's eye goes to the line that has no effect)."""
    lines = [line + offset + 1 for _name, line in keys.names]
    kept_name, kept_line = keys.names[keys.kept][0], lines[keys.kept]
    ignored = [i for i in range(len(lines)) if i != keys.kept]
    at = lines[ignored[-1]]
    if keys.rule == DUPLICATE_KEY:
        listed = " and ".join(str(n) for n in lines)
        dropped = ", ".join(str(lines[i]) for i in ignored)
        message = (
            f"duplicate key {kept_name!r} at lines {listed} of {path}{label}: kustomize reads "
            f"line {kept_line} and drops line {dropped}"
        )
    else:
        others = " and ".join(f"{keys.names[i][0]!r} (line {lines[i]})" for i in ignored)
        message = (
            f"{others} and {kept_name!r} (line {kept_line}) of {path}{label} are one field to "
            f"kustomize, which matches field names case-insensitively: it reads {kept_name!r} "
            f"and ignores {others}"
        )
    return KeyProblem(path, at, keys.rule, message)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _walk_patch(node: yaml.Node) -> Iterator[_Keys]:
    """A patch document: a list of operations (JSON 6902) or an object (strategic merge)."""
    reader = _JSON6902 if isinstance(node, yaml.SequenceNode) else _STRATEGIC_MERGE
    return _walk(node, reader, structs=False)


def _walk(node: yaml.Node, reader: str, structs: bool) -> Iterator[_Keys]:
    """Equal keys in every mapping under ``node``; with ``structs``, also two spellings of one
    field in the mappings that are Go structs."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, reader, structs)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    keys = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG]
    yield from _equal(keys, reader, lambda name: name, DUPLICATE_KEY)
    if structs:
        yield from _equal(_first_spellings(keys), reader, str.lower, IGNORED_FIELD)
    for key, value in keys:
        free = key.value in _FREE_VALUES or (
            key.value in _FREE_FORM and isinstance(value, yaml.MappingNode)
        )
        yield from _walk(value, reader, structs and not free)


def _first_spellings(
    keys: list[tuple[yaml.ScalarNode, yaml.Node]],
) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    """Each spelling once (its repeats are duplicates, reported as such)."""
    seen: dict[str, tuple[yaml.ScalarNode, yaml.Node]] = {}
    for key, value in keys:
        seen.setdefault(key.value, (key, value))
    return list(seen.values())


def _equal(
    keys: list[tuple[yaml.ScalarNode, yaml.Node]],
    reader: str,
    normal: Callable[[str], str],
    rule: str,
) -> Iterator[_Keys]:
    """Groups of keys equal under ``normal``: a kustomization or JSON 6902 patch keeps the
    last of equal keys; spellings of a field, the one that sorts last; a strategic merge
    patch, the first."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for key, _value in keys:
        groups.setdefault(normal(key.value), []).append((key.value, key.start_mark.line))
    for names in groups.values():
        if len(names) < 2:
            continue
        if rule == IGNORED_FIELD:
            kept = max(range(len(names)), key=lambda i: names[i][0])
        else:
            kept = 0 if reader == _STRATEGIC_MERGE else len(names) - 1
        yield _Keys(rule, tuple(names), kept)


def _patches(
    document: yaml.MappingNode,
) -> Iterator[tuple[str, str | None, yaml.ScalarNode | None]]:
    """(where, patch file, inline patch) for every patch the kustomization lists."""
    for key, value in document.value:
        if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.SequenceNode):
            continue
        for index, item in enumerate(value.value):
            where = f"{key.value}[{index}]"
            if key.value == "patchesStrategicMerge" and isinstance(item, yaml.ScalarNode):
                inline = "\n" in item.value
                yield where, None if inline else item.value, item if inline else None
            elif key.value in ("patches", "patchesJson6902") and isinstance(item, yaml.MappingNode):
                fields = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
                path, patch = fields.get("path"), fields.get("patch")
                if isinstance(path, yaml.ScalarNode):
                    yield where, path.value, None
                elif isinstance(patch, yaml.ScalarNode):
                    yield where, None, patch
