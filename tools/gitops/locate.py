"""Where a finding's cause is written: the file and line of the value it is about.

A finding about a resource names the file that defined it (``source``) and the files that
patched it (``patches``, from kustomize's build metadata, gitops.tracing); the rule says which
value it read (``Finding.field``). The finding is located on the line that set that value: the
last patch that sets it (an inline patch: its line in the kustomization; a patch file: that
file's line; an ``images:`` or ``replicas:`` entry: that entry), else the value's line in the
source file, found by walking the YAML node marks along the field; without a field, the
resource's first line. The other files that shaped the resource are related locations. Every
location is an existing file of the repository; a finding about something that is no file
(an overlay folder without a kustomization) has none.

A chart's object is located in its template (gitops.helm.templates reads a template's YAML
shape on its own lines), on the line that writes the value; the value files that shaped it
are its patches, and the line of the last one setting a ``.Values`` key that template line
reads comes first among the related locations.

    >>> finding = Locator(repo).locate(finding, resource)
    >>> finding.location
    Location(path='overlays/prod/healthz/kustomization.yaml', line=14)
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops.helm.templates import (
    PLACEHOLDER,
    is_template,
    matches_name,
    template_nodes,
    values_read,
)
from gitops.kustomization import KUSTOMIZATION_FILES, find_kustomization
from gitops.model import FieldPath, Finding, Location, Resource, image_name
from gitops.tracing import patches_applied
from gitops.yamlio import compose_nodes

# A list item is the same item in a patch or source when this key matches (strategic merge
# keys of the lists a rule points into: containers, ports, env, volumes, volume mounts).
_ITEM_KEYS = ("name", "containerPort", "port", "mountPath")


@dataclass
class Locator:
    repo: Path
    _nodes: dict[str, list[yaml.Node]] = field(default_factory=dict, repr=False)
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def locate(self, finding: Finding, resource: Resource | None) -> Finding:
        """The finding with its location and related locations (a location it already has, a
        kustomization key problem's, is kept)."""
        if finding.location is not None:
            return finding
        if resource is None:
            location = self._file(finding.source) if finding.source else None
            return dataclasses.replace(finding, location=location)
        primary = None
        if finding.field:
            for patch in reversed(resource.patches):
                primary = self._in_patch(patch, resource, finding.field)
                if primary is not None:
                    break
        source = self._in_source(resource, finding.field)
        primary = primary or source
        in_values = self._in_values(resource, source)
        related = [in_values] + [
            self._file(p)
            for p in resource.patches
            if in_values is None or p != in_values.path  # that file's line comes first
        ]
        related.append(source)
        kept = tuple(dict.fromkeys(r for r in related if r is not None and r != primary))
        return dataclasses.replace(finding, location=primary, related=kept)

    # --- files -----------------------------------------------------------------------------

    def _documents(self, rel: str) -> list[yaml.Node]:
        if rel not in self._nodes:
            text = "\n".join(self._text_lines(rel))
            self._nodes[rel] = template_nodes(text) if is_template(text) else compose_nodes(text)
        return self._nodes[rel]

    def _text_lines(self, rel: str) -> list[str]:
        if rel not in self._lines:
            try:
                text = (self.repo / rel).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            self._lines[rel] = text.split("\n")
        return self._lines[rel]

    # --- chart values ------------------------------------------------------------------------

    def _in_values(self, resource: Resource, source: Location | None) -> Location | None:
        """For an object a chart template wrote: the line of the last value file (the
        resource's patches, in order) that sets a ``.Values`` key the template line reads."""
        if source is None or not resource.patches:
            return None
        lines = self._text_lines(source.path)
        line = lines[source.line - 1] if 0 < source.line <= len(lines) else ""
        keys = values_read(line)
        for values_file in reversed(resource.patches):
            documents = self._documents(values_file)
            if len(documents) != 1 or not isinstance(documents[0], yaml.MappingNode):
                continue
            for key in keys:
                found, complete = _descend(documents[0], key, None)
                if complete:
                    return Location(values_file, found)
        return None

    def _file(self, rel: str) -> Location | None:
        """A file as a whole: its first line; a folder: its kustomization's."""
        path = self.repo / rel
        if path.is_dir():
            kustomization = find_kustomization(path)
            return Location(_rel(self.repo, kustomization), 1) if kustomization else None
        return Location(rel, 1) if path.is_file() else None

    # --- the source --------------------------------------------------------------------------

    def _in_source(self, resource: Resource, path: FieldPath) -> Location | None:
        """The value's line in the file (or, for argocd/, the folder) that defined it."""
        source = resource.source
        if not source or "//" in source:  # none, or a remote base
            return None
        candidates = [source]
        if (self.repo / source).is_dir():
            candidates = sorted(
                p.relative_to(self.repo).as_posix() for p in (self.repo / source).rglob("*.y*ml")
            )
        for rel in candidates:
            document = _resource_document(self._documents(rel), resource)
            if document is not None:
                return Location(rel, _descend(document, path, resource.body)[0])
        return self._file(source)

    # --- patches -----------------------------------------------------------------------------

    def _in_patch(self, patch: str, resource: Resource, path: FieldPath) -> Location | None:
        """The line of ``patch`` that sets the value, or None when it does not set it."""
        if posixpath.basename(patch) in KUSTOMIZATION_FILES:
            return self._in_kustomization(patch, resource, path)
        for document in self._documents(patch):
            line = _line_setting(document, path, resource)
            if line is not None:
                return Location(patch, line)
        return None

    def _in_kustomization(self, rel: str, resource: Resource, path: FieldPath) -> Location | None:
        """An inline patch, an ``images:`` or a ``replicas:`` entry of the kustomization."""
        documents = self._documents(rel)
        if len(documents) != 1 or not isinstance(documents[0], yaml.MappingNode):
            return None
        kustomization = documents[0]
        patches = _child(kustomization, "patches")
        applied = patches_applied(str(self.repo.resolve()), rel, resource.body)
        for index, file in reversed(applied):
            if file is not None or not isinstance(patches, yaml.SequenceNode):
                continue
            line = _inline_line(patches, index, path, resource)
            if line is not None:
                return Location(rel, line)
        return _entry_line(kustomization, rel, path, resource)


def _rel(repo: Path, path: Path) -> str:
    return path.relative_to(repo).as_posix()


def _inline_line(
    patches: yaml.SequenceNode, index: int, path: FieldPath, resource: Resource
) -> int | None:
    """The file line of the value in the inline patch ``patches[index]``: a literal block
    keeps its lines (the patch's line i is the line after the ``|`` plus i); another style
    is located at the patch's first line."""
    if index >= len(patches.value):
        return None
    text = _child(patches.value[index], "patch")
    if not isinstance(text, yaml.ScalarNode):
        return None
    for document in compose_nodes(text.value):
        line = _line_setting(document, path, resource)
        if line is not None:
            # start_mark is the 0-based line of the indicator; the patch's line 1 is the next
            return (
                text.start_mark.line + 1 + line if text.style == "|" else text.start_mark.line + 1
            )
    return None


def _entry_line(
    kustomization: yaml.MappingNode, rel: str, path: FieldPath, resource: Resource
) -> Location | None:
    """``images:`` (a container image) and ``replicas:`` (spec.replicas) entries."""
    if path and path[-1] == "image":
        image = _value_at(resource.body, path)
        if isinstance(image, str):
            name = image_name(image)
            for entry in _items(_child(kustomization, "images")):
                fields = _scalars(entry)
                if name in (fields.get("newName"), fields.get("name")):
                    return Location(rel, _first_line(entry, ("newTag", "digest", "newName")))
    if path == ("spec", "replicas"):
        for entry in _items(_child(kustomization, "replicas")):
            if _scalars(entry).get("name") == resource.name:
                return Location(rel, _first_line(entry, ("count",)))
    return None


def _line_setting(document: yaml.Node, path: FieldPath, resource: Resource) -> int | None:
    """The line in one patch document that sets the value at ``path`` (the patch's own
    numbering, 1-based): a strategic merge patch for the resource holding the field, or a JSON
    6902 operation on the field or a field above it."""
    if isinstance(document, yaml.SequenceNode):
        pointer = "/" + "/".join(str(p) for p in path)
        for operation in _items(document):
            target = _scalars(operation).get("path")
            if isinstance(target, str) and (pointer == target or pointer.startswith(target + "/")):
                return _first_line(operation, ("path",))
        return None
    if not isinstance(document, yaml.MappingNode) or not _is_for(document, resource):
        return None
    line, complete = _descend(document, path, resource.body)
    return line if complete and path else None


# --- YAML nodes ----------------------------------------------------------------------------


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                child: yaml.Node = value
                return child
    return None


def _items(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    if isinstance(node, yaml.SequenceNode):
        yield from (item for item in node.value if isinstance(item, yaml.MappingNode))


def _scalars(node: yaml.MappingNode) -> dict[str, str]:
    return {
        k.value: v.value
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
    }


def _first_line(node: yaml.MappingNode, keys: tuple[str, ...]) -> int:
    """The line of the first of ``keys`` the mapping has, else of the mapping."""
    for key in keys:
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return int(key_node.start_mark.line) + 1
    return int(node.start_mark.line) + 1


def _is_for(document: yaml.MappingNode, resource: Resource) -> bool:
    """Whether a document is the resource's: its kind, and its name (the source's name may
    lack the prefix, suffix or hash kustomize added)."""
    if _scalars(document).get("kind") != resource.kind:
        return False
    metadata = _child(document, "metadata")
    name = _scalars(metadata).get("name") if isinstance(metadata, yaml.MappingNode) else None
    if name is not None and PLACEHOLDER in name:
        return matches_name(name, resource.name)  # a chart template's name
    return name is None or name == resource.name or (bool(name) and name in resource.name)


def _resource_document(documents: list[yaml.Node], resource: Resource) -> yaml.Node | None:
    mappings = [d for d in documents if isinstance(d, yaml.MappingNode)]
    exact = [d for d in mappings if _is_for(d, resource)]
    return exact[0] if exact else None


def line_of(node: yaml.Node, path: FieldPath, body: Any) -> int:
    """The 1-based line of the value at ``path`` in a document's YAML ``node`` (``body`` is
    that document, parsed): of the deepest part of the path the document holds."""
    return _descend(node, path, body)[0]


def _descend(node: yaml.Node, path: FieldPath, body: Any) -> tuple[int, bool]:
    """The 1-based line of the deepest node along ``path`` (keys, and list items matched by
    name where the rendered item has one), and whether the whole path was found."""
    line = int(node.start_mark.line) + 1
    for part in path:
        if isinstance(part, str) and isinstance(node, yaml.MappingNode):
            found = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == part
                ),
                None,
            )
            if found is None:
                return line, False
            line, node = int(found[0].start_mark.line) + 1, found[1]
            body = body.get(part) if isinstance(body, dict) else None
        elif isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            item = body[part] if isinstance(body, list) and part < len(body) else None
            index = _same_item(node, item, part)
            if index is None:
                return line, False
            node, body = node.value[index], item
            line = int(node.start_mark.line) + 1
        else:
            return line, False
    return line, True


def _same_item(sequence: yaml.SequenceNode, item: Any, index: int) -> int | None:
    """The index in ``sequence`` of the rendered list item ``item``: by its name (or port,
    mount path) when it has one, else by position."""
    if isinstance(item, dict):
        for key in _ITEM_KEYS:
            if key in item:
                wanted = str(item[key])
                for i, candidate in enumerate(sequence.value):
                    if isinstance(candidate, yaml.MappingNode) and (
                        _scalars(candidate).get(key) == wanted
                    ):
                        return i
                return None
    return index if index < len(sequence.value) else None


def _value_at(body: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(body, dict):
            body = body.get(part)
        elif isinstance(part, int) and isinstance(body, list) and part < len(body):
            body = body[part]
        else:
            return None
    return body
