"""Images built from apps/<name>/ and tagged by a hash of their content, never ``:latest``.

The same sources always give the same tag (so a kept cluster skips nothing it needs and
reloads nothing it has), and any change to a file of the app gives a new one. Build and
packaging leftovers (``__pycache__``, ``*.pyc``, ``*.egg-info``) are not content.

    >>> image = LocalImage.for_app(repo / "apps" / "healthz")
    >>> image.reference
    'e2e.local/healthz:e2e-3b9c0e1f2a4d'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gitops.runner import Command
from tests.e2e.harness.tools import Engine

# A registry host that resolves nowhere: if `kind load` did not happen, the pod fails with
# ErrImagePull at once instead of pulling some unrelated image from Docker Hub.
LOCAL_REGISTRY = "e2e.local"
TAG_PREFIX = "e2e-"
HASH_CHARS = 12
IGNORED_DIR_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def _ignored(rel: Path) -> bool:
    return (
        any(part in IGNORED_DIR_NAMES or part.endswith(".egg-info") for part in rel.parts[:-1])
        or rel.name.endswith(IGNORED_SUFFIXES)
        or rel.name.endswith(".egg-info")
    )


def app_files(app_dir: Path) -> Iterator[Path]:
    """The files that make up the app, relative to ``app_dir``, in a stable order."""
    for path in sorted(app_dir.rglob("*")):
        rel = path.relative_to(app_dir)
        if path.is_file() and not _ignored(rel):
            yield rel


def content_hash(app_dir: Path, files: Iterable[Path] | None = None) -> str:
    """sha256 over (relative path, size, bytes) of every file: renames count, not just bytes."""
    digest = hashlib.sha256()
    for rel in files if files is not None else app_files(app_dir):
        data = (app_dir / rel).read_bytes()
        digest.update(rel.as_posix().encode())
        digest.update(b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class LocalImage:
    app: str  # folder name under apps/, also the image's short name
    context: Path  # the build context: apps/<app>
    tag: str

    @classmethod
    def for_app(cls, app_dir: Path) -> LocalImage:
        return cls(app_dir.name, app_dir, TAG_PREFIX + content_hash(app_dir)[:HASH_CHARS])

    @property
    def repository(self) -> str:
        return f"{LOCAL_REGISTRY}/{self.app}"

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"

    def build_command(self, engine: Engine) -> Command:
        return Command(
            (
                engine.binary,
                "build",
                "--tag",
                self.reference,
                "--file",
                str(self.context / "Dockerfile"),
                str(self.context),
            ),
            timeout=1200,
        )

    def alias_command(self, engine: Engine, alias: str) -> Command:
        """Also name the image ``alias`` (the reference the real overlay deploys), so what
        Argo CD syncs from git finds it already on the nodes."""
        if alias.endswith(":latest") or ":" not in alias.rsplit("/", 1)[-1]:
            raise ValueError(f"refusing to alias {self.reference} as {alias!r}: not a pinned tag")
        return Command((engine.binary, "tag", self.reference, alias), timeout=60)

    def exists_command(self, engine: Engine) -> Command:
        # `image inspect` exits 1 for an unknown image; the caller accepts both codes.
        return Command(
            (engine.binary, "image", "inspect", self.reference),
            timeout=60,
            ok_codes=frozenset({0, 1}),
        )
