"""Traced renders of one env's overlays in one kustomize process, split back per overlay.

Most of a cold ``gitops check`` is kustomize starting: ~0.3 s per process, one per overlay. An
env's overlays are independent kustomizations, so one build of a throw-away kustomization
listing them all (each through its own sub-kustomization) prints the same resources in one
process. To tell them apart, each sub-kustomization adds one annotation naming its overlay, with
an AnnotationsTransformer whose only field spec is the top-level ``metadata/annotations`` (pod
templates are left alone); the line is removed from the text before anyone reads it. The
outputs match the per-overlay traced build (gitops.render.render_overlay(trace=True)): the
same documents, in the same relative order (kustomize's output order is a total order over the
resources), with origin paths relative to the batch root, which becomes their ``origin_root``.

Safe by construction, and otherwise per overlay: only overlays whose inputs are all local and
resolvable are batched (a remote base would make every sibling wait on the network), and on any
failure of the batch (two overlays defining the same resource id, a build error, a timeout, an
out-of-memory end, a document that carries no mark) each overlay of the env is rendered on its
own, so errors read exactly as before. Each overlay's part is stored in the render cache under
its own key, which stays the key of its own inputs.

    >>> results = render_batched(repo, overlays, config, kustomize, run, cache)
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from gitops.cache import CachedRender, RenderCache
from gitops.config import RepoConfig
from gitops.discovery import Overlay
from gitops.errors import CommandError
from gitops.inputs import InputResolver
from gitops.kustomize import Kustomize
from gitops.render import RenderedOverlay, Runner, render_overlay

BATCH_KUSTOMIZATION = """\
# Written by gitops in a temporary directory, never in the repository: one build for several
# overlays of one env, each through its own sub-kustomization that marks its resources.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{resources}
buildMetadata: [originAnnotations, transformerAnnotations]
"""
UNIT_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {target}
transformers:
  - mark.yaml
"""
# Top-level metadata.annotations only: no create in pod templates or other nested metadata.
MARK_TRANSFORMER = """\
apiVersion: builtin
kind: AnnotationsTransformer
metadata:
  name: gitops-unit-mark
annotations:
  {key}: "{index}"
fieldSpecs:
  - path: metadata/annotations
    create: true
"""
MIN_BATCH = 2


