"""Edit one kustomization's ``images:`` entry and nothing else, byte for byte.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, but a dump still applies
one indentation style and line width to the whole document. So the document is edited and
dumped with ruamel.yaml, and only the ``images:`` block of that dump is spliced into the
original text; every other line is the original's. Two checks guard the result: it must load
to exactly the intended data, and inside the block only the edited entry's lines may differ.
Anything else is refused with the file named, never written.

    >>> text = "resources:\\n  - ../base  # keep me\\nimages:\\n  - name: web\\n    newTag: 1.0\\n"
    >>> print(set_image_entry(text, "k.yaml", "web", Version("1.1")), end="")
    resources:
      - ../base  # keep me
    images:
      - name: web
        newTag: '1.1'
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.scalarstring import ScalarString

from gitops.release.refs import ReleaseError, Version

IMAGES_KEY = "images"
# Where a new images: block goes: after the last of these keys present (kustomize's own field
# order puts images after resources and components), else at the end.
_INSERT_AFTER = ("resources", "components", "namePrefix", "nameSuffix", "namespace")
_DEFAULT_SEQUENCE_INDENT = (4, 2)  # "  - name: x": the layout this repository uses


class EditError(ReleaseError):
    """A kustomization cannot be edited without changing more than the one entry."""


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1 << 16  # never fold a long line
    return rt


def read_image_entries(text: str, source: str) -> list[dict[str, Any]]:
    """The ``images:`` entries of a kustomization (plain dicts), ``[]`` when there are none."""
    data = _safe_load(text, source)
    entries = data.get(IMAGES_KEY) or []
    if not isinstance(entries, list):
        raise EditError(f"{source}: images must be a list of entries, got {type(entries).__name__}")
    return [e for e in entries if isinstance(e, dict)]


def set_image_entry(text: str, source: str, name: str, version: Version) -> str:
    """``text`` with the entry whose ``name`` is ``name`` pinned to ``version`` (its ``newTag``
    and ``digest`` set or removed; ``newName`` and every other key kept), or a new entry
    appended; a missing ``images:`` block is created."""
    if text.count("\r\n") and text.count("\r\n") == text.count("\n"):
        # A Windows-style file: edited as "\n" and written back with "\r\n" on every line.
        edited = set_image_entry(text.replace("\r\n", "\n"), source, name, version)
        return edited.replace("\n", "\r\n")
    if text and not text.endswith("\n"):
        text += "\n"  # the one change outside the entry: a missing final newline is added
    rt = _yaml()
    try:
        document = rt.load(text)
    except RuamelYAMLError as exc:
        raise EditError(f"{source}: invalid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(document, CommentedMap):
        raise EditError(f"{source}: expected a Kustomization mapping at the top level")
    expected = _expected_data(_safe_load(text, source), source, name, version)
    lines = text.splitlines(keepends=True)
    current = document.get(IMAGES_KEY)
    if IMAGES_KEY in document and (current is None or (isinstance(current, list) and not current)):
        result, allowed = _fill_empty_block(document, lines, rt, name, version)
    elif IMAGES_KEY in document:
        result, allowed = _edit_existing(document, lines, rt, source, name, version)
    else:
        result, allowed = _insert_block(document, lines, rt, source, name, version)
    _verify(text, result, source, expected, allowed)
    return result


def _safe_load(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EditError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise EditError(f"{source}: expected a Kustomization mapping at the top level")
    return data


def _expected_data(
    data: dict[str, Any], source: str, name: str, version: Version
) -> dict[str, Any]:
    """The document as it must load after the edit: the plain-data model of the change."""
    expected = copy.deepcopy(data)
    entries = expected.get(IMAGES_KEY) or []
    if not isinstance(entries, list):
        raise EditError(f"{source}: images must be a list of entries, got {type(entries).__name__}")
    entry = next((e for e in entries if isinstance(e, dict) and e.get("name") == name), None)
    if entry is None:
        entry = {"name": name}
        entries.append(entry)
    for key, value in (("newTag", version.tag), ("digest", version.digest)):
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    expected[IMAGES_KEY] = entries
    return expected


def _new_value(old: Any, value: str) -> Any:
    # Keep the quoting the file used for this field ("1.0" stays double-quoted).
    if isinstance(old, ScalarString):
        return type(old)(value)
    return value


def _set_fields(entry: CommentedMap, version: Version) -> None:
    for key, value in (("newTag", version.tag), ("digest", version.digest)):
        if value is None:
            if key in entry:
                del entry[key]
        else:
            entry[key] = _new_value(entry.get(key), value)


def _new_entry(name: str, version: Version) -> CommentedMap:
    entry = CommentedMap()
    entry["name"] = name
    _set_fields(entry, version)
    return entry


def _edit_existing(
    document: CommentedMap,
    lines: list[str],
    rt: YAML,
    source: str,
    name: str,
    version: Version,
) -> tuple[str, tuple[int, int]]:
    entries = document[IMAGES_KEY]
    if not isinstance(entries, CommentedSeq):
        raise EditError(f"{source}: images must be a list of entries")
    start, end = _key_span(document, IMAGES_KEY, len(lines))
    index = next(
        (i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("name") == name), None
    )
    sequence, offset = _sequence_indent(entries, lines, document.lc.key(IMAGES_KEY)[1])
    if index is None and not entries.fa.flow_style():
        # Appending: dump the new entry alone in the block's layout and insert its lines after
        # the last entry, before any comment that introduces the next key.
        at = end
        while at > start + 1 and _is_noise(lines[at - 1]):
            at -= 1
        block_doc = CommentedMap()
        block_doc[IMAGES_KEY] = CommentedSeq([_new_entry(name, version)])
        entry_lines = _dump(rt, block_doc, sequence, offset).splitlines(keepends=True)[1:]
        indent = " " * document.lc.key(IMAGES_KEY)[1]
        added = [indent + line if line.strip() else line for line in entry_lines]
        return "".join([*lines[:at], *added, *lines[at:]]), (at, at)
    if index is None:  # a flow list, [{...}, {...}]: one line, rewritten as a whole
        entries.append(_new_entry(name, version))
        allowed = (start, end)
    else:
        _set_fields(entries[index], version)
        entry_start = entries.lc.item(index)[0]
        entry_end = entries.lc.item(index + 1)[0] if index + 1 < len(entries) else end
        allowed = (entry_start, entry_end)
    dumped = _dump(rt, document, sequence, offset)
    dumped_doc = rt.load(dumped)
    dumped_lines = dumped.splitlines(keepends=True)
    new_start, new_end = _key_span(dumped_doc, IMAGES_KEY, len(dumped_lines))
    block = _trim_trailing_noise(dumped_lines[new_start:new_end], lines[start:end])
    return "".join([*lines[:start], *block, *lines[end:]]), allowed


def _fill_empty_block(
    document: CommentedMap, lines: list[str], rt: YAML, name: str, version: Version
) -> tuple[str, tuple[int, int]]:
    """``images:`` or ``images: []``: that key's line becomes a block with the one entry."""
    start, end = _key_span(document, IMAGES_KEY, len(lines))
    sequence, offset = _file_sequence_indent(document, lines)
    block_doc = CommentedMap()
    block_doc[IMAGES_KEY] = CommentedSeq([_new_entry(name, version)])
    indent = " " * document.lc.key(IMAGES_KEY)[1]
    block = [
        indent + line if line.strip() else line
        for line in _dump(rt, block_doc, sequence, offset).splitlines(keepends=True)
    ]
    kept = lines[start + 1 : end]  # comment or blank lines after the key stay
    return "".join([*lines[:start], *block, *kept, *lines[end:]]), (start, start + 1)


