"""One chart render of an Argo CD Application, as data: what ``helm template`` reads and the
arguments Argo CD passes, in its order (resolved from the Application by
gitops.helm.application; argo-cd util/helm/cmd.go ``template``).

    >>> source.template_args(values_file=None)[:4]
    ('template', '.', '--name-template', 'prod-web')
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class ChartSource:
    """What ``helm template`` reads for one Application's chart, resolved as Argo CD resolves
    it. Paths are repo-relative POSIX paths."""

    application: str
    chart_dir: str
    chart: str  # the name in Chart.yaml: helm's ``# Source:`` headers start with it
    release_name: str
    namespace: str
    kube_version: str  # "" when none
    api_versions: tuple[str, ...]
    value_files: tuple[str, ...]
    values: str  # the valuesObject/values YAML, "" when none
    parameters: tuple[tuple[str, str], ...] = ()  # --set, by name
    string_parameters: tuple[tuple[str, str], ...] = ()  # --set-string, by name
    file_parameters: tuple[tuple[str, str], ...] = ()  # --set-file name -> repo-relative path
    skip_crds: bool = False
    skip_schema_validation: bool = False
    skip_tests: bool = False
    remote: tuple[str, ...] = ()  # inputs Argo CD would fetch: never fetched here
    problems: tuple[str, ...] = ()  # what Argo CD itself refuses (reported as render errors)

    def template_args(self, values_file: str | None) -> tuple[str, ...]:
        """helm's arguments, in Argo CD's order, for a run in the chart folder; value files
        relative to it, ``values_file`` the file holding :attr:`values` (None: no values)."""
        args = ["template", ".", "--name-template", self.release_name]
        if self.namespace:
            args += ["--namespace", self.namespace]
        if self.kube_version:
            args += ["--kube-version", self.kube_version]
        args += self._set_args()
        for path in self.value_files:
            args += ["--values", self._relative(path)]
        if values_file is not None:
            args += ["--values", values_file]
        for version in self.api_versions:
            args += ["--api-versions", version]
        if not self.skip_crds:
            args.append("--include-crds")
        if self.skip_schema_validation:
            args.append("--skip-schema-validation")
        if self.skip_tests:
            args.append("--skip-tests")
        return tuple(args)

    def _set_args(self) -> list[str]:
        """``--set``, ``--set-string`` then ``--set-file``, each ``name=value``."""
        args: list[str] = []
        for flag, pairs in (("--set", self.parameters), ("--set-string", self.string_parameters)):
            for name, value in pairs:
                args += [flag, f"{name}={clean_set_parameter(value)}"]
        for name, path in self.file_parameters:
            args += ["--set-file", f"{name}={clean_set_parameter(self._relative(path))}"]
        return args

    def input_files(self) -> tuple[str, ...]:
        """The files besides the chart folder's that the render reads."""
        return (*self.value_files, *(path for _name, path in self.file_parameters))

    def identity(self) -> str:
        """Everything but the files that decides the output: part of the render cache key."""
        return json.dumps(
            [
                self.release_name,
                self.namespace,
                self.kube_version,
                self.api_versions,
                self.value_files,
                self.values,
                self.parameters,
                self.string_parameters,
                self.file_parameters,
                self.skip_crds,
                self.skip_schema_validation,
                self.skip_tests,
            ]
        )

    def _relative(self, rel_path: str) -> str:
        return posixpath.relpath(rel_path, self.chart_dir)


def clean_set_parameter(value: str) -> str:
    """util/helm/cmd.go cleanSetParameters: a ``{...}`` list is passed as is; otherwise every
    comma not already escaped is escaped, so helm reads one value."""
    if value.startswith("{") and value.endswith("}"):
        return value
    out: list[str] = []
    previous = ""
    for char in value:
        out.append("\\," if char == "," and previous != "\\" else char)
        previous = char
    return "".join(out)
