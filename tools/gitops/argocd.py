"""Expand the Argo CD objects under ``argocd/`` into the Applications Argo CD would create.

Applications are taken as written; ApplicationSets are expanded the way the ApplicationSet
controller does it (argo-cd applicationset/generators/git.go, list.go):

* git directory generator: every directory of the repository whose name does not start with
  ``.``, matched against each ``directories[].path`` with Go's ``path.Match`` semantics (``*``
  never crosses ``/``); a directory matched by an ``exclude: true`` entry is dropped even if
  another entry includes it. Parameters (goTemplate): ``path.path``, ``path.basename``,
  ``path.basenameNormalized``, ``path.segments``; legacy: ``path``, ``path.basename``,
  ``path[N]``...
* list generator: one parameter set per element.
* the generator's own ``template`` is merged over ``spec.template``.

Nothing here runs kustomize: the Workspace builds argocd/ (gitops.workspace.Workspace.argocd)
and hands the objects to :func:`expand_applications`; a folder without a kustomization is read
file by file with :func:`read_argocd_files`.

    >>> expansion = expand_applications(repo, config, objects)
    >>> [a.name for a in expansion.applications][:2]
    ['dev-airbyte', 'dev-healthz']
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.config import RepoConfig
from gitops.errors import ConfigError, GitopsError
from gitops.gotemplate import TemplateError, render_fasttemplate, render_go_template
from gitops.kustomization import find_kustomization
from gitops.model import Overlay
from gitops.yamlio import read_documents

ARGO_GROUP = "argoproj.io"


@dataclass(frozen=True)
class Application:
    name: str
    project: str
    repo_url: str
    target_revision: str
    path: str
    destination: dict[str, str]
    generated_by: str  # "ApplicationSet/<name>" or "Application" for apps written out in git
    spec: dict[str, Any] = field(hash=False, compare=False, repr=False)

    def destination_text(self) -> str:
        cluster = self.destination.get("name") or self.destination.get("server") or "?"
        return f"{cluster}/{self.destination.get('namespace', '')}"

    @property
    def creates_namespace(self) -> bool:
        """Whether the sync creates the destination namespace (``CreateNamespace=true``)."""
        sync_policy = self.spec.get("syncPolicy")
        options = sync_policy.get("syncOptions") if isinstance(sync_policy, dict) else None
        return isinstance(options, list) and "CreateNamespace=true" in options

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "project": self.project,
            "repoURL": self.repo_url,
            "targetRevision": self.target_revision,
            "path": self.path,
            "destination": self.destination,
            "generatedBy": self.generated_by,
            "spec": self.spec,
        }


@dataclass(frozen=True)
class Expansion:
    applications: tuple[Application, ...]
    problems: tuple[str, ...]  # each a one-line message naming the path or object


@dataclass(frozen=True)
class ArgoState:
    """argocd/ of one checkout: its objects and their expansion, or why it could not be read.
    Built and expanded once per snapshot (gitops.workspace.Workspace.argocd)."""

    objects: tuple[dict[str, Any], ...] = ()
    applications: tuple[Application, ...] = ()
    problems: tuple[str, ...] = ()
    error: GitopsError | None = None

    def with_coverage(self, config: RepoConfig, overlays: Sequence[Overlay]) -> ArgoState:
        """The same state plus one problem per overlay no Application deploys."""
        if self.error is not None:
            return self
        missing = coverage_problems(config, self.applications, overlays)
        return dataclasses.replace(self, problems=(*self.problems, *missing))


def read_argocd_files(repo: Path, config: RepoConfig) -> list[dict[str, Any]]:
    """The objects of an argocd/ folder without a kustomization: every YAML file in it, in
    path order (with a kustomization, the Workspace builds it instead)."""
    directory = repo / config.argocd_path
    if not directory.is_dir():
        raise ConfigError(f"{config.argocd_path}/: no such directory (argocdPath in gitops.yaml)")
    objects: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.y*ml")):
        rel = path.relative_to(repo).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{rel}: not UTF-8 text (byte offset {exc.start})") from exc
        objects.extend(parse_argocd_objects(text, rel))
    return objects


def parse_argocd_objects(text: str, where: str) -> list[dict[str, Any]]:
    """The documents of a build or file of argocd/, read like every rendered stream
    (gitops.yamlio.read_documents); the first problem is a ConfigError naming ``where``."""
    loaded = read_documents(text, where)
    if loaded.errors:
        raise ConfigError(loaded.errors[0])
    return [d.body for d in loaded.documents]


def expand_applications(
    repo: Path, config: RepoConfig, objects: Sequence[dict[str, Any]]
) -> Expansion:
    """Every Application Argo CD would have for the argocd/ ``objects``, plus the problems a
    reviewer must see: generated paths without a kustomization, duplicate names (overlays no
    Application deploys: :func:`coverage_problems`)."""
    applications: list[Application] = []
    problems: list[str] = []
    directories: list[str] | None = None
    patterns = _git_directory_patterns(objects)
    for obj in objects:
        if not str(obj.get("apiVersion", "")).startswith(ARGO_GROUP + "/"):
            continue
        kind = obj.get("kind")
        name = str((obj.get("metadata") or {}).get("name", "?"))
        if kind == "Application":
            applications.append(_application(obj, "Application"))
        elif kind == "ApplicationSet":
            if directories is None:
                directories = list_repo_directories(repo, patterns)
            try:
                applications.extend(expand_application_set(obj, directories, config))
            except TemplateError as exc:
                problems.append(f"ApplicationSet/{name}: {exc}")
    problems.extend(_check_paths(repo, config, applications))
    problems.extend(_check_duplicates(applications))
    applications.sort(key=lambda a: a.name)
    return Expansion(tuple(applications), tuple(problems))


def expand_application_set(
    appset: dict[str, Any], directories: list[str], config: RepoConfig
) -> list[Application]:
    spec = appset.get("spec") or {}
    name = str((appset.get("metadata") or {}).get("name", "?"))
    go_template = bool(spec.get("goTemplate", False))
    missingkey_error = "missingkey=error" in (spec.get("goTemplateOptions") or [])
    base_template = spec.get("template") or {}
    generated: list[Application] = []
    for generator in spec.get("generators") or []:
        kinds = sorted(generator) if isinstance(generator, dict) else []
        if "git" in generator:
            params_list = _git_params(generator["git"], directories, go_template, name, config)
            own_template = generator["git"].get("template") or {}
        elif "list" in generator:
            params_list = [dict(e) for e in generator["list"].get("elements") or []]
            own_template = generator["list"].get("template") or {}
        else:
            raise TemplateError(
                f"generator {', '.join(kinds) or '?'} is not supported by gitops apps "
                "(supported: git directories, list)"
            )
        template = _deep_merge(base_template, own_template)
        for params in params_list:
            if go_template:
                rendered = _render_tree(
                    template, lambda s, p=params: render_go_template(s, p, missingkey_error)
                )
            else:
                rendered = _render_tree(template, lambda s, p=params: render_fasttemplate(s, p))
            generated.append(_application(rendered, f"ApplicationSet/{name}"))
    return generated


def _git_params(
    git: dict[str, Any],
    directories: list[str],
    go_template: bool,
    appset: str,
    config: RepoConfig,
) -> list[dict[str, Any]]:
    repo_url = git.get("repoURL")
    if config.repo_url and repo_url and _normalize_url(repo_url) != _normalize_url(config.repo_url):
        raise TemplateError(
            f"git generator reads {repo_url}, not this repository ({config.repo_url} in "
            "gitops.yaml): its directories cannot be expanded from here"
        )
    if git.get("files"):
        raise TemplateError("git files generator is not supported by gitops apps")
    items = git.get("directories") or []
    if not items:
        raise TemplateError("git generator without directories")
    matched = filter_directories(items, directories)
    params: list[dict[str, Any]] = []
    for path in matched:
        segments = path.split("/")
        base = segments[-1]
        if go_template:
            params.append(
                {
                    "path": {
                        "path": path,
                        "basename": base,
                        "basenameNormalized": sanitize_name(base),
                        "segments": segments,
                    }
                }
            )
        else:
            flat = {
                "path": path,
                "path.basename": base,
                "path.basenameNormalized": sanitize_name(base),
            }
            flat.update({f"path[{i}]": s for i, s in enumerate(segments) if s})
            params.append(flat)
    return params


def filter_directories(items: list[dict[str, Any]], directories: list[str]) -> list[str]:
    """Go's path.Match per pattern; exclusions win over inclusions (git.go filterApps)."""
    result = []
    for directory in directories:
        included = excluded = False
        for item in items:
            if go_path_match(str(item.get("path", "")), directory):
                if item.get("exclude"):
                    excluded = True
                else:
                    included = True
        if included and not excluded:
            result.append(directory)
    return result