def _file_sequence_indent(document: CommentedMap, lines: list[str]) -> tuple[int, int]:
    """The layout of the file's first block list, else this repository's."""
    for key in document:
        value = document[key]
        if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
            return _sequence_indent(value, lines, document.lc.key(key)[1])
    return _DEFAULT_SEQUENCE_INDENT


def _insert_block(
    document: CommentedMap,
    lines: list[str],
    rt: YAML,
    source: str,
    name: str,
    version: Version,
) -> tuple[str, tuple[int, int]]:
    keys = list(document.keys())
    anchors = [k for k in keys if k in _INSERT_AFTER and k != IMAGES_KEY]
    if anchors:
        anchor = max(anchors, key=keys.index)
        _anchor_start, anchor_end = _key_span(document, anchor, len(lines))
        at = anchor_end
        # Comments and blank lines just above the next key belong to that key.
        while at > _anchor_start + 1 and _is_noise(lines[at - 1]):
            at -= 1
    else:
        at = len(lines)
    sequence, offset = _file_sequence_indent(document, lines)
    block_doc = CommentedMap()
    block_doc[IMAGES_KEY] = CommentedSeq([_new_entry(name, version)])
    block = _dump(rt, block_doc, sequence, offset).splitlines(keepends=True)
    head = list(lines[:at])
    if head and not head[-1].endswith("\n"):
        head[-1] += "\n"
    return "".join([*head, *block, *lines[at:]]), (at, at)


