"""The helm processes of a render, built and read here and run by the Workspace's runner: an
Argo CD chart source's ``helm template``, and the render of a kustomize ``helmCharts`` entry
that says which template made which object (kustomize drops helm's ``# Source:`` headers).

Every helm process runs as Argo CD runs it (argo-cd util/helm/cmd.go ``run``): in a fresh
home (``HELM_CONFIG_HOME``, ``XDG_CACHE_HOME``, ``XDG_CONFIG_HOME``, ``XDG_DATA_HOME`` under a
temporary folder, so no repository or plugin of the user's own helm is read), with the
render timeout and memory limit of a kustomize build.

    >>> result = render_chart(HelmRun(helm, settings, runner), repo, overlay.chart)
    >>> result.error or result.stdout[:3]
    '---'
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.config import KustomizeSettings
from gitops.errors import CommandError
from gitops.helm.binary import Helm
from gitops.helm.inflation import InflatedChart
from gitops.helm.output import (
    chart_name,
    chart_paths_in_repo,
    error_location,
    repo_path,
    source_at,
    source_headers,
)
from gitops.helm.source import ChartSource
from gitops.model import Location, ResourceKey
from gitops.runner import Command, Runner

VALUES_PLACEHOLDER = "<temp file with values from source.helm.values/valuesObject>"


@dataclass(frozen=True)
class HelmRun:
    """How the helm processes of a workspace run: the binary, the limits, the runner."""

    helm: Helm
    settings: KustomizeSettings
    runner: Runner

    def command(
        self, args: tuple[str, ...], cwd: Path, home: Path, timeout: float | None = None
    ) -> Command:
        return Command(
            argv=(self.helm.binary, *args),
            cwd=cwd,
            timeout=self.settings.timeout if timeout is None else timeout,
            memory_limit=self.settings.memory_limit,
            env=helm_environment(home),
        )


@dataclass(frozen=True)
class ChartRender:
    """One ``helm template``: its output, or its error with the template line it names."""

    stdout: str | None
    error: str | None
    location: Location | None
    seconds: float


def helm_environment(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with helm's homes in ``home`` (util/helm/cmd.go run)."""
    env = dict(os.environ if environ is None else environ)
    env.update(
        {
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "HELM_CONFIG_HOME": str(home / "config"),
        }
    )
    return env


def render_chart(run: HelmRun, repo: Path, source: ChartSource) -> ChartRender:
    """``helm template`` of an Argo CD chart source, in its chart folder."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gitops-helm-") as home:
        values_file = None
        if source.values:
            values_file = str(Path(home) / "values.yaml")
            Path(values_file).write_text(source.values, encoding="utf-8")
        command = run.command(
            source.template_args(values_file), repo / source.chart_dir, Path(home)
        )
        try:
            stdout = run.runner(command).stdout
        except CommandError as exc:
            message = helm_message(str(exc), command, source.chart, source.chart_dir)
            if values_file is not None:
                message = message.replace(values_file, VALUES_PLACEHOLDER)
            location = error_location(str(exc), source.chart, source.chart_dir, repo)
            return ChartRender(None, message, location, time.perf_counter() - started)
    return ChartRender(stdout, None, None, time.perf_counter() - started)


def helm_message(error: str, command: Command, chart: str, chart_dir: str) -> str:
    """helm's error in words a person reads: its own message without the argv, the chart's
    paths as repo-relative paths (``web/templates/x.yaml`` -> ``charts/web/templates/x.yaml``)."""
    quoted = command.quoted()
    if error.startswith(f"{quoted} timed out after "):
        seconds = error.rsplit(" ", 1)[-1]
        return (
            f"helm timed out after {seconds} (kustomize.timeoutSeconds in gitops.yaml, "
            "--render-timeout)"
        )
    prefix = f"{quoted} exited "
    if error.startswith(prefix):
        error = error[len(prefix) :].split(": ", 1)[-1]
    return chart_paths_in_repo(error, chart, chart_dir)


def inflated_templates(
    run: HelmRun, repo: Path, chart: InflatedChart, helm_flags: tuple[str, ...]
) -> dict[ResourceKey, str]:
    """Which template of a kustomize-inflated chart renders which object: helm's own render
    of the entry, with the arguments kustomize passes (``helm_flags``: the build's
    ``--helm-kube-version``/``--helm-api-versions``), keyed by kind and name (apiVersion and
    namespace left empty: kustomize may change the namespace). Empty when that render fails:
    the build itself succeeded, so only the template names are lost."""
    api_versions = tuple(_flag_values(helm_flags, "--helm-api-versions"))
    kube_version = next(iter(_flag_values(helm_flags, "--helm-kube-version")), "")
    with tempfile.TemporaryDirectory(prefix="gitops-helm-") as home:
        values_file = _inflation_values(repo, chart, Path(home))
        if values_file is None:
            return {}
        args = chart.template_args(values_file, api_versions, kube_version)
        command = run.command(args, repo / chart.kustomization_dir, Path(home))
        try:
            stdout = run.runner(command).stdout
        except CommandError:
            return {}
    name = chart_name(repo, chart.chart_dir)
    headers = source_headers(stdout)
    found: dict[ResourceKey, str] = {}
    for document in yamlio.read_documents(stdout, chart.chart_dir).documents:
        header = source_at(headers, document.line)
        path = repo_path(header, name, chart.chart_dir) if header else None
        key = ResourceKey.of(document.body)
        if path is not None:
            found.setdefault(ResourceKey("", key.kind, "", key.name), path)
    return found


def template_of(templates: Mapping[ResourceKey, str], body: Mapping[str, Any]) -> str | None:
    """The template :func:`inflated_templates` found for a rendered object: by kind and name,
    else the one template of that kind whose object's name is in the rendered name (kustomize
    may have added a prefix or suffix); None when that is not one."""
    key = ResourceKey.of(body)
    exact = templates.get(ResourceKey("", key.kind, "", key.name))
    if exact is not None:
        return exact
    matches = [path for k, path in templates.items() if k.kind == key.kind and k.name in key.name]
    return matches[0] if len(matches) == 1 else None


def _inflation_values(repo: Path, chart: InflatedChart, home: Path) -> str | None:
    """The values file kustomize hands helm (a copy of ``valuesFile``, with ``valuesInline``
    merged in), written into ``home``; None when the file cannot be read."""
    try:
        text = (repo / chart.default_values_file()).read_text(encoding="utf-8")
        values: Any = yamlio.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if chart.values_inline:
        values = chart.merged_values(values)
    path = home / f"{chart.name}-kustomize-values.yaml"
    path.write_text(json.dumps(values, default=str) if values is not None else "", encoding="utf-8")
    return str(path)


def _flag_values(flags: tuple[str, ...], name: str) -> list[str]:
    return [flags[i + 1] for i, flag in enumerate(flags[:-1]) if flag == name]
