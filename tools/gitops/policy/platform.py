"""Rules about what the platform will accept: API versions the target Kubernetes serves, secret
material in git, unpinned remote bases, Argo CD paths and AppProject permissions, and envs that
regress along the promotion order.

    >>> [f.message for f in run_check(repo, config).findings if f.rule == "api-removed"][0]
    'policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25 (target 1.33): use ...'

"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import yaml

from gitops.discovery import find_kustomization
from gitops.model import Resource, Severity
from gitops.policy import (
    CheckContext,
    Hit,
    containers,
    controller_labels,
    pod_labels,
    rule,
    selector_matches,
)

if TYPE_CHECKING:
    from gitops.argocd import Application

# --- API versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiLifecycle:
    api_version: str
    kind: str
    deprecated_in: int | None  # minor version; None when never announced separately
    removed_in: int | None  # minor version; None when deprecated without a removal date
    replacement: str

    @property
    def text(self) -> str:
        return f"{self.api_version} {self.kind}"


def _lifecycle(
    versions: str, kinds: str, deprecated_in: int | None, removed_in: int | None, replacement: str
) -> list[ApiLifecycle]:
    return [
        ApiLifecycle(v, k, deprecated_in, removed_in, replacement)
        for v in versions.split()
        for k in kinds.split()
    ]


# Sources: the Kubernetes "Deprecated API Migration Guide"
# (https://kubernetes.io/docs/reference/using-api/deprecation-guide/, removal versions and
# replacements) and FairwindsOps/pluto versions.yaml (deprecation versions); v1 Endpoints:
# https://kubernetes.io/blog/2025/04/24/endpoints-deprecation (KEP-4974, no removal planned).
API_LIFECYCLES: tuple[ApiLifecycle, ...] = tuple(
    [
        *_lifecycle(
            "extensions/v1beta1 apps/v1beta1 apps/v1beta2",
            "Deployment ReplicaSet",
            9,
            16,
            "apps/v1",
        ),
        *_lifecycle("extensions/v1beta1 apps/v1beta2", "DaemonSet", 9, 16, "apps/v1"),
        *_lifecycle("apps/v1beta1 apps/v1beta2", "StatefulSet", 9, 16, "apps/v1"),
        *_lifecycle("extensions/v1beta1", "NetworkPolicy", 9, 16, "networking.k8s.io/v1"),
        *_lifecycle("extensions/v1beta1", "PodSecurityPolicy", 10, 16, "policy/v1beta1"),
        *_lifecycle("extensions/v1beta1", "Ingress", 14, 22, "networking.k8s.io/v1"),
        *_lifecycle(
            "networking.k8s.io/v1beta1", "Ingress IngressClass", 19, 22, "networking.k8s.io/v1"
        ),
        *_lifecycle(
            "admissionregistration.k8s.io/v1beta1",
            "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
            16,
            22,
            "admissionregistration.k8s.io/v1",
        ),
        *_lifecycle(
            "apiextensions.k8s.io/v1beta1",
            "CustomResourceDefinition",
            16,
            22,
            "apiextensions.k8s.io/v1",
        ),
        *_lifecycle(
            "apiregistration.k8s.io/v1beta1", "APIService", 10, 22, "apiregistration.k8s.io/v1"
        ),
        *_lifecycle(
            "certificates.k8s.io/v1beta1",
            "CertificateSigningRequest",
            19,
            22,
            "certificates.k8s.io/v1",
        ),
        *_lifecycle("coordination.k8s.io/v1beta1", "Lease", 14, 22, "coordination.k8s.io/v1"),
        *_lifecycle(
            "rbac.authorization.k8s.io/v1alpha1 rbac.authorization.k8s.io/v1beta1",
            "ClusterRole ClusterRoleBinding Role RoleBinding",
            17,
            22,
            "rbac.authorization.k8s.io/v1",
        ),
        *_lifecycle("scheduling.k8s.io/v1beta1", "PriorityClass", 14, 22, "scheduling.k8s.io/v1"),
        *_lifecycle(
            "storage.k8s.io/v1beta1",
            "CSIDriver CSINode StorageClass VolumeAttachment",
            17,
            22,
            "storage.k8s.io/v1",
        ),
        *_lifecycle("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
        *_lifecycle("discovery.k8s.io/v1beta1", "EndpointSlice", 21, 25, "discovery.k8s.io/v1"),
        *_lifecycle("events.k8s.io/v1beta1", "Event", 19, 25, "events.k8s.io/v1"),
        *_lifecycle("autoscaling/v2beta1", "HorizontalPodAutoscaler", 22, 25, "autoscaling/v2"),
        *_lifecycle(
            "policy/v1beta1",
            "PodDisruptionBudget",
            21,
            25,
            "policy/v1 (note: an empty selector now matches every pod)",
        ),
        *_lifecycle(
            "policy/v1beta1",
            "PodSecurityPolicy",
            21,
            25,
            "Pod Security Admission (pod-security.kubernetes.io/* namespace labels)",
        ),
        *_lifecycle("node.k8s.io/v1beta1", "RuntimeClass", 20, 25, "node.k8s.io/v1"),
        *_lifecycle("autoscaling/v2beta2", "HorizontalPodAutoscaler", 23, 26, "autoscaling/v2"),
        *_lifecycle(
            "flowcontrol.apiserver.k8s.io/v1beta1",
            "FlowSchema PriorityLevelConfiguration",
            23,
            26,
            "flowcontrol.apiserver.k8s.io/v1",
        ),
        *_lifecycle("storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1"),
        *_lifecycle(
            "flowcontrol.apiserver.k8s.io/v1beta2",
            "FlowSchema PriorityLevelConfiguration",
            26,
            29,
            "flowcontrol.apiserver.k8s.io/v1",
        ),
        *_lifecycle(
            "flowcontrol.apiserver.k8s.io/v1beta3",
            "FlowSchema PriorityLevelConfiguration",
            29,
            32,
            "flowcontrol.apiserver.k8s.io/v1",
        ),
        *_lifecycle("v1", "Endpoints", 33, None, "discovery.k8s.io/v1 EndpointSlice"),
        # 1.34-1.36: the APILifecycleDeprecated/Removed values of k8s.io/api v0.36.3
        # (<group>/<version>/zz_generated.prerelease-lifecycle.go) for kinds that have a GA API.
        *_lifecycle(
            "admissionregistration.k8s.io/v1beta1",
            "ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding",
            31,
            34,
            "admissionregistration.k8s.io/v1",
        ),
        *_lifecycle(
            "storage.k8s.io/v1alpha1", "VolumeAttributesClass", 32, 35, "storage.k8s.io/v1"
        ),
        *_lifecycle("storage.k8s.io/v1beta1", "VolumeAttributesClass", 34, 37, "storage.k8s.io/v1"),
        *_lifecycle(
            "networking.k8s.io/v1beta1", "IPAddress ServiceCIDR", 34, 37, "networking.k8s.io/v1"
        ),
        *_lifecycle(
            "resource.k8s.io/v1beta1",
            "DeviceClass ResourceClaim ResourceClaimTemplate ResourceSlice",
            35,
            38,
            "resource.k8s.io/v1",
        ),
        *_lifecycle(
            "resource.k8s.io/v1beta2",
            "DeviceClass ResourceClaim ResourceClaimTemplate ResourceSlice",
            36,
            39,
            "resource.k8s.io/v1",
        ),
    ]
)
_LIFECYCLE_BY_KEY = {(a.api_version, a.kind): a for a in API_LIFECYCLES}


def _all_resources(ctx: CheckContext) -> list[Resource]:
    return [*ctx.resources, *ctx.argocd_resources]


@rule("api-removed")
def api_removed(ctx: CheckContext) -> Iterator[Hit]:
    """A resource uses an apiVersion the target Kubernetes version no longer serves.

    The API server answers "no matches for kind" and Argo CD fails the whole sync, usually on
    the day the cluster is upgraded, not the day the manifest was written. The target is
    ``kubernetesVersion`` in gitops.yaml; the message names the replacement."""
    target = ctx.config.minor_version
    for resource in _all_resources(ctx):
        entry = _LIFECYCLE_BY_KEY.get((resource.key.api_version, resource.kind))
        if entry is None or entry.removed_in is None or entry.removed_in > target:
            continue
        yield Hit(
            f"{entry.text} was removed in Kubernetes 1.{entry.removed_in} "
            f"(target 1.{target}): use {entry.replacement}",
            resource,
        )


@rule("api-deprecated", Severity.WARNING)
def api_deprecated(ctx: CheckContext) -> Iterator[Hit]:
    """A resource uses an apiVersion that the target Kubernetes version deprecates but serves.

    Every apply prints a deprecation warning today and fails after the upgrade that removes it;
    migrating now is a one-line change, migrating during a cluster upgrade is an incident."""
    target = ctx.config.minor_version
    for resource in _all_resources(ctx):
        entry = _LIFECYCLE_BY_KEY.get((resource.key.api_version, resource.kind))
        if entry is None or entry.deprecated_in is None or entry.deprecated_in > target:
            continue
        if entry.removed_in is not None and entry.removed_in <= target:
            continue  # api-removed reports it
        removal = (
            f", removed in 1.{entry.removed_in}"
            if entry.removed_in is not None
            else ", no removal scheduled"
        )
        yield Hit(
            f"{entry.text} is deprecated since Kubernetes 1.{entry.deprecated_in}{removal} "
            f"(target 1.{target}): use {entry.replacement}",
            resource,
        )


# --- secrets ------------------------------------------------------------------------------


@rule("secret-plaintext")
def secret_plaintext(ctx: CheckContext) -> Iterator[Hit]:
    """A Secret with ``data`` or ``stringData`` is rendered from git.

    base64 is an encoding, not encryption: whoever can read the repository (and every fork,
    CI log and laptop clone) has the credential forever, and rotating it means rewriting
    history. Secrets are referenced (ExternalSecret, SealedSecret, CSI driver, created out of
    band), never rendered. The finding names the keys, never the values."""
    for resource in _all_resources(ctx):
        if resource.kind != "Secret" or resource.key.api_version != "v1":
            continue
        parts = []
        for field_name in ("data", "stringData"):
            value = resource.body.get(field_name)
            if isinstance(value, dict) and value:
                parts.append(f"{field_name} keys: {', '.join(sorted(str(k) for k in value))}")
        if parts:
            yield Hit(
                f"Secret carries secret material in git ({'; '.join(parts)}): reference it "
                "from a secret store (ExternalSecret/SealedSecret) instead of rendering it",
                resource,
            )


# --- remote bases -------------------------------------------------------------------------

_SEMVER_TAG = re.compile(r"^v?\d+(\.\d+){1,2}([-+][0-9A-Za-z.+-]+)?$")
_COMMIT_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_REMOTE_PREFIX = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|git::|[a-z0-9-]+(\.[a-z0-9-]+)+/)", re.I)
_FILE_SUFFIXES = (".yaml", ".yml", ".json")


@rule("remote-base")
def remote_base(ctx: CheckContext) -> Iterator[Hit]:
    """A kustomization pulls a remote base or component that is not pinned to a tag or commit.

    Without ``?ref=<tag|sha>`` (or with a branch such as main), every render fetches whatever
    the remote branch holds right now: the same commit of this repository deploys different
    manifests tomorrow, a push elsewhere changes production without a review here, and a
    rollback does not roll back. Only semver tags (``v1.2.3``) and 7-40 hex commit SHAs count
    as pinned. Every kustomization reachable from each overlay (local bases and components,
    recursively) is read from disk, so this works even when the overlay does not render."""
    for overlay in ctx.overlays:
        seen: set[Path] = set()
        for kustomization, entry in _kustomization_entries(
            ctx.repo, ctx.repo / overlay.rel_path, seen
        ):
            problem = _unpinned_reason(entry)
            if problem is None:
                continue
            yield Hit(
                f"remote {entry} is not pinned ({problem}): pin it with ?ref=<tag or commit>",
                env=overlay.env,
                service=overlay.service,
                source=kustomization,
            )


def _kustomization_entries(
    repo: Path, directory: Path, seen: set[Path]
) -> Iterator[tuple[str, str]]:
    """(repo-relative kustomization, remote entry) for the kustomization in ``directory`` and
    every local directory it references."""
    resolved = directory.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    path = find_kustomization(directory)
    if path is None:
        return
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return  # render-failed reports it
    if not isinstance(document, dict):
        return
    try:
        rel = path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    for field_name in ("resources", "components", "bases"):
        entries = document.get(field_name)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                continue
            local = directory / entry
            try:
                exists, is_dir = local.exists(), local.is_dir()
            except (OSError, ValueError):  # a name too long or with a NUL byte: not a path
                exists = is_dir = False
            if exists:
                if is_dir:
                    yield from _kustomization_entries(repo, local, seen)
                continue
            if _REMOTE_PREFIX.match(entry.strip()):
                yield rel, entry.strip()


def _unpinned_reason(entry: str) -> str | None:
    """Why a remote entry is not pinned, or None when it is."""
    url = entry[len("git::") :] if entry.startswith("git::") else entry
    query = parse_qs(urlsplit(url).query) if "?" in url else {}
    refs = query.get("ref") or query.get("version")
    if refs:
        ref = refs[-1]
        if _SEMVER_TAG.match(ref) or _COMMIT_SHA.match(ref):
            return None
        return f"ref={ref} is a branch or moving name, not a semver tag or commit SHA"
    path = url.split("?", 1)[0]
    if path.lower().endswith(_FILE_SUFFIXES):
        # A plain file download: the revision, if any, is a path segment (raw URLs, releases).
        if any(_SEMVER_TAG.match(s) or _COMMIT_SHA.match(s) for s in path.split("/")):
            return None
        return "the file URL names no tag or commit"
    return "no ?ref= or ?version="


# --- Argo CD ------------------------------------------------------------------------------

_OVERLAY_PATH = re.compile(r"overlays/([^/\s'\"]+)/([^/\s'\",:]+)")
_QUOTED_PATH = re.compile(r"source path '?([^'\s]+)'?")


@rule("argocd-path-missing")
def argocd_path_missing(ctx: CheckContext) -> Iterator[Hit]:
    """An Application's source path has no kustomization, or no Application deploys an overlay.

    The first is an Application stuck in ComparisonError (often after renaming a folder); the
    second is an overlay everyone reviews and no cluster runs. Both look fine in a pull request.
    Every other problem the ApplicationSet expansion reports (duplicate Application names,
    unsupported generators) is reported here too, so none is silently dropped."""
    selected = {o.rel_path for o in ctx.overlays}
    selected_envs = {o.env for o in ctx.overlays}
    for problem in ctx.application_problems:
        match = _OVERLAY_PATH.search(problem)
        env, service = (match.group(1), match.group(2)) if match else ("", "argocd")
        # Not a selected unit: report it only when the whole env was selected (the path of a
        # missing or unsynced overlay can never be selected).
        if (
            match
            and match.group(0) not in selected
            and (ctx.service_filter is not None or env not in selected_envs)
        ):
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
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "CertificateSigningRequest",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterSecretStore",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)
_IN_CLUSTER = ("in-cluster", "https://kubernetes.default.svc")


@rule("resource-conflict")
def resource_conflict(ctx: CheckContext) -> Iterator[Hit]:
    """Two overlays of one env render the same kind, namespace and name.

    Two Applications then manage one object: Argo CD reports SharedResourceWarning and each
    sync overwrites the other's version, so what runs depends on which synced last. Reported
    on every copy, naming the other overlays.
    """
    for env in ctx.envs():
        owners: dict[tuple[str, str, str, str], list[Resource]] = {}
        for resource in ctx.in_env(env):
            namespace = "" if resource.kind in CLUSTER_SCOPED_KINDS else _landing(ctx, resource)
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
    """The namespace the resource lands in: its own, else its Application's destination."""
    if resource.namespace:
        return resource.namespace
    app = ctx.application_for(resource)
    return str(app.destination.get("namespace") or "") if app is not None else ""


