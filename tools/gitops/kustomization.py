"""Kustomization files: finding one, reading one, telling remote entries from local ones, and
walking an overlay's local bases and components.

One walker for every caller that follows ``resources``/``components``/``bases`` through the
repository (the ``remote-base`` rule, input sets for change detection), so that what counts
as "remote" and which directories are visited is decided once.

    >>> is_remote("github.com/org/repo//deploy?ref=v1.2.0")
    True
    >>> is_remote("git::https://example.com/org/repo.git")
    True
    >>> is_remote("../../base/web")
    False
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio

# The names kustomize looks for in a directory, in its order
# (api/konfig: RecognizedKustomizationFileNames).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Fields whose entries are other kustomizations, directories or files kustomize reads.
REFERENCE_FIELDS = ("resources", "components", "bases")

# A URL scheme, an scp-like git address, go-getter's git:: prefix, a host name with a dot
# (github.com/org/repo), or a ref/version query: the forms kustomize fetches instead of reading
# from disk (api/internal/git/repospec.go).
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|git::|[a-z0-9-]+(\.[a-z0-9-]+)+/)", re.I)


def is_remote(entry: str) -> bool:
    """Whether a resources/components/bases entry is a remote target (not a local path)."""
    text = entry.strip()
    return bool(_REMOTE.match(text)) or "?ref=" in text or "?version=" in text


def find_kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def load_kustomization(path: Path) -> dict[str, Any] | None:
    """The kustomization's mapping; None when it cannot be read or is not a mapping (the
    render reports why)."""
    try:
        document = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def reference_entries(document: dict[str, Any]) -> Iterator[str]:
    """The non-empty string entries of resources, components and bases, stripped."""
    for field_name in REFERENCE_FIELDS:
        entries = document.get(field_name)
        if isinstance(entries, list):
            yield from (e.strip() for e in entries if isinstance(e, str) and e.strip())


@dataclass(frozen=True)
class Visited:
    """One kustomization reached by :func:`walk` and the entries it references."""

    path: Path  # the kustomization file
    directory: Path
    document: dict[str, Any]
    local_dirs: tuple[Path, ...]  # referenced directories that exist (walked next)
    remote: tuple[str, ...]  # entries that do not exist locally and look remote
    missing: tuple[str, ...]  # entries that neither exist locally nor look remote


def classify(directory: Path, entry: str) -> str:
    """ "dir", "file", "remote" or "missing": an entry that exists on disk is local whatever it
    looks like (``config.d/patch.yaml`` is a file, not a host), else remote if it looks remote."""
    local = directory / entry
    try:
        exists, is_dir = local.exists(), local.is_dir()
    except (OSError, ValueError):  # a name too long or with a NUL byte: not a path
        exists = is_dir = False
    if exists:
        return "dir" if is_dir else "file"
    return "remote" if is_remote(entry) else "missing"


def walk(directory: Path, seen: set[Path] | None = None) -> Iterator[Visited]:
    """The kustomization in ``directory``, then (depth first, each directory once) those of
    the local directories it references. Unreadable kustomizations are skipped."""
    seen = set() if seen is None else seen
    resolved = directory.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    path = find_kustomization(directory)
    document = load_kustomization(path) if path is not None else None
    if path is None or document is None:
        return
    local: list[Path] = []
    remote: list[str] = []
    missing: list[str] = []
    for entry in reference_entries(document):
        kind = classify(directory, entry)
        if kind == "dir":
            local.append(directory / entry)
        elif kind == "remote":
            remote.append(entry)
        elif kind == "missing":
            missing.append(entry)
    yield Visited(path, directory, document, tuple(local), tuple(remote), tuple(missing))
    for child in local:
        yield from walk(child, seen)


# Fields whose entries are paths, as kustomize reads them (api/types/kustomization.go).
_PATH_LIST_FIELDS = (
    "resources",
    "components",
    "bases",
    "crds",
    "configurations",
    "transformers",
    "generators",
    "validators",
    "patchesStrategicMerge",
)


def referencing_field(directory: Path, target: Path) -> str | None:
    """Which field of the kustomization in ``directory`` names the file or folder ``target``
    (``resources``, ``configurations``, ``secretGenerator 'db' envs``, ``patches``...), or
    None when none does (or the kustomization cannot be read)."""
    path = find_kustomization(directory)
    document = load_kustomization(path) if path is not None else None
    if document is None:
        return None
    wanted = _resolved(target)
    for name, entry in _path_entries(document):
        if _resolved(directory / entry) == wanted:
            return name
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path


def _path_entries(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, path) for every entry of the kustomization that names a local path."""
    for name in _PATH_LIST_FIELDS:
        yield from ((name, e) for e in _strings(document.get(name)))
    for name in ("patches", "patchesJson6902", "replacements"):
        for item in _dicts(document.get(name)):
            yield from ((name, e) for e in _strings(item.get("path")))
    yield from _generator_paths(document)
    for item in _dicts(document.get("helmCharts")):
        for entry in _strings(item.get("valuesFile")) + _strings(item.get("additionalValuesFiles")):
            yield f"helmCharts {item.get('name')!r} values", entry
    openapi = document.get("openapi")
    if isinstance(openapi, dict):
        yield from (("openapi", e) for e in _strings(openapi.get("path")))


def _generator_paths(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """ConfigMap/Secret generators' files (``key=path`` or ``path``) and env files."""
    for name in ("configMapGenerator", "secretGenerator"):
        for item in _dicts(document.get(name)):
            label = f"{name} {item.get('name')!r}"
            for entry in _strings(item.get("files")):
                yield f"{label} files", entry.split("=", 1)[-1]
            for entry in _strings(item.get("envs")) + _strings(item.get("env")):
                yield f"{label} envs", entry


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
