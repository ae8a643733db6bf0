"""An Argo CD Application whose source is a chart directory of this repository, and the exact
``helm template`` Argo CD runs for it.

Which Applications render with helm (argo-cd reposerver/repository GetAppSourceType and
util/app/discovery Discover): an explicit ``source.helm`` makes the source a Helm source
(``source.kustomize``, ``directory`` or ``plugin`` make it something else; two of them are an
error); otherwise the source path's own folder decides, a kustomization file winning over a
``Chart.yaml`` (Discover walks the folder in lexical order and the later match wins).

The arguments (argo-cd reposerver/repository helmTemplate, util/helm/cmd.go template), in
Argo CD's order, run in the chart folder (util/helm/helm.go: ``template(".", ...)``):

``template . --name-template NAME [--namespace NS] [--kube-version V] [--set k=v]...
[--set-string k=v]... [--set-file k=path]... [--values FILE]... [--values EXTRA]
[--api-versions GV]... [--include-crds] [--skip-schema-validation] [--skip-tests]``

* NAME: ``helm.releaseName``, else the Application's name (helmTemplate: "We use the app name
  as Helm's release name");
* NS: ``helm.namespace``, else the destination namespace (GetNamespaceOrDefault);
* V: ``helm.kubeVersion``, else the cluster's (gitops.yaml ``kubernetesVersion``), read the way
  k8s.io/apimachinery version.ParseGeneric reads it (parseKubeVersion);
* ``--set``/``--set-string``: ``helm.parameters`` by ``forceString``, one per name (a map:
  the last wins), values with Argo CD's build environment substituted (Env.Envsubst);
  ``--set-file``: ``helm.fileParameters``;
* ``--values``: ``helm.valueFiles`` relative to the chart folder, a leading ``/`` relative
  to the repository root (util/io/path ResolveValueFilePathOrUrl), a missing one dropped with
  ``ignoreMissingValueFiles`` (getResolvedValueFiles); then one file holding ``valuesObject``,
  else ``values`` (ApplicationSourceHelm.ValuesYAML: the object wins), so both override the
  files, and parameters override everything (helm's own precedence);
* GV: ``helm.apiVersions``, else the cluster's API versions (gitops.helm.capabilities);
* ``--include-crds`` unless ``skipCrds``; ``skipSchemaValidation``, ``skipTests``.

Nothing is fetched: a value file given as a URL, or one of another source (``$ref/...``), is
reported as remote (:attr:`ChartSource.remote`), like a remote base.

    >>> source = chart_source(app, config, api_versions=("apps/v1",))
    >>> source.template_args(values_file=None)[:4]
    ('template', '.', '--name-template', 'prod-web')
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.argocd import Application
from gitops.config import RepoConfig
from gitops.helm.output import chart_name
from gitops.helm.source import ChartSource
from gitops.kustomization import find_kustomization

CHART_FILE = "Chart.yaml"
# Source types Argo CD decides explicitly (ApplicationSource.ExplicitType).
_EXPLICIT_TYPES = {"kustomize": "Kustomize", "helm": "Helm", "directory": "Directory"}
_EXPLICIT_TYPES["plugin"] = "Plugin"
# k8s.io/apimachinery/pkg/util/version versionMatchRE.
_KUBE_VERSION = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$")


def source_of(app: Application) -> dict[str, Any]:
    """The Application's source (the first of ``sources``, as gitops.argocd reads its path)."""
    source = app.spec.get("source")
    if not isinstance(source, dict) or not source:
        sources = app.spec.get("sources")
        source = sources[0] if isinstance(sources, list) and sources else {}
    return source if isinstance(source, dict) else {}


def is_chart_source(repo: Path, app: Application) -> bool:
    """Whether Argo CD renders the Application's path with helm (GetAppSourceType)."""
    source = source_of(app)
    explicit = [name for name in _EXPLICIT_TYPES if source.get(name) is not None]
    if explicit:
        return explicit == ["helm"]
    folder = repo / app.path
    if find_kustomization(folder) is not None:
        return False
    return (folder / CHART_FILE).is_file()


def remote_chart(app: Application) -> str | None:
    """``<chart> <version> from <repoURL>`` when the Application's source is a chart of a Helm
    repository or OCI registry (``source.chart``): nothing of this repository to render."""
    source = source_of(app)
    chart = source.get("chart")
    if not chart:
        return None
    version = source.get("targetRevision") or "latest"
    return f"chart {chart} {version} from {source.get('repoURL', '?')}"