@rule("argocd-project-denied")
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
        r.name: r.spec
        for r in ctx.argocd_resources
        if r.kind == "AppProject" and r.key.api_version.startswith("argoproj.io/")
    }
    by_app: dict[str, tuple[Application, list[Resource]]] = {}
    for resource in _all_resources(ctx):
        app = ctx.application_for(resource)
        if app is not None:
            by_app.setdefault(app.name, (app, []))[1].append(resource)
    for app, resources in by_app.values():
        first = resources[0]
        defined = ", ".join(sorted(projects)) or "none"
        spec = projects.get(app.project)
        if spec is None:
            if app.project != "default":
                yield Hit(
                    f"Application {app.name}: AppProject {app.project} is not defined in "
                    f"{ctx.config.argocd_path}/ (projects: {defined})",
                    env=first.env,
                    service=first.service,
                    source=ctx.config.argocd_path,
                )
            continue
        if not _source_permitted(spec, app.repo_url):
            yield Hit(
                f"Application {app.name}: repository {app.repo_url} is not in sourceRepos of "
                f"AppProject {app.project} ({', '.join(_strings(spec.get('sourceRepos')))})",
                env=first.env,
                service=first.service,
                source=ctx.config.argocd_path,
            )
        app_namespace = app.destination.get("namespace", "")
        if not _destination_permitted(spec, app.destination, app_namespace):
            yield Hit(
                f"Application {app.name}: destination {app.destination_text()} is not in "
                f"destinations of AppProject {app.project} ({_destinations_text(spec)})",
                env=first.env,
                service=first.service,
                source=ctx.config.argocd_path,
            )
        if _creates_namespace(app) and not _cluster_kind_permitted(spec, "", "Namespace"):
            yield Hit(
                f"Application {app.name}: syncOption CreateNamespace=true creates namespace "
                f"{app_namespace or '(none)'}, but AppProject {app.project} does not permit "
                'cluster-scoped kind core/Namespace: the sync fails with "resource :Namespace '
                "is not permitted in project\" (add {group: '', kind: Namespace} to "
                "clusterResourceWhitelist)",
                env=first.env,
                service=first.service,
                source=ctx.config.argocd_path,
            )
        for resource in resources:
            yield from _resource_denied(spec, app, resource)