def _dump(rt: YAML, document: CommentedMap, sequence: int, offset: int) -> str:
    rt.indent(mapping=2, sequence=sequence, offset=offset)
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue()


def _key_span(document: CommentedMap, key: str, total_lines: int) -> tuple[int, int]:
    """Lines [start, end) of a top-level key and its value, up to the next top-level key."""
    keys = list(document.keys())
    start = int(document.lc.key(key)[0])
    following = keys[keys.index(key) + 1 :]
    end = int(document.lc.key(following[0])[0]) if following else total_lines
    return start, end


def _sequence_indent(seq: CommentedSeq, lines: list[str], parent_column: int) -> tuple[int, int]:
    """(sequence indent, dash offset) of a block list as written in the file."""
    if not len(seq) or seq.fa.flow_style():
        return _DEFAULT_SEQUENCE_INDENT
    line, column = seq.lc.item(0)
    dash = lines[line].rfind("-", 0, column)
    if dash < 0:
        return _DEFAULT_SEQUENCE_INDENT
    return column - parent_column, dash - parent_column


_NOISE = re.compile(r"^\s*(#.*)?$")


def _is_noise(line: str) -> bool:
    return bool(_NOISE.match(line))


def _trim_trailing_noise(block: list[str], original: list[str]) -> list[str]:
    """ruamel.yaml may move blank or comment lines that end the block; keep the original's."""
    trimmed = list(block)
    while trimmed and _is_noise(trimmed[-1]):
        trimmed.pop()
    tail = list(original)
    kept_tail: list[str] = []
    while tail and _is_noise(tail[-1]):
        kept_tail.insert(0, tail.pop())
    return trimmed + kept_tail


def _verify(
    before: str, after: str, source: str, expected: dict[str, Any], allowed: tuple[int, int]
) -> None:
    try:
        loaded = yaml.safe_load(after)
    except yaml.YAMLError as exc:  # pragma: no cover - ruamel.yaml's own output
        problem = str(exc).splitlines()[0]
        raise EditError(
            f"{source}: the edit produced invalid YAML ({problem}); nothing written"
        ) from exc
    if loaded != expected:
        raise EditError(
            f"{source}: cannot edit images: without changing other content; "
            "edit the file by hand (nothing written)"
        )
    changed = _first_line_outside(
        before.splitlines(keepends=True), after.splitlines(keepends=True), allowed
    )
    if changed is not None:
        raise EditError(
            f"{source}: cannot edit images: without reformatting line {changed + 1}; "
            "edit the file by hand (nothing written)"
        )


def _first_line_outside(old: list[str], new: list[str], allowed: tuple[int, int]) -> int | None:
    """The first line of ``old`` outside the lines [low, high) the edit may replace that is
    not kept byte for byte in ``new`` (the lines before ``low`` in place, those from ``high``
    on at the end), or None. Compared by position, not by a diff: a diff may align an
    inserted entry with an identical line next to it (two entries ending in the same
    ``newTag``) and blame a line the edit never touched."""
    low, high = allowed
    high = max(high, low)
    kept_tail = len(old) - high
    for index in range(low):
        if index >= len(new) or old[index] != new[index]:
            return index
    if len(new) - kept_tail < low:  # no room for the kept lines after the head: some are gone
        return high
    for index in range(kept_tail):
        if old[high + index] != new[len(new) - kept_tail + index]:
            return high + index
    return None
