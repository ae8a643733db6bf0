"""Images built from apps/<name>/ (plus the shared apps/servicekit) and tagged by a hash of
their content, never ``:latest``.

The same sources always give the same tag (so a kept cluster skips nothing it needs and
reloads nothing it has), and any change to a file of the app gives a new one. Build and
packaging leftovers (``__pycache__``, ``*.pyc``, ``*.egg-info``) are not content.

    >>> image = LocalImage.for_app(repo / "apps" / "healthz")
    >>> image.reference
    'e2e.local/healthz:e2e-3b9c0e1f2a4d'
"""

from __future__ import annotations

import hashlib
import platform as host_platform
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops.k8s import pod_spec_of, spec_containers
from gitops.runner import Command
from tests.e2e.harness.tools import Engine

# A registry host that resolves nowhere: if `kind load` did not happen, the pod fails with
# ErrImagePull at once instead of pulling some unrelated image from Docker Hub.
LOCAL_REGISTRY = "e2e.local"
TAG_PREFIX = "e2e-"
HASH_CHARS = 12
# Packages under apps/ that every app image installs next to the app (see the Dockerfiles).
SHARED_PACKAGES = ("servicekit",)
IGNORED_DIR_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
# BuildKit (docker build since Docker 23) attaches provenance/SBOM attestations by default.
# With Docker's containerd image store (the default since Docker 29) they become extra
# manifests in the image index whose content `kind load` cannot find ("content digest ...
# not found"). The e2e images need none of it.
DOCKER_BUILD_NO_ATTESTATIONS = ("--provenance=false", "--sbom=false")
_MACHINE_TO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


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


def image_files(app_dir: Path) -> list[Path]:
    """What goes into an app's image, relative to apps/: the app's own files and the shared
    packages its Dockerfile copies (apps/servicekit)."""
    apps = app_dir.parent
    files = [Path(app_dir.name) / rel for rel in app_files(app_dir)]
    for shared in SHARED_PACKAGES:
        files.extend(Path(shared) / rel for rel in app_files(apps / shared))
    return files


@dataclass(frozen=True)
class NamedImage:
    """An image by repository and tag, as an ``images:`` entry of the e2e kustomization sets
    it (the node backend keeps the rendered names: the entry changes nothing in the overlays
    and gives the test-only load generator the overlay's tag)."""

    repository: str
    tag: str


@dataclass(frozen=True)
class LocalImage:
    app: str  # folder name under apps/ (or tests/e2e/images/), also the image's short name
    context: Path  # the build context: apps/ (the Dockerfile is apps/<app>/Dockerfile)
    tag: str

    @classmethod
    def for_app(cls, app_dir: Path) -> LocalImage:
        digest = content_hash(app_dir.parent, image_files(app_dir))
        return cls(app_dir.name, app_dir.parent, TAG_PREFIX + digest[:HASH_CHARS])

    @classmethod
    def for_test_image(cls, folder: Path) -> LocalImage:
        """A test-only image of ours (tests/e2e/images/<name>/Dockerfile, context its parent,
        as for the apps); tagged by the hash of its folder."""
        files = [Path(folder.name) / rel for rel in app_files(folder)]
        digest = content_hash(folder.parent, files)
        return cls(folder.name, folder.parent, TAG_PREFIX + digest[:HASH_CHARS])

    @property
    def dockerfile(self) -> Path:
        return self.context / self.app / "Dockerfile"

    @property
    def repository(self) -> str:
        return f"{LOCAL_REGISTRY}/{self.app}"

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"

    def build_command(self, engine: Engine) -> Command:
        no_attestations = DOCKER_BUILD_NO_ATTESTATIONS if engine.name == "docker" else ()
        return Command(
            (
                engine.binary,
                "build",
                *no_attestations,
                "--tag",
                self.reference,
                "--file",
                str(self.dockerfile),
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


def host_platform_name(machine: str | None = None) -> str:
    """``linux/amd64`` or ``linux/arm64``: what the kind nodes (containers on this host) run."""
    raw = (machine or host_platform.machine()).lower()
    if raw not in _MACHINE_TO_ARCH:
        raise ValueError(f"no linux image platform known for machine {raw!r}")
    return f"linux/{_MACHINE_TO_ARCH[raw]}"


def _containers(document: Any) -> Iterator[dict[str, Any]]:
    yield from spec_containers(pod_spec_of(document), ("initContainers", "containers"))


def built_by_the_suite(reference: str) -> bool:
    """An image of the test manifests that the suite builds itself (tests/e2e/images/<name>):
    named under LOCAL_REGISTRY, so a node that was not given it fails at once."""
    return reference.startswith(f"{LOCAL_REGISTRY}/")


def short_name(reference: str) -> str:
    """``e2e.local/postgres:15-bookworm`` -> ``postgres``."""
    return reference.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


def third_party_images(manifests_dir: Path, local_names: Iterable[str]) -> list[str]:
    """Every container image in the test-only manifests (tests/e2e/manifests/**) except the
    ones the harness builds itself (their names in ``local_names``), sorted and unique. These
    are pulled once into the engine and `kind load`-ed like the app images, so no node pulls
    from a registry during a run."""
    local = set(local_names)
    found: set[str] = set()
    for path in sorted(manifests_dir.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict):
                continue
            for container in _containers(document):
                image = str(container.get("image") or "")
                if image and image.split("@")[0].rsplit(":", 1)[0] not in local:
                    found.add(image)
    return sorted(found)


def unpinned(images: Iterable[str]) -> list[str]:
    """The images not pinned by tag and digest (``name:tag@sha256:<64 hex>``)."""
    bad = []
    for image in images:
        name, _, digest = image.partition("@")
        pinned_tag = ":" in name.rsplit("/", 1)[-1]
        if not (pinned_tag and digest.startswith("sha256:") and len(digest) == 7 + 64):
            bad.append(image)
    return bad


@dataclass(frozen=True)
class PulledImage:
    """A third-party image pinned by digest: pulled for the host's platform only."""

    reference: str
    platform: str

    def exists_command(self, engine: Engine) -> Command:
        return Command(
            (engine.binary, "image", "inspect", self.reference),
            timeout=60,
            ok_codes=frozenset({0, 1}),
        )

    def pull_command(self, engine: Engine) -> Command:
        return Command(
            (engine.binary, "pull", "--platform", self.platform, self.reference), timeout=600
        )