def _creates_namespace(app: Application) -> bool:
    sync_policy = app.spec.get("syncPolicy")
    options = sync_policy.get("syncOptions") if isinstance(sync_policy, dict) else None
    return isinstance(options, list) and "CreateNamespace=true" in options


def _cluster_kind_permitted(spec: dict[str, Any], group: str, kind: str) -> bool:
    whitelist = spec.get("clusterResourceWhitelist")
    blacklist = spec.get("clusterResourceBlacklist")
    if not isinstance(whitelist, list) or not _group_kind_listed(whitelist, group, kind):
        return False
    return not (isinstance(blacklist, list) and _group_kind_listed(blacklist, group, kind))


def _resource_denied(spec: dict[str, Any], app: Application, resource: Resource) -> Iterator[Hit]:
    group, kind = resource.key.group, resource.kind
    group_kind = f"{group or 'core'}/{kind}"
    namespaced = kind not in CLUSTER_SCOPED_KINDS
    if namespaced:
        whitelist = spec.get("namespaceResourceWhitelist")
        blacklist = spec.get("namespaceResourceBlacklist")
        if isinstance(whitelist, list) and not _group_kind_listed(whitelist, group, kind):
            reason = (
                "namespaceResourceWhitelist is an empty list, which permits no namespaced kind"
                if not whitelist
                else "not in namespaceResourceWhitelist"
            )
            yield Hit(
                f"AppProject {app.project} does not permit namespaced kind {group_kind} ({reason})",
                resource,
            )
        elif isinstance(blacklist, list) and _group_kind_listed(blacklist, group, kind):
            yield Hit(
                f"AppProject {app.project} denies namespaced kind {group_kind} "
                "(namespaceResourceBlacklist)",
                resource,
            )
        namespace = resource.namespace or app.destination.get("namespace", "")
        if not _destination_permitted(spec, app.destination, namespace):
            yield Hit(
                f"AppProject {app.project} does not permit namespace {namespace or '(none)'} "
                f"on cluster {app.destination_text().split('/')[0]} "
                f"(destinations: {_destinations_text(spec)})",
                resource,
            )
        return
    whitelist = spec.get("clusterResourceWhitelist")
    blacklist = spec.get("clusterResourceBlacklist")
    if not isinstance(whitelist, list) or not _group_kind_listed(whitelist, group, kind):
        reason = (
            "not in clusterResourceWhitelist"
            if whitelist
            else ("clusterResourceWhitelist is empty, which permits no cluster-scoped kind")
        )
        yield Hit(
            f"AppProject {app.project} does not permit cluster-scoped kind {group_kind} ({reason})",
            resource,
        )
    elif isinstance(blacklist, list) and _group_kind_listed(blacklist, group, kind):
        yield Hit(
            f"AppProject {app.project} denies cluster-scoped kind {group_kind} "
            "(clusterResourceBlacklist)",
            resource,
        )


