"""A generated corpus of mutated manifests for differential validation: every document kind we
render (prod overlays + argocd/), each unchanged and with mutations derived from its own
structure: unknown and misspelt fields, wrong types, bad enums, invalid quantities, label keys
and values, missing required fields, bad and too-long names, negative numbers.

    >>> [m.mutation for m in mutate({"apiVersion": "v1", "kind": "ConfigMap",
    ...     "metadata": {"name": "x"}, "data": {"a": "b"}})][:3]
    ['unchanged', 'unknown-field', 'misspelt-field']
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

# Fields whose value is one of a fixed set in the API (core/v1, apps/v1, networking/v1,
# policy/v1, autoscaling/v2 types; Argo CD's documented fields).
ENUM_KEYS = (
    "imagePullPolicy",
    "restartPolicy",
    "protocol",
    "pathType",
    "unhealthyPodEvictionPolicy",
    "dnsPolicy",
    "policyTypes",
    "scheme",
    "operator",
    "whenUnsatisfiable",
    "type",
)
QUANTITY_KEYS = ("cpu", "memory", "ephemeral-storage")
# Fields the API documents as required, per kind (paths that exist in our manifests).
REQUIRED: dict[str, tuple[Path, ...]] = {
    "Deployment": (("spec", "selector"), ("spec", "template", "spec", "containers")),
    "Job": (("spec", "template", "spec", "containers"),),
    "Service": (("spec", "ports", 0, "port"),),
    "HorizontalPodAutoscaler": (("spec", "scaleTargetRef"), ("spec", "maxReplicas")),
    "Ingress": (("spec", "rules", 0, "http", "paths", 0, "backend"),),
    "NetworkPolicy": (("spec", "podSelector"),),
    "Role": (("rules", 0, "verbs"),),
    "RoleBinding": (("roleRef",), ("subjects", 0, "kind")),
    "ServiceMonitor": (("spec", "selector"),),
    "Application": (("spec", "destination"), ("spec", "project")),
    "ApplicationSet": (("spec", "generators"), ("spec", "template")),
    "AppProject": (("spec",),),
}
SKIP_TOP = ("apiVersion", "kind", "metadata", "status")


@dataclass(frozen=True)
class Mutant:
    base: str  # Kind/name of the source document
    mutation: str
    path: str  # where the change is, dotted ("" for the document)
    doc: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.base}:{self.mutation}:{self.path}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.id.encode()).hexdigest()[:8]


def _walk(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key in node:
            if path == () and key in SKIP_TOP:
                continue
            yield from _walk(node[key], (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index))


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _exists(doc: Any, path: Path) -> bool:
    try:
        _get(doc, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _dotted(path: Path) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path)


def _first(doc: dict[str, Any], test: Callable[[Path, Any], bool]) -> Path | None:
    return next((p for p, v in _walk(doc) if p and test(p, v)), None)


def _set(doc: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = _get(out, path[:-1])
    parent[path[-1]] = value
    return out


def _delete(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = _get(out, path[:-1])
    del parent[path[-1]]
    return out


def _rename(doc: dict[str, Any], path: Path, new: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = _get(out, path[:-1])
    parent[new] = parent.pop(path[-1])
    return out


Add = Callable[[str, Path, dict[str, Any]], None]


def _is_int(p: Path, v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_named_string(p: Path, v: Any) -> bool:
    names = ("image", "name", "path", "project", "repoURL", "verbs")
    return isinstance(v, str) and isinstance(p[-1], str) and p[-1] in names


def _structure_mutations(doc: dict[str, Any], add: Add) -> None:
    """An unknown field next to the body's fields, and the first body field misspelt."""
    body_key = next((k for k in ("spec", "data", "rules", "roleRef") if k in doc), None)
    container: Path = (body_key,) if body_key and isinstance(doc[body_key], dict) else ()
    add("unknown-field", (*container, "unknownField"), _set(doc, (*container, "unknownField"), 1))
    mapping = _get(doc, container) if container else doc
    keys = sorted(k for k in mapping if not (container == () and k in SKIP_TOP))
    if keys:
        path = (*container, keys[0])
        add("misspelt-field", path, _rename(doc, path, keys[0] + "s"))