def chart_source(
    app: Application, config: RepoConfig, api_versions: Sequence[str], repo: Path
) -> ChartSource:
    """The chart render of ``app`` (a chart source of the checkout ``repo``), resolved as Argo
    CD's helmTemplate resolves it; ``api_versions``: the cluster's (gitops.helm.capabilities)."""
    source = source_of(app)
    raw_helm = source.get("helm")
    helm: dict[str, Any] = raw_helm if isinstance(raw_helm, dict) else {}
    env = build_environment(app)
    problems: list[str] = []
    version = str(helm.get("version") or "")
    if version not in ("", "v3"):
        # util/helm/cmd.go NewCmd: only v3 (or nothing) is accepted.
        problems.append(f"helm chart version '{version}' is not supported")
    kube_version, problem = parse_kube_version(
        str(helm.get("kubeVersion") or config.kubernetes_version)
    )
    problems += [problem] if problem else []
    value_files, remote, value_problems = _value_files(app, helm, env, repo)
    parameters, string_parameters = _parameters(helm, env)
    file_parameters = []
    for item in _dicts(helm.get("fileParameters")):
        path, _remote, _problem = resolve_value_file(
            app.path, envsubst(str(item.get("path", "")), env)
        )
        if path is not None:
            file_parameters.append((str(item.get("name", "")), path))
    explicit_api = [str(v) for v in helm.get("apiVersions") or []]
    return ChartSource(
        application=app.name,
        chart_dir=app.path,
        chart=chart_name(repo, app.path),
        release_name=str(helm.get("releaseName") or app.name),
        namespace=str(helm.get("namespace") or app.destination.get("namespace") or ""),
        kube_version=kube_version,
        api_versions=tuple(explicit_api or api_versions),
        value_files=value_files,
        values=values_yaml(helm),
        parameters=parameters,
        string_parameters=string_parameters,
        file_parameters=tuple(sorted(file_parameters)),
        skip_crds=bool(helm.get("skipCrds")),
        skip_schema_validation=bool(helm.get("skipSchemaValidation")),
        skip_tests=bool(helm.get("skipTests")),
        remote=(*remote, *missing_dependencies(repo, app.path)),
        problems=(*problems, *value_problems),
    )