def _group_kind_listed(entries: list[Any], group: str, kind: str) -> bool:
    """Argo CD's isResourceInList: Go filepath.Match on kind and group."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind_pattern = str(entry.get("kind", ""))
        group_pattern = str(entry.get("group", ""))
        if _path_match(kind_pattern, kind) and _path_match(group_pattern, group):
            return True
    return False


def _path_match(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[^", "[!"))


def _source_permitted(spec: dict[str, Any], repo_url: str) -> bool:
    """IsSourcePermitted: any pattern matches, and no ``!`` pattern is violated."""
    source = _normalize_git_url(repo_url)
    matched = False
    for pattern in _strings(spec.get("sourceRepos")):
        deny = pattern.startswith("!")
        normalized = _normalize_git_url(pattern[1:] if deny else pattern)
        if deny:
            if _glob_match(normalized, source, "/"):
                return False
            matched = True  # a deny pattern that does not match counts as a match
        elif _glob_match(normalized, source, "/"):
            matched = True
    return matched


def _destination_permitted(
    spec: dict[str, Any], destination: dict[str, str], namespace: str
) -> bool:
    """isDestinationMatched: one destination matches cluster and namespace, no deny pattern
    is violated. A cluster named in the app but identified by server in the project (or vice
    versa) cannot be resolved offline and is given the benefit of the doubt."""
    any_matched = False
    for item in _list_of_dicts(spec.get("destinations")):
        cluster = _cluster_matches(item, destination)
        namespace_pattern = str(item.get("namespace", ""))
        namespace_ok = _glob_match(namespace_pattern.lstrip("!"), namespace) != (
            namespace_pattern.startswith("!")
        )
        if cluster is not False and namespace_ok:
            any_matched = True
        elif namespace_pattern.startswith("!") and not namespace_ok:
            return False
    return any_matched


def _cluster_matches(item: dict[str, Any], destination: dict[str, str]) -> bool | None:
    """True/False when decidable; None when the app and the project name the cluster
    differently (name vs server) and only Argo CD's cluster list could tell."""
    dest_name = destination.get("name", "")
    dest_server = destination.get("server", "").rstrip("/")
    if dest_name == _IN_CLUSTER[0] and not dest_server:
        dest_server = _IN_CLUSTER[1]
    if dest_server == _IN_CLUSTER[1] and not dest_name:
        dest_name = _IN_CLUSTER[0]
    item_name = str(item.get("name") or "")
    item_server = str(item.get("server") or "").rstrip("/")
    decidable = False
    for pattern, value in ((item_name, dest_name), (item_server, dest_server)):
        if not pattern:
            continue
        if pattern == "*" or (
            value and _glob_match(pattern.lstrip("!"), value) != pattern.startswith("!")
        ):
            return True
        if value:
            decidable = True
    return False if decidable else None


