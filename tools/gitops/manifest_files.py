"""Which files ``gitops validate`` reads as Kubernetes objects: one rule, for files named on the
command line and files found in a folder alike.

Every ``*.yaml``, ``*.yml`` and ``*.json`` file is an input (in a folder, hidden files and
folders excluded) unless it is known not to hold Kubernetes objects; those are skipped with a
note saying why:

- kustomization files (``kustomization.yaml``, ``kustomization.yml``, ``Kustomization``);
- files a kustomization in the file's folder or up to three folders above uses as something
  other than a resource: patches (``patches``, ``patchesStrategicMerge``, ``patchesJson6902``),
  ``replacements``, transformer configurations (``configurations``), plugin configurations
  (``transformers``, ``generators``, ``validators``), ``openapi.path``, generator inputs
  (``configMapGenerator``/``secretGenerator`` ``files`` and ``envs``) and Helm values files;
- Helm files: ``Chart.yaml``, ``values.yaml``, ``values-*.yaml``, ``values.*.yaml`` and
  ``requirements.yaml`` next to a ``Chart.yaml`` or holding no object (no document with both
  ``apiVersion`` and ``kind``), and templates of a chart (they need helm to become YAML).

A skipped file is never silently dropped: the report lists it, and a run in which nothing is
left to validate exits 2.

    >>> rule = ManifestFiles()
    >>> rule.skip_reason("deploy/kustomization.yaml", "resources: [app.yaml]")
    'a kustomization file, not a Kubernetes object'
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitops.kustomization import KUSTOMIZATION_FILES, find_kustomization, load_kustomization

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
_KUSTOMIZATION_NAMES = frozenset(KUSTOMIZATION_FILES)
_HELM_NAMES = (
    "Chart.yaml",
    "values.yaml",
    "values.yml",
    "values-*.y*ml",
    "values.*.y*ml",
    "requirements.yaml",
    "requirements.yml",
)
_HELM_TEMPLATE = re.compile(r"\{\{-?\s")
# A top-level apiVersion and kind in some document: the file holds an object.
_OBJECT_KEYS = (re.compile(r"^apiVersion\s*:", re.M), re.compile(r"^kind\s*:", re.M))
_JSON_OBJECT_KEYS = (re.compile(r'"apiVersion"\s*:'), re.compile(r'"kind"\s*:'))
KUSTOMIZE_LEVELS = 3  # how many folders above a file a kustomization may name it from

# kustomization field -> what a file it names is (for the note).
_PATCH = "a kustomize patch (validated as part of its kustomization's output)"
_ROLES = {
    "patches": _PATCH,
    "patchesStrategicMerge": _PATCH,
    "patchesJson6902": _PATCH,
    "replacements": "a kustomize replacements file",
    "configurations": "a kustomize transformer configuration",
    "transformers": "a kustomize transformer plugin configuration",
    "generators": "a kustomize generator plugin configuration",
    "validators": "a kustomize validator plugin configuration",
    "openapi": "a kustomize OpenAPI schema",
    "configMapGenerator": "a ConfigMap generator input",
    "secretGenerator": "a Secret generator input",
    "helmCharts": "Helm values (used by helmCharts)",
}


class ManifestFiles:
    """The input rule, with the kustomizations it reads memoised per folder (a folder of many
    files reads each kustomization once)."""

    def __init__(self) -> None:
        self._named: dict[Path, dict[str, str]] = {}

    def skip_reason(self, source: str, text: str) -> str | None:
        """Why the file is not a set of Kubernetes objects, or None when it is an input."""
        if source == STDIN:
            return None
        path = Path(source)
        if path.name in _KUSTOMIZATION_NAMES:
            return "a kustomization file, not a Kubernetes object"
        role = self._kustomize_role(path)
        if role is not None:
            return role
        return _helm_reason(path, text)

    def _kustomize_role(self, path: Path) -> str | None:
        target = os.path.normpath(path.resolve())
        for folder in [path.parent, *path.parent.parents[:KUSTOMIZE_LEVELS]]:
            role = self._named_in(folder).get(target)
            if role is not None:
                return role
        return None

    def _named_in(self, folder: Path) -> dict[str, str]:
        """Absolute path -> role of every file the folder's kustomization names as a
        non-resource input."""
        key = folder.resolve()
        if key not in self._named:
            kustomization = find_kustomization(folder)
            document = load_kustomization(kustomization) if kustomization is not None else None
            self._named[key] = {
                os.path.normpath(key / name): _ROLES[field]
                for field, name in _named_files(document or {})
                if "\n" not in name
            }
        return self._named[key]


def _named_files(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, file name) of every file the kustomization reads as something else than a
    resource."""
    plain = ("patchesStrategicMerge", "configurations", "transformers", "generators", "validators")
    for field in plain:
        yield from ((field, n) for n in _strings(document.get(field)))
    for field in ("patches", "patchesJson6902", "replacements"):
        for entry in _as_list(document.get(field)):
            name = entry.get("path") if isinstance(entry, dict) else entry
            if isinstance(name, str):
                yield field, name
    openapi = document.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi", openapi["path"]
    yield from _generator_files(document)


def _generator_files(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """ConfigMap/Secret generators' ``files`` (``key=path`` or ``path``) and env files, and
    Helm charts' values files."""
    for field in ("configMapGenerator", "secretGenerator"):
        for generator in _as_list(document.get(field)):
            if isinstance(generator, dict):
                files = [f.split("=", 1)[-1] for f in _strings(generator.get("files"))]
                envs = [*_strings(generator.get("envs")), *_strings(generator.get("env"))]
                yield from ((field, n) for n in [*files, *envs])
    for chart in _as_list(document.get("helmCharts")):
        if isinstance(chart, dict):
            values = [chart.get("valuesFile"), *_as_list(chart.get("additionalValuesFiles"))]
            yield from (("helmCharts", n) for n in values if isinstance(n, str))


def _helm_reason(path: Path, text: str) -> str | None:
    in_chart = (path.parent / "Chart.yaml").is_file()
    if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in _HELM_NAMES) and (
        in_chart or not holds_objects(path.name, text)
    ):
        return "a Helm chart file" if in_chart else "a Helm values or requirements file"
    if any((parent / "Chart.yaml").is_file() for parent in path.parents[:4]) and (
        "templates" in path.parts or _HELM_TEMPLATE.search(text)
    ):
        return "a Helm template (gitops check renders its chart with helm)"
    return None


def holds_objects(name: str, text: str) -> bool:
    """Whether some document of the file has a top-level ``apiVersion`` and ``kind`` (a cheap
    look at the text: a Helm values file never has both)."""
    keys = _JSON_OBJECT_KEYS if name.endswith(".json") else _OBJECT_KEYS
    return all(key.search(text) for key in keys)


def manifest_files(folder: Path) -> Iterator[Path]:
    """The candidate files below ``folder``: manifest suffixes, hidden files and folders
    excluded (.git, editor folders)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                yield Path(root) / name


def _strings(value: Any) -> list[str]:
    return [v for v in _as_list(value) if isinstance(v, str)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