def go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never match ``/``; ``[...]`` classes."""
    pattern_parts = pattern.split("/")
    name_parts = name.split("/")
    if len(pattern_parts) != len(name_parts):
        return False
    return all(
        fnmatch.fnmatchcase(n, p.replace("[^", "[!"))
        for p, n in zip(pattern_parts, name_parts, strict=True)
    )


def list_repo_directories(repo: Path, patterns: Sequence[str] | None = None) -> list[str]:
    """Directories as the repo-server lists them: lexical walk, skipping names starting
    with ``.`` (reposerver GetGitDirectories).

    With ``patterns`` (the git generators' inclusion paths), only the directories some pattern
    can match are listed: ``go_path_match`` needs as many segments as the pattern, so the walk
    descends only where a pattern's leading segments match, and no deeper than the longest
    pattern. filter_directories gives the same result either way; the pruned walk skips build
    output, virtualenvs and test fixtures that no pattern reaches."""
    if patterns is None:
        found: list[str] = []
        for root, dirs, _files in os.walk(repo):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for d in dirs:
                found.append((Path(root) / d).relative_to(repo).as_posix())
        return sorted(found)
    split = [p.strip("/").split("/") for p in patterns if p.strip("/")]
    found = []
    level = [""]
    for depth in range(max((len(parts) for parts in split), default=0)):
        following: list[str] = []
        for parent in level:
            for child in _child_directories(repo / parent):
                path = f"{parent}/{child}" if parent else child
                segments = path.split("/")
                if any(_prefix_matches(parts, segments, depth) for parts in split):
                    following.append(path)
        found.extend(following)
        level = following
    return sorted(found)


def _child_directories(directory: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []


def _prefix_matches(pattern: list[str], segments: list[str], depth: int) -> bool:
    """Whether the first depth+1 segments of a directory can lead to a match of ``pattern``."""
    if len(pattern) <= depth:
        return False
    return all(
        fnmatch.fnmatchcase(n, p.replace("[^", "[!"))
        for p, n in zip(pattern[: depth + 1], segments, strict=True)
    )


def _git_directory_patterns(objects: Sequence[dict[str, Any]]) -> list[str] | None:
    """Every inclusion path of every git directories generator in ``objects``; None (list
    everything) when a path is not a plain string, so nothing is pruned on odd input."""
    patterns: list[str] = []
    for obj in objects:
        if obj.get("kind") != "ApplicationSet":
            continue
        generators = (obj.get("spec") or {}).get("generators") or []
        for generator in generators if isinstance(generators, list) else []:
            git = generator.get("git") if isinstance(generator, dict) else None
            if not isinstance(git, dict):
                continue
            for item in git.get("directories") or []:
                path = item.get("path") if isinstance(item, dict) else None
                if not isinstance(path, str):
                    return None
                if not item.get("exclude"):
                    patterns.append(path)
    return patterns


def sanitize_name(name: str) -> str:
    """Argo CD's utils.SanitizeName: a DNS-1123-ish name."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def _source(spec: dict[str, Any]) -> dict[str, Any]:
    """An Application's source: ``source``, else the first of ``sources``."""
    source = spec.get("source") or {}
    if not source and spec.get("sources"):
        source = spec["sources"][0]
    return source if isinstance(source, dict) else {}


def _application(obj: dict[str, Any], generated_by: str) -> Application:
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    source = _source(spec)
    return Application(
        name=str(metadata.get("name", "?")),
        project=str(spec.get("project", "default")),
        repo_url=str(source.get("repoURL", "")),
        target_revision=str(source.get("targetRevision", "HEAD")),
        path=str(source.get("path", "")).strip("/"),
        destination={str(k): str(v) for k, v in (spec.get("destination") or {}).items()},
        generated_by=generated_by,
        spec=spec,
    )


def same_repository(config: RepoConfig, repo_url: str) -> bool:
    """Whether an Application's repoURL is this repository (any, when gitops.yaml names none)."""
    return not config.repo_url or _normalize_url(repo_url) == _normalize_url(config.repo_url)


def _check_paths(repo: Path, config: RepoConfig, apps: list[Application]) -> list[str]:
    problems = []
    for app in apps:
        if not same_repository(config, app.repo_url) or _source(app.spec).get("chart"):
            continue  # another repository, or a Helm repository's chart: nothing to check here
        directory = repo / app.path
        if not app.path or not directory.is_dir():
            problems.append(
                f"Application {app.name}: source path {app.path or '(empty)'!r} does not exist"
            )
        elif find_kustomization(directory) is None and not (directory / "Chart.yaml").is_file():
            problems.append(
                f"Application {app.name}: source path {app.path} has no kustomization.yaml "
                "or Chart.yaml"
            )
    return problems


def coverage_problems(
    config: RepoConfig, apps: Sequence[Application], overlays: Sequence[Overlay]
) -> list[str]:
    """One line per overlay of the ``overlays/`` layout that no Application deploys."""
    deployed = {a.path for a in apps if same_repository(config, a.repo_url)}
    return [
        f"{o.rel_path}: no Argo CD Application deploys this overlay"
        for o in overlays
        if o.rel_path not in deployed
    ]


def _check_duplicates(apps: list[Application]) -> list[str]:
    seen: dict[str, Application] = {}
    problems = []
    for app in apps:
        if app.name in seen:
            problems.append(
                f"Application {app.name}: generated twice ({seen[app.name].path} and {app.path})"
            )
        seen[app.name] = app
    return problems


def _normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = _deep_merge(merged.get(key), value) if key in merged else value
        return merged
    return copy.deepcopy(override if override not in (None, {}) else base)


def _render_tree(node: Any, render: Any) -> Any:
    if isinstance(node, str):
        return render(node)
    if isinstance(node, dict):
        return {
            render(k) if isinstance(k, str) else k: _render_tree(v, render) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_render_tree(v, render) for v in node]
    return node


# --- AppProject: what a project permits (argo-cd app_project_types.go) ---------------------

_PROJECT_IN_CLUSTER = ("in-cluster", "https://kubernetes.default.svc")


@dataclass(frozen=True)
class AppProject:
    """An AppProject rendered from git, with Argo CD's permission checks as methods (argo-cd
    puts ``IsSourcePermitted``, ``IsGroupKindPermitted`` and ``IsDestinationPermitted`` on the
    type). A missing ``namespaceResourceWhitelist`` permits every namespaced kind but an empty
    list permits none; cluster-scoped kinds need ``clusterResourceWhitelist``; patterns are
    globs; ``!`` patterns deny."""

    name: str
    spec: dict[str, Any] = field(hash=False, compare=False, repr=False)

    @property
    def source_repos(self) -> list[str]:
        return _project_strings(self.spec.get("sourceRepos"))

    def is_source_permitted(self, repo_url: str) -> bool:
        return _project_source_permitted(self.spec, repo_url)

    def is_destination_permitted(self, destination: dict[str, str], namespace: str) -> bool:
        return _project_destination_permitted(self.spec, destination, namespace)

    def is_group_kind_permitted(self, group: str, kind: str, namespaced: bool) -> bool:
        return self.group_kind_denial(group, kind, namespaced) is None

    def group_kind_denial(self, group: str, kind: str, namespaced: bool) -> str | None:
        """Why the project refuses the kind ("does not permit namespaced kind apps/Deployment
        (not in namespaceResourceWhitelist)"), or None when it permits it."""
        group_kind = f"{group or 'core'}/{kind}"
        scope = "namespaced" if namespaced else "cluster-scoped"
        prefix = "namespace" if namespaced else "cluster"
        whitelist = self.spec.get(f"{prefix}ResourceWhitelist")
        blacklist = self.spec.get(f"{prefix}ResourceBlacklist")
        listed = isinstance(whitelist, list) and _project_group_kind_listed(whitelist, group, kind)
        # Namespaced kinds: no whitelist at all permits everything; cluster-scoped: it is needed.
        if (isinstance(whitelist, list) or not namespaced) and not listed:
            if namespaced:
                reason = (
                    "namespaceResourceWhitelist is an empty list, which permits no namespaced kind"
                    if not whitelist
                    else "not in namespaceResourceWhitelist"
                )
            else:
                reason = (
                    "not in clusterResourceWhitelist"
                    if whitelist
                    else "clusterResourceWhitelist is empty, which permits no cluster-scoped kind"
                )
            return f"does not permit {scope} kind {group_kind} ({reason})"
        if isinstance(blacklist, list) and _project_group_kind_listed(blacklist, group, kind):
            return f"denies {scope} kind {group_kind} ({prefix}ResourceBlacklist)"
        return None

    def destinations_text(self) -> str:
        items = [
            f"{d.get('name') or d.get('server') or '?'}/{d.get('namespace', '')}"
            for d in _project_list_of_dicts(self.spec.get("destinations"))
        ]
        return ", ".join(items) or "none"


def _project_group_kind_listed(entries: list[Any], group: str, kind: str) -> bool:
    """Argo CD's isResourceInList: Go filepath.Match on kind and group."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind_pattern = str(entry.get("kind", ""))
        group_pattern = str(entry.get("group", ""))
        if _project_path_match(kind_pattern, kind) and _project_path_match(group_pattern, group):
            return True
    return False


def _project_path_match(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[^", "[!"))


def _project_source_permitted(spec: dict[str, Any], repo_url: str) -> bool:
    """IsSourcePermitted: any pattern matches, and no ``!`` pattern is violated."""
    source = _project_normalize_git_url(repo_url)
    matched = False
    for pattern in _project_strings(spec.get("sourceRepos")):
        deny = pattern.startswith("!")
        normalized = _project_normalize_git_url(pattern[1:] if deny else pattern)
        if deny:
            if _project_glob_match(normalized, source, "/"):
                return False
            matched = True  # a deny pattern that does not match counts as a match
        elif _project_glob_match(normalized, source, "/"):
            matched = True
    return matched


def _project_destination_permitted(
    spec: dict[str, Any], destination: dict[str, str], namespace: str
) -> bool:
    """isDestinationMatched: one destination matches cluster and namespace, no deny pattern
    is violated. A cluster named in the app but identified by server in the project (or vice
    versa) cannot be resolved offline and is given the benefit of the doubt."""
    any_matched = False
    for item in _project_list_of_dicts(spec.get("destinations")):
        cluster = _project_cluster_matches(item, destination)
        namespace_pattern = str(item.get("namespace", ""))
        namespace_ok = _project_glob_match(namespace_pattern.lstrip("!"), namespace) != (
            namespace_pattern.startswith("!")
        )
        if cluster is not False and namespace_ok:
            any_matched = True
        elif namespace_pattern.startswith("!") and not namespace_ok:
            return False
    return any_matched


def _project_cluster_matches(item: dict[str, Any], destination: dict[str, str]) -> bool | None:
    """True/False when decidable; None when the app and the project name the cluster
    differently (name vs server) and only Argo CD's cluster list could tell."""
    dest_name = destination.get("name", "")
    dest_server = destination.get("server", "").rstrip("/")
    if dest_name == _PROJECT_IN_CLUSTER[0] and not dest_server:
        dest_server = _PROJECT_IN_CLUSTER[1]
    if dest_server == _PROJECT_IN_CLUSTER[1] and not dest_name:
        dest_name = _PROJECT_IN_CLUSTER[0]
    item_name = str(item.get("name") or "")
    item_server = str(item.get("server") or "").rstrip("/")
    decidable = False
    for pattern, value in ((item_name, dest_name), (item_server, dest_server)):
        if not pattern:
            continue
        if pattern == "*" or (
            value and _project_glob_match(pattern.lstrip("!"), value) != pattern.startswith("!")
        ):
            return True
        if value:
            decidable = True
    return False if decidable else None


def _project_glob_match(pattern: str, value: str, separator: str | None = None) -> bool:
    """gobwas/glob as Argo CD uses it: ``*`` (not across ``separator``), ``**``, ``?``,
    ``[...]``, ``{a,b}``."""
    if pattern == "*":
        return True
    try:
        return re.fullmatch(_project_glob_regex(pattern, separator), value) is not None
    except re.error:  # a malformed class such as "[]": glob.Compile fails, nothing matches
        return False


def _project_glob_regex(pattern: str, separator: str | None) -> str:
    any_char = f"[^{re.escape(separator)}]" if separator else "."
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append(any_char + "*")
        elif char == "?":
            out.append(any_char)
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif char == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                options = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _project_normalize_git_url(url: str) -> str:
    """Argo CD's git.NormalizeGitURL, approximately: lower case, scp-style SSH as a path, no
    ``.git`` suffix, no trailing slash."""
    url = url.strip().lower()
    if url.startswith("git@") and "://" not in url:
        url = url.replace(":", "/", 1)
    url = url.removeprefix("ssh://").rstrip("/")
    return url.removesuffix(".git")


def _project_strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _project_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
