"""kustomize's ``helmCharts:``: which chart folder each entry inflates, whether it is in the
repository, and the ``helm template`` kustomize runs for it.

kustomize (api/internal/builtins/HelmChartInflationGenerator.go, api/types/helmchartargs.go)
reads the chart from ``<chartHome>/<name>`` (``chartHome`` of ``helmGlobals``, default
``charts``, relative to the kustomization), or ``<chartHome>/<name>-<version>/<name>`` when
the entry names both ``repo`` and ``version`` (absChartHome). A chart not there is pulled
with ``helm pull`` from ``repo`` (an ``oci://`` registry or a chart repository): gitops never
lets that happen. Such an entry is reported as remote, like a remote base, and the overlay is
not built.

The arguments (HelmChart.AsHelmArgs): ``template <releaseName | --generate-name>
<chartHome>/<name> [--namespace NS] [--name-template T] [-f valuesFile] [-f additional]...
[--api-versions V]... [--kube-version V] [--include-crds] [--skip-tests] [--no-hooks]``, where
``valuesFile`` defaults to the chart's values.yaml and ``valuesInline`` is merged into it
(``valuesMerge``: override, the default, puts the inline values over the file's; merge puts
the file's over them; replace uses the inline values alone). The build's own output is
kustomize's; gitops renders an entry itself only to learn which template made which object
(helm's ``# Source:`` headers, which kustomize drops).

    >>> charts = inflated_charts(repo, "overlays/staging/web", kustomization)
    >>> charts[0].chart_dir, charts[0].local
    ('charts/web', True)
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CHART_HOME = "charts"  # types.HelmDefaultHome
_MERGE_MODES = ("override", "merge", "replace")


@dataclass(frozen=True)
class InflatedChart:
    """One ``helmCharts`` entry of the kustomization in ``kustomization_dir``."""

    name: str
    kustomization_dir: str  # repo-relative
    chart_dir: str  # repo-relative, where kustomize reads (or would pull) the chart
    local: bool  # the chart folder exists: kustomize reads it and pulls nothing
    repo: str = ""
    version: str = ""
    release_name: str = ""
    namespace: str = ""
    name_template: str = ""
    values_file: str = ""  # repo-relative; "" = the chart's values.yaml
    additional_values_files: tuple[str, ...] = ()
    values_inline: Mapping[str, Any] = field(default_factory=dict, compare=False)
    values_merge: str = "override"
    include_crds: bool = False
    skip_hooks: bool = False
    skip_tests: bool = False
    api_versions: tuple[str, ...] = ()
    kube_version: str = ""

    def remote_text(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"helm chart {self.name}{version} from {self.repo}"

    def template_args(
        self, values_file: str, api_versions: tuple[str, ...], kube_version: str
    ) -> tuple[str, ...]:
        """HelmChart.AsHelmArgs for a run in the kustomization folder: ``values_file`` is the
        merged values file kustomize would write; ``api_versions`` and ``kube_version`` are
        the build's ``--helm-api-versions``/``--helm-kube-version``, which win over the entry's
        (HelmChartInflationGenerator Config: "CLI args takes precedence")."""
        args = ["template"]
        args += [self.release_name] if self.release_name else ["--generate-name"]
        args.append(posixpath.relpath(self.chart_dir, self.kustomization_dir))
        if self.namespace:
            args += ["--namespace", self.namespace]
        if self.name_template:
            args += ["--name-template", self.name_template]
        args += ["-f", values_file]
        for extra in self.additional_values_files:
            args += ["-f", posixpath.relpath(extra, self.kustomization_dir)]
        for version in api_versions or self.api_versions:
            args += ["--api-versions", version]
        if kube_version or self.kube_version:
            args += ["--kube-version", kube_version or self.kube_version]
        if self.include_crds:
            args.append("--include-crds")
        if self.skip_tests:
            args.append("--skip-tests")
        if self.skip_hooks:
            args.append("--no-hooks")
        return tuple(args)

    def default_values_file(self) -> str:
        return self.values_file or posixpath.join(self.chart_dir, "values.yaml")

    def merged_values(self, file_values: Any) -> Any:
        """The values kustomize writes for helm when the entry has ``valuesInline``
        (createNewMergedValuesFile; merge2 semantics for mappings: the winning side's scalars
        and lists replace, mappings merge key by key)."""
        inline = dict(self.values_inline)
        if self.values_merge == "replace" or not isinstance(file_values, Mapping):
            return inline
        if self.values_merge == "merge":
            return _merged(inline, file_values)
        return _merged(file_values, inline)


def inflated_charts(
    repo: Path, kustomization_dir: str, document: Mapping[str, Any]
) -> list[InflatedChart]:
    """The ``helmCharts`` entries of one kustomization (its parsed ``document``), in order;
    entries that are not mappings or name no chart are left to kustomize to report."""
    globals_ = document.get("helmGlobals")
    home = DEFAULT_CHART_HOME
    if isinstance(globals_, Mapping) and isinstance(globals_.get("chartHome"), str):
        home = globals_["chartHome"]
    charts = []
    for entry in document.get("helmCharts") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        charts.append(_chart(repo, kustomization_dir, home, entry))
    return charts


def _chart(
    repo: Path, kustomization_dir: str, home: str, entry: Mapping[str, Any]
) -> InflatedChart:
    name = str(entry["name"])
    repository, version = str(entry.get("repo") or ""), str(entry.get("version") or "")
    chart_home = posixpath.normpath(posixpath.join(kustomization_dir, home))
    if version and repository:
        chart_home = posixpath.join(chart_home, f"{name}-{version}")
    chart_dir = posixpath.join(chart_home, name)
    merge = str(entry.get("valuesMerge") or "override")

    def relative(path: Any) -> str:
        return posixpath.normpath(posixpath.join(kustomization_dir, str(path)))

    values_file = entry.get("valuesFile")
    return InflatedChart(
        name=name,
        kustomization_dir=kustomization_dir,
        chart_dir=chart_dir,
        local=(repo / chart_dir).is_dir(),
        repo=repository,
        version=version,
        release_name=str(entry.get("releaseName") or ""),
        namespace=str(entry.get("namespace") or ""),
        name_template=str(entry.get("nameTemplate") or ""),
        values_file=relative(values_file) if isinstance(values_file, str) and values_file else "",
        additional_values_files=tuple(
            relative(p) for p in entry.get("additionalValuesFiles") or []
        ),
        values_inline=dict(entry.get("valuesInline") or {}),
        values_merge=merge if merge in _MERGE_MODES else "override",
        include_crds=bool(entry.get("includeCRDs")),
        skip_hooks=bool(entry.get("skipHooks")),
        skip_tests=bool(entry.get("skipTests")),
        api_versions=tuple(str(v) for v in entry.get("apiVersions") or []),
        kube_version=str(entry.get("kubeVersion") or ""),
    )


def _merged(base: Any, override: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = {str(k): copy.deepcopy(v) for k, v in base.items()}
        for key, value in override.items():
            merged[str(key)] = _merged(merged.get(str(key)), value) if str(key) in merged else value
        return merged
    return copy.deepcopy(override)
