"""Input sets: every file kustomize reads to build an overlay, recursively.

Resources, components, patches, generators' files and env files, transformers, replacements,
Helm values and OpenAPI files are followed through local bases and components. ``gitops diff``
uses the sets to render only the overlays a change touches; the render cache uses them as its
key. A set that cannot be fully resolved says why (``unresolved``), and its users then fall back
to rendering.

    >>> inputs = InputResolver(repo).overlay_inputs("overlays/prod/healthz")
    >>> sorted(inputs.files)[:2]
    ['base/healthz/deployment.yaml', 'base/healthz/hpa.yaml']
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.helm.inflation import inflated_charts
from gitops.kustomization import classify, find_kustomization


@dataclass(frozen=True)
class InputSet:
    """What one kustomization (recursively) reads, as repo-relative POSIX paths."""

    files: frozenset[str] = frozenset()
    directories: frozenset[str] = frozenset()  # every file below counts (helm charts, plain dirs)
    remote: frozenset[str] = frozenset()  # URLs: not files, so not part of change detection
    unresolved: tuple[str, ...] = ()  # why the set may be incomplete: then always render
    # helmCharts: the chart folders kustomize inflates from the repository, and the charts it
    # would pull ("helm chart <name> <version> from <repo>", gitops.helm.inflation).
    charts: frozenset[str] = frozenset()
    remote_charts: frozenset[str] = frozenset()

    def union(self, other: InputSet) -> InputSet:
        return InputSet(
            self.files | other.files,
            self.directories | other.directories,
            self.remote | other.remote,
            self.unresolved + tuple(u for u in other.unresolved if u not in self.unresolved),
            self.charts | other.charts,
            self.remote_charts | other.remote_charts,
        )

    @property
    def inflates_charts(self) -> bool:
        return bool(self.charts or self.remote_charts)

    def touched_by(self, changed: Iterable[str]) -> list[str]:
        """The changed paths that are inputs of this set."""
        hits = []
        for path in changed:
            if path in self.files or any(
                path.startswith(d.rstrip("/") + "/") for d in self.directories
            ):
                hits.append(path)
        return sorted(hits)


class InputResolver:
    """Computes :class:`InputSet` for kustomization directories under ``root``, memoised per
    directory so shared bases and components are parsed once per side."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo: dict[str, InputSet] = {}

    def overlay_inputs(self, rel_dir: str) -> InputSet:
        return self._directory(posixpath.normpath(rel_dir), ())

    def _directory(self, rel_dir: str, stack: tuple[str, ...]) -> InputSet:
        if rel_dir in self._memo:
            return self._memo[rel_dir]
        if rel_dir in stack:
            return InputSet(unresolved=(f"{rel_dir}: kustomization cycle",))
        kustomization = find_kustomization(self.root / rel_dir)
        if kustomization is None:
            # A plain directory (or a missing one): any file below it may matter.
            result = InputSet(directories=frozenset({rel_dir}))
        else:
            result = self._kustomization(rel_dir, kustomization, (*stack, rel_dir))
        self._memo[rel_dir] = result
        return result

    def _kustomization(self, rel_dir: str, path: Path, stack: tuple[str, ...]) -> InputSet:
        rel_file = posixpath.join(rel_dir, path.name)
        found = InputSet(files=frozenset({rel_file}))
        try:
            doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return found.union(InputSet(unresolved=(f"{rel_file}: cannot parse: {reason}",)))
        if doc is None:
            return found
        if not isinstance(doc, dict):
            return found.union(InputSet(unresolved=(f"{rel_file}: not a mapping",)))
        for entry in self._entries(rel_file, doc):
            found = found.union(self._entry(rel_dir, rel_file, entry, stack))
        return found.union(self._charts(rel_dir, doc))

    def _charts(self, rel_dir: str, doc: dict[str, Any]) -> InputSet:
        """The helmCharts entries' chart folders (each file below them is an input) and the
        charts kustomize would pull instead."""
        local: set[str] = set()
        remote: set[str] = set()
        for chart in inflated_charts(self.root, rel_dir, doc):
            if chart.local:
                local.add(chart.chart_dir)
            elif chart.repo:
                remote.add(chart.remote_text())
        return InputSet(
            directories=frozenset(local), charts=frozenset(local), remote_charts=frozenset(remote)
        )

    def _entries(self, rel_file: str, doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """(kind of reference, value) for every field that names a file or directory."""
        for fld in ("resources", "components", "bases", "crds", "configurations"):
            for value in _as_list(doc.get(fld)):
                yield ("path-or-dir", value)
        for fld in ("transformers", "generators", "validators"):
            for value in _as_list(doc.get(fld)):
                yield ("plugin", value)
        for value in _as_list(doc.get("patchesStrategicMerge")):
            yield ("inline-or-file", value)
        yield from _patch_entries(doc)
        yield from _generator_entries(doc)
        yield from _helm_entries(doc)
        openapi = doc.get("openapi")
        if isinstance(openapi, dict) and "path" in openapi:
            yield ("file", openapi["path"])

    def _entry(
        self, rel_dir: str, rel_file: str, entry: tuple[str, Any], stack: tuple[str, ...]
    ) -> InputSet:
        kind, value = entry
        if not isinstance(value, str):
            return InputSet(unresolved=(f"{rel_file}: unexpected entry {value!r}",))
        if kind in ("inline-or-file", "plugin") and "\n" in value:
            return InputSet()  # inline YAML: part of the kustomization file itself
        if self._remote(rel_dir, value):
            return InputSet(remote=frozenset({value}))
        target = posixpath.normpath(posixpath.join(rel_dir, value))
        if kind == "dir":
            return InputSet(directories=frozenset({target}))
        if kind in ("path-or-dir", "plugin") and (self.root / target).is_dir():
            return self._directory(target, stack)
        found = InputSet(files=frozenset({target}))
        if kind == "plugin":
            found = found.union(self._plugin_config(rel_dir, target))
        return found

    def _remote(self, rel_dir: str, entry: str) -> bool:
        """Remote the way the kustomization walker decides it: a path that exists is local."""
        return classify(self.root / rel_dir, entry) == "remote"

    def _plugin_config(self, rel_dir: str, rel_file: str) -> InputSet:
        """Files a transformer/generator config names (PatchTransformer ``path``, generator
        ``files``/``envs``, Helm ``valuesFile``); relative to the kustomization directory."""
        try:
            docs = list(yamlio.safe_load_all((self.root / rel_file).read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            return InputSet()  # kustomize reports it; the file itself is already an input
        found = InputSet()
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            names = [doc.get("path"), doc.get("valuesFile"), *_as_list(doc.get("envs"))]
            names += [f.split("=", 1)[-1] for f in _as_list(doc.get("files")) if isinstance(f, str)]
            for name in names:
                if isinstance(name, str) and name and not self._remote(rel_dir, name):
                    found = found.union(
                        InputSet(
                            files=frozenset({posixpath.normpath(posixpath.join(rel_dir, name))})
                        )
                    )
        return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _patch_entries(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Patches and replacements: a ``path`` is a file, a string an inline patch or a file."""
    for fld in ("patches", "patchesJson6902", "replacements"):
        for value in _as_list(doc.get(fld)):
            if isinstance(value, dict):
                if "path" in value:
                    yield ("file", value["path"])
            elif isinstance(value, str):
                yield ("inline-or-file", value)


def _generator_entries(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """ConfigMap/Secret generators' ``files`` (``key=path`` or ``path``) and env files."""
    for fld in ("configMapGenerator", "secretGenerator"):
        for generator in _as_list(doc.get(fld)):
            if not isinstance(generator, dict):
                continue
            for value in _as_list(generator.get("files")):
                yield ("file", value.split("=", 1)[-1] if isinstance(value, str) else value)
            for value in [*_as_list(generator.get("envs")), generator.get("env")]:
                if value is not None:
                    yield ("file", value)


def _helm_entries(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Helm charts' values files, and the chart home (every file below it) when charts are
    inflated."""
    charts = _as_list(doc.get("helmCharts"))
    for chart in charts:
        if isinstance(chart, dict):
            for value in [chart.get("valuesFile"), *_as_list(chart.get("additionalValuesFiles"))]:
                if value is not None:
                    yield ("file", value)
    if charts or doc.get("helmChartInflationGenerator"):
        globals_ = doc.get("helmGlobals") or {}
        home = globals_.get("chartHome", "charts") if isinstance(globals_, dict) else "charts"
        yield ("dir", home)