def render_batched(
    repo: Path,
    overlays: Sequence[Overlay],
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner,
    cache: RenderCache | None,
) -> list[RenderedOverlay]:
    """Traced renders of ``overlays``, in their order: cache hits as they are, the rest in one
    kustomize process per env where that is safe, else one per overlay. Six parameters: the
    Workspace's fields plus the overlays."""
    from concurrent.futures import ThreadPoolExecutor

    resolver = cache.resolver if cache is not None else InputResolver(repo)
    done: dict[str, RenderedOverlay] = {}
    groups: dict[str, list[Overlay]] = {}
    for overlay in overlays:
        hit = _cached(cache, overlay)
        if hit is not None:
            done[overlay.rel_path] = hit
            continue
        inputs = resolver.overlay_inputs(overlay.rel_path)
        batchable = not inputs.remote and not inputs.unresolved
        groups.setdefault(overlay.env if batchable else f"\0{overlay.rel_path}", []).append(overlay)

    def one_group(group: list[Overlay]) -> list[RenderedOverlay]:
        if len(group) >= MIN_BATCH:
            batched = _render_batch(repo, group, config, kustomize, runner)
            if batched is not None:
                for result in batched:
                    _store(cache, result)
                return batched
        return [render_overlay(repo, o, config, kustomize, runner, True, cache) for o in group]

    workers = max(1, min(len(groups), (os.cpu_count() or 1) * 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kustomize-env") as pool:
        for results in pool.map(one_group, groups.values()):
            done.update((r.overlay.rel_path, r) for r in results)
    return [done[o.rel_path] for o in overlays]


def _cached(cache: RenderCache | None, overlay: Overlay) -> RenderedOverlay | None:
    if cache is None:
        return None
    key = cache.key(overlay, True)
    hit = cache.get(key) if key is not None else None
    if hit is None:
        return None
    return RenderedOverlay(overlay, hit.manifest, None, 0.0, hit.origin_root)


def _store(cache: RenderCache | None, result: RenderedOverlay) -> None:
    key = cache.key(result.overlay, True) if cache is not None else None
    if cache is not None and key is not None and result.manifest is not None:
        cache.put(key, CachedRender(result.manifest, result.origin_root))


def _render_batch(
    repo: Path,
    group: list[Overlay],
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner,
) -> list[RenderedOverlay] | None:
    """One build of the group's overlays, split per overlay; None when the caller must render
    them one by one (any failure, or output that cannot be attributed)."""
    key = f"gitops.internal/batch-unit-{secrets.token_hex(6)}"
    root = tempfile.mkdtemp(prefix="gitops-batch-")
    try:
        for index, overlay in enumerate(group):
            unit = Path(root, f"u{index}")
            unit.mkdir()
            target = os.path.relpath(repo.resolve() / overlay.rel_path, unit)
            (unit / "kustomization.yaml").write_text(
                UNIT_KUSTOMIZATION.format(target=target), encoding="utf-8"
            )
            (unit / "mark.yaml").write_text(
                MARK_TRANSFORMER.format(key=key, index=index), encoding="utf-8"
            )
        listed = "\n".join(f"  - u{i}" for i in range(len(group)))
        Path(root, "kustomization.yaml").write_text(
            BATCH_KUSTOMIZATION.format(resources=listed), encoding="utf-8"
        )
        # One overlay's budget: a batch that needs more (a hanging remote, a huge chart) is
        # abandoned for per-overlay builds, so at worst the env takes twice its budget.
        command = kustomize.build_command(root, config.kustomize, repo)
        started = time.perf_counter()
        try:
            text = runner(command).stdout
        except CommandError:
            return None
        seconds = (time.perf_counter() - started) / len(group)
        parts = split_batch(text, key, len(group))
    finally:
        _remove_tree(root)
    if parts is None:
        return None
    return [
        RenderedOverlay(overlay, part, None, seconds, origin_root=root)
        for overlay, part in zip(group, parts, strict=True)
    ]


_EMPTY_ANNOTATIONS = re.compile(r"^  annotations:\n(?=\S|  \S|\Z)", re.MULTILINE)


def split_batch(text: str, key: str, count: int) -> list[str] | None:
    """Each unit's documents, in output order, without the mark line; None when a document
    carries no mark (or not exactly one)."""
    mark = re.compile(rf'^    {re.escape(key)}: "?(\d+)"?\n', re.MULTILINE)
    parts: list[list[str]] = [[] for _ in range(count)]
    for document in _documents(text):
        found = mark.findall(document)
        if len(found) != 1 or not 0 <= int(found[0]) < count:
            return None
        unmarked = mark.sub("", document, count=1)
        # The mark as the only annotation (never with build metadata on, but cheap to handle):
        # drop the then empty map, as a build without the mark would not have it.
        parts[int(found[0])].append(_EMPTY_ANNOTATIONS.sub("", unmarked, count=1))
    return ["---\n".join(docs) for docs in parts]


def _documents(text: str) -> list[str]:
    """kustomize's output split at its ``---`` separator lines, each document ending in a
    newline (a ``---`` inside a block scalar is indented, so never matches)."""
    documents: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == "---":
            if current:
                documents.append("".join(current))
            current = []
            continue
        current.append(line)
    if any(line.strip() for line in current):
        documents.append("".join(current))
    return [d if d.endswith("\n") else d + "\n" for d in documents]


def _remove_tree(root: str) -> None:
    import shutil

    shutil.rmtree(root, ignore_errors=True)
