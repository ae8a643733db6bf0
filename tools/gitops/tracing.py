"""Turn a traced render into :class:`Resource` objects that name their source file and patches.

kustomize's build metadata (enabled for a traced build, gitops.workspace) annotates every resource:

* ``config.kubernetes.io/origin``: ``path`` of the file that defined it (or ``configuredIn`` for
  generated resources, ``repo``/``ref`` for remote ones);
* ``alpha.config.kubernetes.io/transformations``: each transformer that changed it, with the
  kustomization it was ``configuredIn``.

Patch transformers only name the kustomization, so the patch files are found by reading that
kustomization's ``patches`` and matching each patch's target to the resource, the way kustomize
selects them; an inline patch is named by the kustomization that holds it. Both annotations are
removed from the body before checks see it. Every path is relative to the checkout, so a traced
render reads the same from any checkout of the same files (the render cache relies on it).

Objects a chart renders name their template: an Argo CD chart source's through helm's
``# Source:`` headers (:func:`trace_chart`), kustomize's ``helmCharts`` through the caller's
``helm_source`` (kustomize records only the kustomization, ``configuredBy``
HelmChartInflationGenerator). Objects no Argo CD sync applies (a Helm test, a ``Skip`` hook:
gitops.helm.hooks) are left out, as Argo CD leaves them out.

    >>> resources, problems = trace_manifest(repo, origin_root, overlay, kustomize_output)
    >>> resources[0].source, resources[0].patches
    ('base/healthz/deployment.yaml', ('overlays/prod/healthz/resources.yaml',))
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.helm.hooks import applied_by_sync
from gitops.helm.output import repo_path, source_at, source_headers
from gitops.model import Overlay, Resource, ResourceKey, image_name

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
# Transformers whose configuring file a reviewer wants to see next to a finding; namespace, label
# and name-prefix transformers touch every resource and would only add noise.
_PATCH_KINDS = frozenset(
    {"PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer"}
)
_FILE_LEVEL_KINDS = frozenset({"ImageTagTransformer", "ReplicaCountTransformer"})
HELM_GENERATOR = "HelmChartInflationGenerator"
# The template of an object kustomize inflated from a chart: (the kustomization whose
# helmCharts made it, the object) -> repo-relative template path, or None.
HelmSource = Callable[[str, dict[str, Any]], str | None]


def trace_manifest(
    repo: Path,
    origin_root: str,
    overlay: Overlay,
    text: str,
    helm_source: HelmSource | None = None,
) -> tuple[list[Resource], list[str]]:
    """Parse one overlay's traced output (origin paths relative to ``origin_root``, the folder
    kustomize built) into resources, and the problems of what is not an object."""
    root = str(repo.resolve())  # once per overlay: the traces below compare strings against it
    resources = []
    # The same YAML semantics as kubectl (dates stay strings) and as gitops validate.
    loaded = yamlio.read_documents(text, overlay.rel_path)
    for document in loaded.documents:
        body = document.body
        source, patches = _trace(root, origin_root, body, helm_source)
        if not applied_by_sync(body):
            continue
        resources.append(
            Resource(
                env=overlay.env,
                service=overlay.service,
                key=ResourceKey.of(body),
                body=body,
                source=source,
                patches=patches,
                overlay_path=overlay.key,
            )
        )
    return resources, list(loaded.errors)


def trace_chart(
    overlay: Overlay, text: str, chart: str, chart_dir: str, patches: tuple[str, ...]
) -> tuple[list[Resource], list[str]]:
    """Parse ``helm template``'s output for a chart unit: each object names the template of
    its ``# Source:`` header (``chart``/... -> ``chart_dir``/...; the chart folder when it has
    none) and, as its patches, the value files of the render."""
    headers = source_headers(text)
    resources = []
    loaded = yamlio.read_documents(text, overlay.rel_path)
    for document in loaded.documents:
        if not applied_by_sync(document.body):
            continue
        header = source_at(headers, document.line)
        source = repo_path(header, chart, chart_dir) if header else None
        resources.append(
            Resource(
                env=overlay.env,
                service=overlay.service,
                key=ResourceKey.of(document.body),
                body=document.body,
                source=source or chart_dir,
                patches=patches,
                overlay_path=overlay.key,
            )
        )
    return resources, list(loaded.errors)


def _trace(
    root: str, origin_root: str, body: dict[str, Any], helm_source: HelmSource | None = None
) -> tuple[str | None, tuple[str, ...]]:
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return None, ()
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return None, ()
    origin_text = annotations.pop(ORIGIN, None)
    transformations_text = annotations.pop(TRANSFORMATIONS, None)
    if not annotations:
        del metadata["annotations"]
    source = _origin_source(root, origin_root, origin_text) if origin_text else None
    patches = _patch_files(root, origin_root, transformations_text, body)
    if source is not None and _helm_generated(origin_text):
        # The kustomization's helmCharts entry (its values) shaped the object: a patch of it.
        kustomization = source
        source = (helm_source(kustomization, body) if helm_source else None) or kustomization
        if source != kustomization:
            patches = tuple(dict.fromkeys((kustomization, *patches)))
    return source, patches


def _helm_generated(origin_text: str | None) -> bool:
    origin = _parse_annotation(origin_text) if origin_text else None
    by = origin.get("configuredBy") if isinstance(origin, dict) else None
    return isinstance(by, dict) and by.get("kind") == HELM_GENERATOR


def _origin_source(root: str, origin_root: str, origin_text: str) -> str | None:
    """The file a resource comes from (repo-relative), or the remote URL it was fetched from."""
    origin = _parse_annotation(origin_text) or {}
    if origin.get("repo"):
        return f"{origin['repo']}//{origin.get('path', '')}?ref={origin.get('ref', '')}"
    local = origin.get("path") or origin.get("configuredIn")
    return _repo_relative(root, origin_root, local) if local else None


def _patch_files(
    root: str, origin_root: str, transformations_text: str | None, body: dict[str, Any]
) -> tuple[str, ...]:
    """The patch files (or kustomizations, for file-level transformers) that changed it."""
    patches: list[str] = []
    for step in _parse_annotation(transformations_text or "[]") or []:
        configured_by = (step.get("configuredBy") or {}).get("kind", "")
        configured_in = step.get("configuredIn")
        if not configured_in:
            continue
        kustomization = _repo_relative(root, origin_root, configured_in)
        if kustomization is None:
            continue
        if configured_by in _PATCH_KINDS:
            patches.extend(_matching_patch_files(root, kustomization, body))
        elif configured_by in _FILE_LEVEL_KINDS and _file_level_applies(
            root, kustomization, configured_by, body
        ):
            patches.append(kustomization)
    return tuple(dict.fromkeys(patches))


@lru_cache(maxsize=1024)
def _parse_annotation(text: str) -> Any:
    """Parse a build-metadata annotation; resources of one overlay share most of them."""
    return yamlio.safe_load(text)


@lru_cache(maxsize=4096)
def _repo_relative(root: str, origin_root: str, path: str) -> str | None:
    """``path`` (relative to ``origin_root``) relative to the resolved repo ``root``; None
    outside it. Pure string work: one overlay asks for the same few paths hundreds of times."""
    absolute = os.path.normpath(os.path.join(origin_root, path))
    if absolute == root:
        return "."
    prefix = root.rstrip(os.sep) + os.sep
    if not absolute.startswith(prefix):
        return None
    return Path(absolute[len(prefix) :]).as_posix()


def _matching_patch_files(root: str, kustomization: str, body: dict[str, Any]) -> list[str]:
    directory = Path(kustomization).parent
    matched = []
    for _index, path in patches_applied(root, kustomization, body):
        # An inline patch is where it is written: its kustomization.
        matched.append(os.path.normpath((directory / path).as_posix()) if path else kustomization)
    return matched


def patches_applied(
    root: str, kustomization: str, body: dict[str, Any]
) -> list[tuple[int, str | None]]:
    """(index in ``patches``, patch file or None for an inline patch) of each patch of the
    kustomization that selects the resource ``body``, the way kustomize selects them."""
    applied = []
    for index, path, target, patch_docs in _patch_entries(root, kustomization):
        if target is not None:
            hit = _selector_matches(target, body)
        else:
            hit = any(_doc_targets(doc, body) for doc in patch_docs)
        if hit:
            applied.append((index, path))
    return applied


@lru_cache(maxsize=512)
def _patch_entries(
    repo: str, kustomization: str
) -> tuple[tuple[int, str | None, dict[str, Any] | None, tuple[dict[str, Any], ...]], ...]:
    """(index, patch file or None for inline, explicit target, patch documents) per
    ``patches`` item."""
    data = _kustomization(repo, kustomization)
    entries = []
    for index, item in enumerate(data.get("patches") or []):
        if not isinstance(item, dict):
            continue
        path = item.get("path")
        text = item.get("patch")
        if path:
            try:
                text = Path(repo, kustomization).parent.joinpath(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        try:
            docs = tuple(d for d in yamlio.safe_load_all(text or "") if isinstance(d, dict))
        except yaml.YAMLError:
            docs = ()
        entries.append((index, path, item.get("target"), docs))
    return tuple(entries)


def _file_level_applies(
    repo: str, kustomization: str, transformer: str, body: dict[str, Any]
) -> bool:
    """kustomize annotates every resource a transformer visited; keep only the resources an
    ``images:`` entry (by image name) or a ``replicas:`` entry (by name) actually changes."""
    data = _kustomization(repo, kustomization)
    if transformer == "ReplicaCountTransformer":
        name = (body.get("metadata") or {}).get("name")
        entries = data.get("replicas") or []
        return any(isinstance(e, dict) and e.get("name") == name for e in entries)
    names = {str(e.get("name")) for e in data.get("images") or [] if isinstance(e, dict)}
    return bool(names & _image_names(body))


def _image_names(node: Any) -> set[str]:
    """Image names (without tag or digest) of every container in a resource."""
    found: set[str] = set()
    if isinstance(node, dict):
        image = node.get("image")
        if isinstance(image, str) and "name" in node:
            found.add(image_name(image))
        for value in node.values():
            found |= _image_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= _image_names(value)
    return found


@lru_cache(maxsize=512)
def _kustomization(repo: str, kustomization: str) -> dict[str, Any]:
    """The parsed kustomization (shared between callers: read it, never change it); empty when
    it cannot be read or parsed."""
    try:
        text = Path(repo, kustomization).read_text(encoding="utf-8")
        data = yamlio.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _doc_targets(doc: dict[str, Any], body: dict[str, Any]) -> bool:
    metadata = doc.get("metadata") or {}
    return doc.get("kind") == body.get("kind") and metadata.get("name") == (
        body.get("metadata") or {}
    ).get("name")


def _selector_matches(target: dict[str, Any], body: dict[str, Any]) -> bool:
    """kustomize's patch target: group/version/kind/name/namespace (names are regexes) and
    label/annotation selectors (equality-based ``k=v,k2=v2`` only)."""
    api_version = str(body.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    metadata = body.get("metadata") or {}
    fields = {
        "group": group,
        "version": version,
        "kind": body.get("kind", ""),
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", ""),
    }
    for field_name, actual in fields.items():
        wanted = target.get(field_name)
        if wanted is not None and not re.fullmatch(str(wanted), str(actual or "")):
            return False
    for selector_key, attribute in (
        ("labelSelector", "labels"),
        ("annotationSelector", "annotations"),
    ):
        selector = target.get(selector_key)
        if selector:
            values = metadata.get(attribute) or {}
            for term in str(selector).split(","):
                key, _, value = term.partition("=")
                if values.get(key.strip()) != value.strip():
                    return False
    return True
