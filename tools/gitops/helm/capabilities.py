"""The API versions a chart sees as ``.Capabilities.APIVersions``: what Argo CD passes as
``--api-versions`` (chart sources) and ``--helm-api-versions`` (kustomize with --enable-helm).

Argo CD passes the destination cluster's API resources, as ``group/version`` and
``group/version/Kind`` strings, sorted (argo-cd util/argo APIResourcesToStrings with
includeKinds=true, from the controller's cluster cache). Offline, the cluster is the target
version of gitops.yaml: the kinds of that version's OpenAPI definitions (the
kubernetes-validate package gitops validates with) whose apiVersion kube-apiserver serves by
default (GA versions: alpha and beta APIs are off unless a flag turns them on), without list
kinds and the subresource kinds no manifest creates (Scale, Eviction, TokenRequest), plus the
served versions of the CRDs gitops knows (its bundled ones and ``schemas.crdDirs``).

    >>> versions = api_versions("1.36", repo_crds(repo, config))
    >>> "apps/v1/Deployment" in versions and "apps/v1" in versions
    True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from gitops.config import RepoConfig
from gitops.schema.builtin import find_schema_package
from gitops.schema.crds import BUNDLED_SCHEMAS, read_crd_file
from gitops.schema.settings import parse_schema_settings

# Kinds of subresources (pods/eviction, deployments/scale, serviceaccounts/token): objects of
# the API, not resources Argo CD's cluster cache lists.
_SUBRESOURCE_KINDS = frozenset({"Scale", "Eviction", "TokenRequest"})
# Alpha and beta versions: kube-apiserver v1.36 enables only GA group versions by default and
# lists every beta and alpha one as disabled (k8s.io/kubernetes pkg/controlplane/instance.go
# DefaultAPIResourceConfigSource and its *DisabledByDefault lists).
_PRERELEASE = re.compile(r"v\d+(alpha|beta)\d*$")


def api_versions(
    kubernetes_version: str, crds: Iterable[Mapping[str, Any]] = ()
) -> tuple[str, ...]:
    """Sorted ``group/version`` and ``group/version/Kind`` strings for ``kubernetes_version``
    (built-in GA kinds) and the served versions of ``crds``."""
    found = set(_builtin(kubernetes_version))
    for crd in crds:
        found |= set(_crd_versions(crd))
    return tuple(sorted(found))


@cache
def _builtin(kubernetes_version: str) -> tuple[str, ...]:
    package = find_schema_package(kubernetes_version)
    document = json.loads((package.directory / "_definitions.json").read_text(encoding="utf-8"))
    definitions = document.get("$defs") or document.get("definitions") or {}
    found: set[str] = set()
    for definition in definitions.values():
        if not isinstance(definition, dict) or not _is_object(definition):
            continue
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            kind, version = str(gvk.get("kind", "")), str(gvk.get("version", ""))
            if kind.endswith("List") or kind in _SUBRESOURCE_KINDS or _PRERELEASE.match(version):
                continue
            group_version = f"{gvk['group']}/{version}" if gvk.get("group") else version
            found |= {group_version, f"{group_version}/{kind}"}
    return tuple(sorted(found))


def _is_object(definition: Mapping[str, Any]) -> bool:
    """An API object has ObjectMeta metadata (options, events of a watch, status do not)."""
    metadata = (definition.get("properties") or {}).get("metadata")
    return "ObjectMeta" in json.dumps(metadata or {})


def _crd_versions(crd: Mapping[str, Any]) -> list[str]:
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        return []
    group, names = spec.get("group"), spec.get("names")
    kind = names.get("kind") if isinstance(names, Mapping) else None
    found = []
    for version in spec.get("versions") or []:
        if isinstance(version, Mapping) and version.get("served") and group and kind:
            found += [f"{group}/{version.get('name')}", f"{group}/{version.get('name')}/{kind}"]
    return found


def repo_crds(repo: Path, config: RepoConfig) -> list[Mapping[str, Any]]:
    """The CRDs gitops knows for ``repo``: its bundled ones (ServiceMonitor, Argo CD's) and the
    files of ``schemas.crdDirs``, each CustomResourceDefinition once."""
    files = sorted(BUNDLED_SCHEMAS.glob("*.yaml"))
    for rel in parse_schema_settings(config.schemas).crd_dirs:
        folder = repo / rel
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    seen: dict[int, Mapping[str, Any]] = {}
    for path in files:
        for version in read_crd_file(path, repo):
            seen.setdefault(id(version.crd), version.crd)
    return list(seen.values())