def _type_mutations(doc: dict[str, Any], add: Add) -> None:
    path = _first(doc, _is_int)
    if path:
        add("wrong-type-int", path, _set(doc, path, "not-a-number"))
        add("negative-int", path, _set(doc, path, -5))
    path = _first(doc, _is_named_string)
    if path:
        add("wrong-type-string", path, _set(doc, path, 12345))
    path = _first(doc, lambda p, v: isinstance(v, bool))
    if path:
        add("wrong-type-bool", path, _set(doc, path, "yes-please"))
    path = _first(doc, lambda p, v: isinstance(v, list) and p[-1] not in ("args", "command"))
    if path:
        add("wrong-type-list", path, _set(doc, path, {"not": "a list"}))


def _enum_path(doc: dict[str, Any], key: str) -> Path | None:
    path = _first(doc, lambda p, v: p[-1] == key and isinstance(v, str))
    return path if path is not None else _first(doc, lambda p, v: len(p) > 1 and p[-2] == key)


def _value_mutations(doc: dict[str, Any], add: Add) -> None:
    """Bad enum values and quantities."""
    for key in ENUM_KEYS:
        path = _enum_path(doc, key)
        if path:
            add("bad-enum", path, _set(doc, path, "Bogus"))
    path = _first(doc, lambda p, v: isinstance(p[-1], str) and p[-1] in QUANTITY_KEYS)
    if path:
        add("bad-quantity", path, _set(doc, path, "12xyz"))
        add("negative-quantity", path, _set(doc, path, "-100m"))
        add("bad-quantity-suffix", path, _set(doc, path, "1.5.Gi"))


def _label_mutations(doc: dict[str, Any], add: Add) -> None:
    labels = ("metadata", "labels", "gitops-test")
    labelled = copy.deepcopy(doc)
    labelled["metadata"].setdefault("labels", {})
    add("bad-label-value", labels, _set(labelled, labels, "-bad value-"))
    add("long-label-value", labels, _set(labelled, labels, "v" * 64))
    bad_key = ("metadata", "labels", "bad key/with/slashes")
    add("bad-label-key", bad_key, _set(labelled, bad_key, "x"))
    path = _first(doc, lambda p, v: p[-1] == "matchLabels" and isinstance(v, dict))
    if path:
        add("bad-selector-value", (*path, "x"), _set(doc, (*path, "x"), "not valid!"))


def _required_mutations(doc: dict[str, Any], add: Add) -> None:
    for required in REQUIRED.get(doc["kind"], ()):
        if _exists(doc, required):
            add("missing-required", required, _delete(doc, required))
    path = _first(doc, lambda p, v: p[-1] == "containers" and isinstance(v, list) and bool(v))
    if path:
        add("missing-required", (*path, 0, "name"), _delete(doc, (*path, 0, "name")))
        add("missing-required", (*path, 0, "image"), _delete(doc, (*path, 0, "image")))


def mutate(doc: dict[str, Any]) -> list[Mutant]:
    base = f"{doc['kind']}/{doc['metadata']['name']}"
    out: list[Mutant] = []

    def add(mutation: str, path: Path, changed: dict[str, Any]) -> None:
        out.append(Mutant(base, mutation, _dotted(path), changed))

    add("unchanged", (), copy.deepcopy(doc))
    for mutations in (
        _structure_mutations,
        _type_mutations,
        _value_mutations,
        _label_mutations,
        _required_mutations,
    ):
        mutations(doc, add)
    name = ("metadata", "name")
    add("name-64", name, _set(doc, name, "n" * 64))
    add("name-254", name, _set(doc, name, "n" * 254))
    add("name-uppercase", name, _set(doc, name, "Bad_Name"))
    return out


def corpus(bases: list[dict[str, Any]]) -> list[Mutant]:
    seen: set[str] = set()
    out = []
    for doc in bases:
        for mutant in mutate(doc):
            if mutant.id not in seen:
                seen.add(mutant.id)
                out.append(mutant)
    return out