def _glob_match(pattern: str, value: str, separator: str | None = None) -> bool:
    """gobwas/glob as Argo CD uses it: ``*`` (not across ``separator``), ``**``, ``?``,
    ``[...]``, ``{a,b}``."""
    if pattern == "*":
        return True
    try:
        return re.fullmatch(_glob_regex(pattern, separator), value) is not None
    except re.error:  # a malformed class such as "[]": glob.Compile fails, nothing matches
        return False


def _glob_regex(pattern: str, separator: str | None) -> str:
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


def _normalize_git_url(url: str) -> str:
    """Argo CD's git.NormalizeGitURL, approximately: lower case, scp-style SSH as a path, no
    ``.git`` suffix, no trailing slash."""
    url = url.strip().lower()
    if url.startswith("git@") and "://" not in url:
        url = url.replace(":", "/", 1)
    url = url.removeprefix("ssh://").rstrip("/")
    return url.removesuffix(".git")


def _destinations_text(spec: dict[str, Any]) -> str:
    items = [
        f"{d.get('name') or d.get('server') or '?'}/{d.get('namespace', '')}"
        for d in _list_of_dicts(spec.get("destinations"))
    ]
    return ", ".join(items) or "none"


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# --- promotion order ----------------------------------------------------------------------

REGRESSION_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")
_REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


