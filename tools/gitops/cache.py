"""The user's cache directory, and a render cache keyed by everything kustomize reads.

Rendering is most of what ``gitops check`` costs: each ``kustomize build`` spends ~0.3 s just
starting. A render's output depends only on the overlay's input set (every file kustomize reads,
see :mod:`gitops.inputs`), the kustomize and helm binaries and the build options, so the output
is stored under a hash of exactly those and reused while none of them changes. A chart's render
(an Argo CD chart source) is keyed the same way by the chart folder's files, its value files and
the arguments Argo CD passes (release name, namespace, values, parameters, versions). Overlays
with a remote resource or chart, or whose inputs cannot all be resolved, are never cached;
failed renders neither.

A key holds no absolute path: the overlay and its input files are named relative to the
checkout, and a stored traced render names its source files the same way. Two checkouts of the
same commit (the working tree and ``gitops diff``'s temporary base worktree) share every entry.

The cache lives outside the repository: ``$GITOPS_CACHE_DIR``, else
``$XDG_CACHE_HOME/gitops``, else ``~/.cache/gitops``. ``--no-cache`` (or ``GITOPS_NO_CACHE=1``, read
once by the CLI, see gitops.workspace) turns it off; deleting the folder is always safe.

    >>> cache = RenderCache.for_checkout(repo, config, kustomize)
    >>> key = cache.key("overlays/prod/web", trace=True, inputs=resolver.overlay_inputs(...))
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops import __version__
from gitops.cachedirs import user_cache_root
from gitops.config import RepoConfig
from gitops.inputs import InputSet
from gitops.kustomize import Kustomize

log = logging.getLogger(__name__)
# 2: keys without the checkout's path; traced entries hold parsed, repo-relative resources.
# 3: units that use helm keyed by its binary and their helm arguments too.
FORMAT_VERSION = "render-cache/3"


@dataclass
class RenderCache:
    directory: Path
    identity: str  # binary, options and tool version: part of every key (never a path)
    root: Path  # the checkout whose input files are hashed
    _file_digests: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def for_checkout(
        cls, root: Path, config: RepoConfig, kustomize: Kustomize, directory: Path | None = None
    ) -> RenderCache:
        identity = json.dumps(
            [
                FORMAT_VERSION,
                __version__,
                binary_identity(kustomize.binary),
                kustomize.is_kubectl,
                list(config.kustomize.build_options),
            ]
        )
        return cls(directory or user_cache_root() / "renders", identity, root)

    def for_root(self, root: Path) -> RenderCache:
        """The same cache (folder and identity) over another checkout."""
        return RenderCache(self.directory, self.identity, root)

    def key(self, rel_path: str, trace: bool, inputs: InputSet, arguments: str = "") -> str | None:
        """The key of rendering the unit ``rel_path`` (a kustomization directory, or a chart
        source's :attr:`~gitops.model.Overlay.key`) whose input set is ``inputs`` and whose
        other arguments ``arguments`` says; None if it reads something the cache cannot see (a
        remote base or chart, an unresolvable input)."""
        if inputs.remote or inputs.unresolved or inputs.remote_charts:
            return None
        digest = hashlib.sha256()
        digest.update(self.identity.encode())
        digest.update(f"\0{rel_path}\0{trace}\0{arguments}\0".encode())
        files = set(inputs.files)
        for directory in inputs.directories:
            folder = self.root / directory
            if folder.is_dir():
                files |= {
                    p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file()
                }
            else:
                files.add(directory)
        for rel in sorted(files):
            digest.update(f"{rel}\0{self._digest(rel)}\0".encode())
        return digest.hexdigest()

    def _digest(self, rel: str) -> str:
        if rel not in self._file_digests:
            try:
                self._file_digests[rel] = hashlib.sha256((self.root / rel).read_bytes()).hexdigest()
            except OSError:
                self._file_digests[rel] = "missing"
        return self._file_digests[rel]

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or None when absent or torn (render again)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        target = self._path(key)
        try:
            text = json.dumps(entry)
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write-then-rename: parallel gitops runs never see half a file.
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=target.parent, delete=False, suffix=".tmp"
            ) as handle:
                handle.write(text)
            os.replace(handle.name, target)
        except (OSError, TypeError, ValueError) as exc:
            log.debug("render cache not written: %s", exc)


def binary_identity(path: str) -> str:
    """A binary's identity for cache keys: its path, size and modification time (the helm of
    a unit that uses one is part of that unit's ``arguments``)."""
    binary = Path(path)
    try:
        stat = binary.stat()
    except OSError:
        return str(binary)
    return f"{binary.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
