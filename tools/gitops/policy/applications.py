"""Rules about Argo CD: Application paths, objects two Applications would fight over, and what
each Application's AppProject permits (the semantics live on :class:`gitops.argocd.AppProject`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gitops.argocd import Application, AppProject
from gitops.k8s import is_namespaced
from gitops.model import Resource
from gitops.policy.engine import CheckContext, Hit, Param, rule

_OVERLAY_PATH = re.compile(r"overlays/([^/\s'\"]+)/([^/\s'\",:]+)")
_QUOTED_PATH = re.compile(r"source path '?([^'\s]+)'?")


@rule(
    "argocd-path-missing",
    kinds=("Application", "ApplicationSet"),
    remediation=(
        "Point the Application's source path at an overlay directory with a kustomization, or add "
        "the missing overlay."
    ),
    params=(Param("argocdPath", "where the Argo CD objects live (default argocd)"),),
)
def argocd_path_missing(ctx: CheckContext) -> Iterator[Hit]:
    """An Application's source path has no kustomization, or no Application deploys an overlay.

    The first is an Application stuck in ComparisonError (often after renaming a folder); the
    second is an overlay everyone reviews and no cluster runs. Both look fine in a pull request.
    Every other problem the ApplicationSet expansion reports (duplicate Application names,
    unsupported generators) is reported here too, so none is silently dropped."""
    selected = {o.rel_path for o in ctx.overlays}
    for problem in ctx.application_problems:
        match = _OVERLAY_PATH.search(problem)
        env, service = (match.group(1), match.group(2)) if match else ("", "argocd")
        # Not a selected unit: report it only when the whole env was selected (the path of a
        # missing or unsynced overlay can never be selected).
        if match and match.group(0) not in selected and not ctx.env_selected(env):
            continue
        quoted = _QUOTED_PATH.search(problem)
        if quoted:
            source = quoted.group(1)
        elif match:
            source = match.group(0)
        else:
            source = ctx.config.argocd_path
        yield Hit(problem, env=env, service=service, source=source)


# Kinds that live outside any namespace (the common ones; anything else counts as namespaced).
@rule(
    "resource-conflict",
    remediation=(
        "Render the object from one overlay only (move it to a shared Application, or give each "
        "copy its own name or namespace)."
    ),
)
def resource_conflict(ctx: CheckContext) -> Iterator[Hit]:
    """Two overlays of one env render the same kind, namespace and name.

    Two Applications then manage one object: Argo CD reports SharedResourceWarning and each
    sync overwrites the other's version, so what runs depends on which synced last. Reported
    on every copy, naming the other overlays.
    """
    for env in ctx.envs():
        owners: dict[tuple[str, str, str, str], list[Resource]] = {}
        for resource in ctx.in_env(env):
            namespace = _landing(ctx, resource) if is_namespaced(resource.kind) else ""
            key = (resource.key.group, resource.kind, namespace, resource.name)
            owners.setdefault(key, []).append(resource)
        for (_group, kind, namespace, name), copies in owners.items():
            paths = sorted({r.overlay_path for r in copies})
            if len(paths) < 2:
                continue
            where = f" in namespace {namespace}" if namespace else ""
            for resource in copies:
                others = [p for p in paths if p != resource.overlay_path]
                yield Hit(
                    f"{kind}/{name}{where} is also rendered by {', '.join(others)}: two "
                    "Applications would fight over it (Argo CD SharedResourceWarning)",
                    resource,
                )


def _landing(ctx: CheckContext, resource: Resource) -> str:
    return ctx.namespace_of(resource)


@rule(
    "argocd-project-denied",
    kinds=("AppProject", "Application"),
    remediation=(
        "Allow the kind, source or destination in the AppProject (whitelist) or move the resource "
        "to an Application whose project allows it."
    ),
    params=(Param("argocdPath", "where the Argo CD objects live (default argocd)"),),
)
def argocd_project_denied(ctx: CheckContext) -> Iterator[Hit]:
    """A rendered resource, or its Application, is refused by the Application's AppProject.

    Argo CD checks the project before applying anything: a missing project, a repository not in
    ``sourceRepos`` or a destination not in ``destinations`` fails the whole sync; a kind not in
    the resource allow-lists (or in a deny-list), or a namespace outside the destinations, fails
    that resource with "resource X is not permitted in project Y". Semantics follow Argo CD's
    app_project_types.go: a missing ``namespaceResourceWhitelist`` permits every namespaced
    kind but an empty list permits none; cluster-scoped kinds need ``clusterResourceWhitelist``;
    patterns are globs; ``!`` patterns deny. ``CreateNamespace=true`` needs ``Namespace`` in
    ``clusterResourceWhitelist`` too (argoproj/argo-cd#20233). The built-in ``default``
    project, when not defined in git, is assumed to permit everything."""
    projects = {
        r.name: AppProject(r.name, r.spec)
        for r in ctx.argocd_resources
        if r.kind == "AppProject" and r.key.api_version.startswith("argoproj.io/")
    }
    by_app: dict[str, tuple[Application, list[Resource]]] = {}
    for resource in _all_resources(ctx):
        app = ctx.application_for(resource)
        if app is not None:
            by_app.setdefault(app.name, (app, []))[1].append(resource)
    for app, resources in by_app.values():
        project = projects.get(app.project)
        if project is None:
            if app.project != "default":
                defined = ", ".join(sorted(projects)) or "none"
                yield _app_hit(
                    ctx,
                    resources[0],
                    f"Application {app.name}: AppProject {app.project} is not defined in "
                    f"{ctx.config.argocd_path}/ (projects: {defined})",
                )
            continue
        for message in _application_denials(project, app):
            yield _app_hit(ctx, resources[0], message)
        for resource in resources:
            yield from _resource_denied(project, app, resource)


def _app_hit(ctx: CheckContext, first: Resource, message: str) -> Hit:
    """A finding about the Application itself (reported on the argocd/ folder)."""
    return Hit(message, env=first.env, service=first.service, source=ctx.config.argocd_path)


def _application_denials(project: AppProject, app: Application) -> Iterator[str]:
    """What fails the whole sync: the source, the destination, CreateNamespace."""
    if not project.is_source_permitted(app.repo_url):
        yield (
            f"Application {app.name}: repository {app.repo_url} is not in sourceRepos of "
            f"AppProject {app.project} ({', '.join(project.source_repos)})"
        )
    app_namespace = app.destination.get("namespace", "")
    if not project.is_destination_permitted(app.destination, app_namespace):
        yield (
            f"Application {app.name}: destination {app.destination_text()} is not in "
            f"destinations of AppProject {app.project} ({project.destinations_text()})"
        )
    if app.creates_namespace and not project.is_group_kind_permitted("", "Namespace", False):
        yield (
            f"Application {app.name}: syncOption CreateNamespace=true creates namespace "
            f"{app_namespace or '(none)'}, but AppProject {app.project} does not permit "
            'cluster-scoped kind core/Namespace: the sync fails with "resource :Namespace '
            "is not permitted in project\" (add {group: '', kind: Namespace} to "
            "clusterResourceWhitelist)"
        )


def _resource_denied(project: AppProject, app: Application, resource: Resource) -> Iterator[Hit]:
    namespaced = is_namespaced(resource.kind)
    denial = project.group_kind_denial(resource.key.group, resource.kind, namespaced)
    if denial is not None:
        yield Hit(f"AppProject {app.project} {denial}", resource)
    if not namespaced:
        return
    namespace = resource.namespace or app.destination.get("namespace", "")
    if not project.is_destination_permitted(app.destination, namespace):
        yield Hit(
            f"AppProject {app.project} does not permit namespace {namespace or '(none)'} "
            f"on cluster {app.destination_text().split('/')[0]} "
            f"(destinations: {project.destinations_text()})",
            resource,
        )


def _all_resources(ctx: CheckContext) -> list[Resource]:
    return [*ctx.resources, *ctx.argocd_resources]