@dataclass(frozen=True)
class _Strength:
    """What makes one env's copy of a workload resilient."""

    workload: Resource
    min_replicas: int | None  # None: not replicated (DaemonSet) or not interpretable
    min_from: str  # "HPA x minReplicas" or "replicas"
    hpa: str | None
    max_replicas: int | None
    pdb: str | None
    probes: dict[str, set[str]]  # container name -> {"livenessProbe", "readinessProbe"}


@rule("env-regression")
def env_regression(ctx: CheckContext) -> Iterator[Hit]:
    """A later env in the promotion order is weaker than an earlier one for the same workload.

    Envs in gitops.yaml go weakest to strongest: what passed in staging with 2 replicas, a PDB
    and probes must not reach prod with 1 replica and none of them, or the first node drain or
    deadlock in prod is also the first time that configuration meets real traffic. Compared per
    workload present in both envs: minimum replicas (HPA minReplicas, else replicas), HPA
    maxReplicas, having an HPA, having a PDB, liveness and readiness probes per container. Each
    later env is compared with the strongest earlier env for each aspect."""
    envs = ctx.envs()
    strengths: dict[str, dict[tuple[str, str, str], _Strength]] = {
        env: {
            (w.service, w.kind, w.name): _strength(ctx, w)
            for w in ctx.of_kind(*REGRESSION_KINDS, env=env)
        }
        for env in envs
    }
    for index, env in enumerate(envs):
        earlier_envs = envs[:index]
        for key, later in strengths[env].items():
            earlier = [(e, strengths[e][key]) for e in earlier_envs if key in strengths[e]]
            if earlier:
                yield from _regressions(env, later, earlier)


