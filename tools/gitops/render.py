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

from gitops.kustomization import find_kustomization, referencing_field
from gitops.model import Location, Overlay, Resource, ResourceKey
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
    # A failed chart render: the template file and line helm's error names.
    location: Location | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def failure_line(self) -> str:
        return f"{self.overlay.label}: {self.error}"


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
            overlay.key,
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
    """Make kustomize's error about one overlay readable: the cause, repo-relative paths, no
    argv echo."""
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
    built = Path(command.cwd or ".") / command.argv[2] if len(command.argv) > 2 else repo
    message = summarize_kustomize_error(" ".join(message.split()), built)
    for root in {str(repo.resolve()), str(repo)}:
        message = message.replace(root + os.sep, "").replace(root, ".")
    return message


_ACCUMULATING = re.compile(r"accumulating resources from '(?P<resource>[^']+)'")
_RECURSED = re.compile(r"recursed accumulation of path '(?P<path>[^']+)'")
_MISSING = re.compile(r"lstat (?P<path>\S+): no such file or directory")
_REFERENCE_FIELDS = frozenset({"resources", "components", "bases"})


def summarize_kustomize_error(message: str, built: Path) -> str:
    """Shorten kustomize's nested "accumulating resources" chains to the cause a person needs:
    a remote resource that could not be fetched, or the missing file and the field of the
    kustomization that names it (the innermost one kustomize was reading, ``built`` when none);
    any other message is returned unchanged."""
    match = _ACCUMULATING.search(message)
    resource = match.group("resource") if match else ""
    if "://" in resource or resource.startswith(("git@", "github.com/")):
        cause = message.rsplit("fatal: ", 1)[-1] if "fatal: " in message else message
        return f"remote resource {resource} could not be fetched: {cause.rstrip('.')}"
    missing = [m.group("path") for m in _MISSING.finditer(message)]
    if not missing:
        return message
    target = Path(missing[-1])
    directories = [m.group("path") for m in _RECURSED.finditer(message)]
    reader = Path(directories[-1]) if directories else built
    kustomization = find_kustomization(reader)
    where = str(kustomization) if kustomization is not None else f"{reader}/kustomization.yaml"
    field = referencing_field(reader, target)
    if field in _REFERENCE_FIELDS or (field is None and match is not None and not directories):
        named = os.path.relpath(target, reader) if target.is_absolute() else str(target)
        return (
            f"resource {named!r} listed in {where} does not exist (expected a file or a "
            f"kustomization directory at {target})"
        )
    if field is None:
        return f"{target} does not exist (read while building {where})"
    return f"{target} does not exist: {where} names it in {field}"


def join_manifests(results: Iterable[RenderedOverlay]) -> str:
    """One multi-document stream; each unit's documents are preceded by a comment naming it
    (a chart source: its folder and Application)."""
    parts = []
    for result in results:
        if result.manifest is None:
            continue
        body = result.manifest if result.manifest.endswith("\n") else result.manifest + "\n"
        parts.append(f"---\n# Source: {result.overlay.label}\n{body}")
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
