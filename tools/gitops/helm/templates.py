"""A chart template's YAML shape, with the template's own line numbers, to locate a finding on
the template line that wrote the value (gitops.locate).

A template is YAML with Go template actions in it. Every action is replaced by a placeholder
(``__tpl__``) and a line left with nothing but actions (``{{- if ... }}``, ``{{- toYaml ... |
nindent 4 }}``) is emptied, keeping every newline, so the text composes as YAML whose node
marks are the template's lines. Both branches of an ``if``/``else`` stay in (a key may then
appear twice; the first is found); an action that writes whole keys leaves nothing to find.
Which ``.Values`` a line reads is kept, so a finding can point at the value file that set it.

    >>> nodes = template_nodes(text)
    >>> values_read('image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
    [('image', 'repository'), ('image', 'tag')]
"""

from __future__ import annotations

import re

import yaml

from gitops.yamlio import compose_nodes

PLACEHOLDER = "__tpl__"
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def is_template(text: str) -> bool:
    return "{{" in text


def sanitize(text: str) -> str:
    """The template as plain YAML on the same lines (see the module docstring)."""
    out: list[str] = []
    position = 0
    for match in _ACTION.finditer(text):
        out.append(text[position : match.start()])
        out.append(PLACEHOLDER + "\n" * match.group(0).count("\n"))
        position = match.end()
    out.append(text[position:])
    lines = "".join(out).split("\n")
    return "\n".join("" if _only_actions(line) else line for line in lines)


def _only_actions(line: str) -> bool:
    stripped = line.replace(PLACEHOLDER, "").strip()
    return PLACEHOLDER in line and not stripped


def template_nodes(text: str) -> list[yaml.Node]:
    """The documents of a template as YAML nodes on its own lines; none when even the
    placeholder text is not YAML."""
    return compose_nodes(sanitize(text))


def values_read(line: str) -> list[tuple[str, ...]]:
    """The ``.Values`` paths a template line reads, in order."""
    return [tuple(m.group(1).lstrip(".").split(".")) for m in _VALUES_REF.finditer(line)]


def matches_name(pattern: str, name: str) -> bool:
    """Whether a rendered name fits a template's ``metadata.name`` (placeholders match
    anything; kustomize may have added a prefix or suffix)."""
    if PLACEHOLDER not in pattern:
        return pattern in name
    parts = [re.escape(p) for p in pattern.split(PLACEHOLDER)]
    return re.search(".*".join(parts), name) is not None