def _regressions(env: str, later: _Strength, earlier: list[tuple[str, _Strength]]) -> Iterator[Hit]:
    workload = later.workload
    # Nearest earlier env first among equals: it is the one the change was promoted from.
    ordered = list(reversed(earlier))
    if later.min_replicas is not None:
        candidates = [(e, s) for e, s in ordered if s.min_replicas is not None]
        if candidates:
            best_env, best = max(candidates, key=lambda c: c[1].min_replicas or 0)
            if best.min_replicas is not None and later.min_replicas < best.min_replicas:
                yield Hit(
                    f"minimum replicas {later.min_replicas} in {env} ({later.min_from}) is lower "
                    f"than {best.min_replicas} in {best_env} ({best.min_from})",
                    workload,
                )
    with_hpa = [(e, s) for e, s in ordered if s.hpa is not None]
    if with_hpa and later.hpa is None:
        hpa_env, hpa = with_hpa[0]
        yield Hit(
            f"no HorizontalPodAutoscaler in {env}, but {hpa_env} has {hpa.hpa} "
            f"(maxReplicas {hpa.max_replicas})",
            workload,
        )
    elif later.max_replicas is not None:
        candidates = [(e, s) for e, s in with_hpa if s.max_replicas is not None]
        if candidates:
            best_env, best = max(candidates, key=lambda c: c[1].max_replicas or 0)
            if best.max_replicas is not None and later.max_replicas < best.max_replicas:
                yield Hit(
                    f"HPA {later.hpa} maxReplicas {later.max_replicas} in {env} is lower than "
                    f"{best.max_replicas} in {best_env} ({best.hpa})",
                    workload,
                )
    with_pdb = [(e, s) for e, s in ordered if s.pdb is not None]
    if with_pdb and later.pdb is None:
        pdb_env, pdb = with_pdb[0]
        yield Hit(
            f"no PodDisruptionBudget covers the pods in {env}, but {pdb_env} has {pdb.pdb}",
            workload,
        )
    for container, probes in sorted(later.probes.items()):
        for probe in ("livenessProbe", "readinessProbe"):
            if probe in probes:
                continue
            having = [e for e, s in ordered if probe in s.probes.get(container, set())]
            if having:
                yield Hit(
                    f"container {container}: no {probe} in {env}, but {having[0]} has one",
                    workload,
                )