def missing_dependencies(repo: Path, chart_dir: str) -> list[str]:
    """The chart's dependencies (Chart.yaml ``dependencies``) that are not in its ``charts/``
    folder (as ``<name>/`` or ``<name>-<version>.tgz``): helm template fails on them ("found in
    Chart.yaml, but missing in charts/ directory") and Argo CD then runs ``helm dependency
    build``, which pulls them (helmTemplate, IsMissingDependencyErr)."""
    try:
        document = yamlio.safe_load((repo / chart_dir / CHART_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # helm reports the chart itself
    dependencies = document.get("dependencies") if isinstance(document, dict) else None
    charts = repo / chart_dir / "charts"
    missing = []
    for dependency in _dicts(dependencies):
        name = str(dependency.get("name") or "")
        if not name or (charts / name).is_dir() or any(charts.glob(f"{name}-*.tgz")):
            continue
        version = f" {dependency['version']}" if dependency.get("version") else ""
        missing.append(
            f"chart dependency {name}{version} from {dependency.get('repository') or '?'} "
            f"(not in {chart_dir}/charts/; Argo CD would run helm dependency build)"
        )
    return missing


def _value_files(
    app: Application, helm: Mapping[str, Any], env: Mapping[str, str], repo: Path
) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(resolved value files, remote ones, problems), in the Application's order."""
    ignore_missing = bool(helm.get("ignoreMissingValueFiles"))
    resolved: list[str] = []
    remote: list[str] = []
    problems: list[str] = []
    for raw in [str(v) for v in helm.get("valueFiles") or []]:
        if raw.startswith("$"):
            # getReferencedSource: a value file of another source of a multi-source app.
            remote.append(f"value file {raw} (another source of the Application)")
            continue
        path, is_remote, problem = resolve_value_file(app.path, envsubst(raw, env))
        if is_remote:
            remote.append(f"value file {raw}")
        elif problem is not None:
            problems.append(problem)
        elif path is not None:
            if ignore_missing and not (repo / path).is_file():
                continue  # getResolvedValueFiles: dropped, not an error
            resolved.append(path)
    return tuple(resolved), tuple(remote), problems


def resolve_value_file(chart_dir: str, value_file: str) -> tuple[str | None, bool, str | None]:
    """(repo-relative path, is remote, problem) of a value file as Argo CD resolves it
    (util/io/path ResolveValueFilePathOrUrl): a URL is remote, a leading ``/`` is relative to
    the repository root, anything else to the chart folder; outside the repository is refused."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value_file):
        return None, True, None
    base = "" if value_file.startswith("/") else chart_dir
    path = posixpath.normpath(posixpath.join(base, value_file.lstrip("/")))
    if path == ".." or path.startswith("../"):
        return None, False, f"value file {value_file} resolves outside the repository"
    return path, False, None


def _parameters(
    helm: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """``--set`` and ``--set-string`` pairs: a map per kind in helmTemplate (a later parameter
    of the same name replaces an earlier one), values substituted after (Env.Envsubst).
    Argo CD iterates a Go map, in no fixed order; names are distinct, so sorting changes
    nothing but makes the command (and the cache key) stable."""
    plain: dict[str, str] = {}
    strings: dict[str, str] = {}
    for item in _dicts(helm.get("parameters")):
        target = strings if item.get("forceString") else plain
        target[str(item.get("name", ""))] = str(item.get("value", ""))
    return (
        tuple(sorted((k, envsubst(v, env)) for k, v in plain.items())),
        tuple(sorted((k, envsubst(v, env)) for k, v in strings.items())),
    )


def values_yaml(helm: Mapping[str, Any]) -> str:
    """ApplicationSourceHelm.ValuesYAML: ``valuesObject`` when set, else ``values``. Argo CD
    writes the object as YAML (yaml.JSONToYAML); JSON is YAML to helm and says the same."""
    values_object = helm.get("valuesObject")
    if values_object is not None:
        return json.dumps(values_object, sort_keys=True) + "\n"
    values = helm.get("values")
    return values if isinstance(values, str) else ""


def build_environment(app: Application) -> dict[str, str]:
    """The variables Argo CD substitutes in parameters and value file names (argo-cd
    reposerver/repository newEnv). The revision is not known offline: the ARGOCD_APP_REVISION*
    variables are empty, as Envsubst makes any unknown name."""
    source = source_of(app)
    return {
        "ARGOCD_APP_NAME": app.name,
        "ARGOCD_APP_NAMESPACE": str(app.destination.get("namespace") or ""),
        "ARGOCD_APP_PROJECT_NAME": app.project,
        "ARGOCD_APP_SOURCE_REPO_URL": str(source.get("repoURL") or ""),
        "ARGOCD_APP_SOURCE_PATH": str(source.get("path") or ""),
        "ARGOCD_APP_SOURCE_TARGET_REVISION": str(source.get("targetRevision") or ""),
    }


_SHELL_NAME = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?0-9-]))")


def envsubst(text: str, env: Mapping[str, str]) -> str:
    """Go's os.Expand with Argo CD's mapping (v1alpha1 Env.Envsubst): ``$NAME`` and
    ``${NAME}`` become the variable's value, unknown names become empty, ``$$`` is ``$``."""
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) if match.group(1) is not None else match.group(2) or match.group(3)
        if name == "$":
            return "$"
        return env.get(name, "")

    return _SHELL_NAME.sub(replace, text)


def parse_kube_version(version: str) -> tuple[str, str | None]:
    """(version, problem): k8s.io/apimachinery version.ParseGeneric(...).String(), as Argo CD's
    parseKubeVersion passes it to helm: at least two numeric components, build and pre-release
    suffixes dropped (``v1.36.3+k3s1`` -> ``1.36.3``)."""
    if not version:
        return "", None
    match = _KUBE_VERSION.match(version)
    numbers = match.group(1).split(".") if match else []
    # A generic version ignores what follows the numbers; its first number has no leading 0.
    if len(numbers) < 2 or (len(numbers[0]) > 1 and numbers[0].startswith("0")):
        return "", f"could not parse kubernetes version {version}"
    return ".".join(str(int(n)) for n in numbers), None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
