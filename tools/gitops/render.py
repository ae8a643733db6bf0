"""What a render gives back, and the words and files it ends in.

A :class:`RenderedOverlay` is one overlay built by the Workspace (gitops.workspace): a plain
build's manifest (what ``gitops render`` prints, byte for byte), or a traced build's resources,
parsed once with the strict loader and traced to the files that defined and patched them. This
module holds no process and no cache: it words kustomize's errors (:func:`relativize`), writes
and joins manifests, and encodes a traced render for the render cache.

>>> results = workspace.render(workspace.discover(workspace.argocd()).overlays)
>>> [r.overlay.name for r in results if not r.ok]
[]
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.model import Overlay, Resource, ResourceKey
from gitops.runner import Command


@dataclass(frozen=True)
class RenderedOverlay:
    overlay: Overlay
    manifest: str | None  # a plain build's multi-document YAML; None when traced or failed
    error: str | None  # one line, repo-relative paths, None on success
    seconds: float
    # A traced build: every document parsed once (gitops.yamlio.read_documents), without
    # kustomize's build metadata, naming its source file and patches (gitops.tracing).
    resources: tuple[Resource, ...] = ()
    # "file:line: problem" for output that is not an object (a document that is not a mapping)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def failure_line(self) -> str:
        return f"{self.overlay.rel_path}: {self.error}"


def traced_entry(resources: Iterable[Resource], problems: Iterable[str]) -> dict[str, Any] | None:
    """A traced render as the render cache stores it (no absolute path, no overlay name: the
    key is the overlay's inputs); None when a body would not read back the same from JSON
    (a non-string key, a non-finite float: never in kustomize's output, but then not cached)."""
    documents = [[r.body, r.source, list(r.patches)] for r in resources]
    if not all(_json_safe(body) for body, _source, _patches in documents):
        return None
    return {"resources": documents, "problems": list(problems)}


def resources_from_entry(
    overlay: Overlay, entry: dict[str, Any]
) -> tuple[tuple[Resource, ...], tuple[str, ...]] | None:
    """The resources of a cached traced render, named for ``overlay``; None for an entry that
    is not one (a plain build, an older format)."""
    documents = entry.get("resources")
    if not isinstance(documents, list):
        return None
    resources = tuple(
        Resource(
            overlay.env,
            overlay.service,
            ResourceKey.of(body),
            body,
            source,
            tuple(patches),
            overlay.rel_path,
        )
        for body, source, patches in documents
    )
    return resources, tuple(str(p) for p in entry.get("problems") or ())


def _json_safe(node: Any) -> bool:
    if isinstance(node, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in node.items())
    if isinstance(node, list):
        return all(_json_safe(v) for v in node)
    if isinstance(node, float):
        return math.isfinite(node)
    return node is None or isinstance(node, str | int | bool)


WRAPPER_KUSTOMIZATION = """\
# Written by gitops in a temporary directory, never in the repository: it asks kustomize to
# record where each resource came from and which transformers changed it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {target}
buildMetadata: [originAnnotations, transformerAnnotations]
"""


def relativize(message: str, repo: Path, command: Command) -> str:
    """Make kustomize's error about one overlay readable: repo-relative paths, no argv echo."""
    prefix = f"{command.quoted()} exited "
    if message.startswith(f"{command.quoted()} timed out after "):
        seconds = message.rsplit(" ", 1)[-1]
        return (
            f"kustomize timed out after {seconds} (kustomize.timeoutSeconds in gitops.yaml, "
            "--render-timeout)"
        )
    if message.startswith(prefix):
        # "<argv> exited 1: <kustomize message>" -> "<kustomize message>"
        message = message[len(prefix) :].split(": ", 1)[-1]
    for root in {str(repo.resolve()), str(repo)}:
        message = message.replace(root + os.sep, "").replace(root, ".")
    return summarize_kustomize_error(" ".join(message.split()))


_ACCUMULATING = re.compile(r"accumulating resources from '(?P<resource>[^']+)'")


def summarize_kustomize_error(message: str) -> str:
    """Shorten kustomize's nested "accumulating resources" chains to the cause a person needs;
    any other message is returned unchanged."""
    match = _ACCUMULATING.search(message)
    if match is None:
        return message
    resource = match.group("resource")
    if "://" in resource or resource.startswith(("git@", "github.com/")):
        cause = message.rsplit("fatal: ", 1)[-1] if "fatal: " in message else message
        return f"remote resource {resource} could not be fetched: {cause.rstrip('.')}"
    missing = re.search(r"lstat (\S+): no such file or directory", message)
    if missing:
        return (
            f"resource {resource!r} listed in its kustomization does not exist "
            f"(expected a file or a kustomization directory at {missing.group(1)})"
        )
    return message


def join_manifests(results: Iterable[RenderedOverlay]) -> str:
    """One multi-document stream; each overlay's documents are preceded by a comment naming it."""
    parts = []
    for result in results:
        if result.manifest is None:
            continue
        body = result.manifest if result.manifest.endswith("\n") else result.manifest + "\n"
        parts.append(f"---\n# Source: {result.overlay.rel_path}\n{body}")
    return "".join(parts)


def write_manifests(results: Iterable[RenderedOverlay], out_dir: Path) -> list[Path]:
    """Write ``<out>/<env>/<service>.yaml`` for each rendered overlay; returns the paths."""
    written = []
    for result in results:
        if result.manifest is None:
            continue
        target = out_dir / result.overlay.env / f"{result.overlay.service}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(result.manifest, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written
