"""How one kustomize process builds several overlays of an env, and how its output is split.

Most of a cold ``gitops check`` is kustomize starting: ~0.3 s per process, one per overlay. An
env's overlays are independent kustomizations, so one build of a throw-away kustomization
listing them all (each through its own sub-kustomization) prints the same resources in one
process. To tell them apart, each sub-kustomization adds one annotation naming its overlay, with
an AnnotationsTransformer whose only field spec is the top-level ``metadata/annotations`` (pod
templates are left alone); the line is removed from the text before anyone reads it. The
outputs match the per-overlay traced build (the Workspace's, gitops.workspace): the same
documents, in the same relative order (kustomize's output order is a total order over the
resources), with origin paths relative to the batch root.

Safe by construction, and otherwise per overlay: only overlays whose inputs are all local and
resolvable are batched (a remote base would make every sibling wait on the network), and on any
failure of the batch (two overlays defining the same resource id, a build error, a timeout, an
out-of-memory end, a document that carries no mark) each overlay of the env is rendered on its
own, so errors read exactly as before. Each overlay's part is stored in the render cache under
its own key, which stays the key of its own inputs. This module writes the batch's
kustomizations and splits the output; the Workspace runs the build.

    >>> key = write_batch(root, repo, ["overlays/dev/web", "overlays/dev/api"])
    >>> parts = split_batch(kustomize_output, key, 2)
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

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


def write_batch(root: Path, repo: Path, rel_paths: Sequence[str]) -> str:
    """Write the batch kustomization into the empty folder ``root``: one unit per overlay of
    ``rel_paths`` (under ``repo``), each marking its resources; returns the mark's annotation
    key (random, so no resource of the repository can carry it)."""
    key = f"gitops.internal/batch-unit-{secrets.token_hex(6)}"
    for index, rel_path in enumerate(rel_paths):
        unit = root / f"u{index}"
        unit.mkdir()
        target = os.path.relpath(repo.resolve() / rel_path, unit)
        (unit / "kustomization.yaml").write_text(
            UNIT_KUSTOMIZATION.format(target=target), encoding="utf-8"
        )
        (unit / "mark.yaml").write_text(
            MARK_TRANSFORMER.format(key=key, index=index), encoding="utf-8"
        )
    listed = "\n".join(f"  - u{i}" for i in range(len(rel_paths)))
    (root / "kustomization.yaml").write_text(
        BATCH_KUSTOMIZATION.format(resources=listed), encoding="utf-8"
    )
    return key


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