def _strength(ctx: CheckContext, workload: Resource) -> _Strength:
    env, namespace = workload.env, workload.namespace
    hpa = next(
        (
            h
            for h in ctx.of_kind("HorizontalPodAutoscaler", env=env)
            if h.namespace == namespace and _scale_target(h) == (workload.kind, workload.name)
        ),
        None,
    )
    labels = pod_labels(workload)
    pdb = next(
        (
            p
            for p in ctx.of_kind("PodDisruptionBudget", env=env)
            if p.namespace == namespace
            and labels
            and selector_matches(p.spec.get("selector"), labels, controller_labels(workload))
        ),
        None,
    )
    min_replicas: int | None = None
    min_from = "replicas"
    max_replicas: int | None = None
    if hpa is not None:
        min_replicas = _int(hpa.spec.get("minReplicas"), default=1)
        max_replicas = _int(hpa.spec.get("maxReplicas"), default=None)
        min_from = f"HPA {hpa.name} minReplicas"
    elif workload.kind in _REPLICATED_KINDS:
        min_replicas = _int(workload.spec.get("replicas"), default=1)
    probes = {
        str(c.get("name", "")): {p for p in ("livenessProbe", "readinessProbe") if c.get(p)}
        for c in containers(workload)
    }
    return _Strength(
        workload=workload,
        min_replicas=min_replicas,
        min_from=min_from,
        hpa=hpa.name if hpa is not None else None,
        max_replicas=max_replicas,
        pdb=pdb.name if pdb is not None else None,
        probes=probes,
    )


def _scale_target(hpa: Resource) -> tuple[str, str] | None:
    target = hpa.spec.get("scaleTargetRef")
    if not isinstance(target, dict):
        return None
    return str(target.get("kind", "")), str(target.get("name", ""))


def _int(value: Any, default: int | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default
