#!/usr/bin/env python3
"""Build the node tier's container images without a registry (`make images`).

No registry answers from CI, so every image a real node runs is built here, by buildah, from
our own Dockerfiles, on a Debian base we make with mmdebstrap:

* the base: Debian bookworm with its Python 3.11 (python3, python3-venv, python-is-python3,
  ca-certificates, netbase, tzdata). It is pinned file by file: ``bookworm-python.lock`` lists
  every .deb of it (URL, size, SHA256), and mmdebstrap installs exactly those from a local
  repository made of the downloaded files, so apt can choose nothing else;
* healthz and kpis-api from apps/<app>/Dockerfile with ``--build-arg PYTHON_IMAGE=<base>`` (the
  Dockerfiles' default stays the pinned upstream python image, which real builds use);
* the test PostgreSQL from tests/e2e/images/postgres/Dockerfile on the same base;
* the pod sandbox image: our pause binary (tools/cluster/pause, `make node-tools`) alone.

Everything lives outside the repository, under ``${XDG_CACHE_HOME:-~/.cache}/integration-gitops/
images/``: the .deb files, the base tarball, buildah's storage and one OCI archive per image,
named by a hash of what went into it (Dockerfile, context files, build arguments, base image),
so an unchanged image is reused, not rebuilt. ``--json`` prints ``{"<name>": {"reference": ...,
"archive": ...}}``; the node backend imports the archives into each node's containerd and names
them as the rendered manifests do.

    python3 tools/node/images.py            build what is missing, print progress
    python3 tools/node/images.py --json     the same, then print the archives
    python3 tools/node/images.py lock       re-resolve the base's packages into the lock file

Exit codes: 0 built or reused; 1 a step failed (one line: what and the log to read); 2 a tool
is missing (buildah, mmdebstrap, the node tools). Standard library only, like build.py.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LOCK_FILE = HERE / "bookworm-python.lock"
SUITE = "bookworm"
# What the base adds to mmdebstrap's minbase: the interpreter the Dockerfiles run (`python -m
# venv`, so python-is-python3 and python3-venv) and what python:*-slim ships besides it.
BASE_PACKAGES: tuple[str, ...] = (
    "python3",
    "python3-venv",
    "python-is-python3",
    "ca-certificates",
    "netbase",
    "tzdata",
)
# The sources the image keeps for its own `apt-get` (kpis-api's curl, PostgreSQL), like
# Debian's official images; the build itself only reads the locked files.
DEBIAN_SOURCES = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
PREFIX = "localhost/integration-gitops"
BASE_NAME = f"{PREFIX}/debian-python"
# The host's CA bundle, read-only into every RUN step (never into the image): HTTPS egress
# here is TLS-intercepted and pip inside the build trusts only the system bundle.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
HASH_CHARS = 12


class ImageError(Exception):
    """A step failed: the message is the one line to print."""


class MissingTool(ImageError):
    """A tool the build needs is not installed (exit 2)."""


@dataclass(frozen=True)
class LockedDeb:
    url: str
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Lock:
    debs: tuple[LockedDeb, ...]
    source_date_epoch: int
    digest: str  # of the lock's entries: names the base tarball and image

    @property
    def packages(self) -> list[str]:
        return sorted({deb.filename.split("_", 1)[0] for deb in self.debs})


@dataclass(frozen=True)
class DockerfileImage:
    name: str  # short name: healthz, kpis-api, postgres
    context: Path
    dockerfile: Path
    base_arg: str  # the Dockerfile's ARG naming its base image


def images() -> tuple[DockerfileImage, ...]:
    apps = REPO / "apps"
    tests = REPO / "tests" / "e2e" / "images"
    return (
        DockerfileImage("healthz", apps, apps / "healthz" / "Dockerfile", "PYTHON_IMAGE"),
        DockerfileImage("kpis-api", apps, apps / "kpis-api" / "Dockerfile", "PYTHON_IMAGE"),
        DockerfileImage("postgres", tests, tests / "postgres" / "Dockerfile", "BASE_IMAGE"),
    )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integration-gitops" / "images"


def parse_lock(text: str, source: str = str(LOCK_FILE)) -> Lock:
    """The lock file: ``# source-date-epoch: N`` and one ``'URL' filename size SHA256:hex`` per
    .deb (what `apt-get download --print-uris` prints)."""
    debs: list[LockedDeb] = []
    epoch: int | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("# source-date-epoch:"):
            epoch = int(line.split(":", 1)[1])
            continue
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if len(words) != 4 or not words[3].startswith("SHA256:"):
            raise ImageError(f"{source}:{number}: expected 'URL' filename size SHA256:<hex>")
        debs.append(LockedDeb(words[0].strip("'"), words[1], int(words[2]), words[3][7:]))
    if not debs or epoch is None:
        raise ImageError(f"{source}: no .deb entries or no `# source-date-epoch:` line")
    digest = hashlib.sha256("\n".join(f"{d.filename} {d.sha256}" for d in debs).encode())
    return Lock(tuple(debs), epoch, digest.hexdigest())


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(command: Sequence[str], log: Path, what: str, **kwargs: object) -> str:
    """Run a build step, its output appended to ``log``; ImageError with the last line."""
    with log.open("a") as sink:
        sink.write(f"$ {' '.join(command)}\n")
        sink.flush()
        done = subprocess.run(
            list(command), stdout=subprocess.PIPE, stderr=sink, text=True, check=False, **kwargs
        )  # type: ignore[call-overload]
        sink.write(done.stdout)
    if done.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or ["?"]
        raise ImageError(f"{what} failed (exit {done.returncode}): {tail[0]} (log: {log})")
    return str(done.stdout)


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise MissingTool(
            f"images: {tool} is missing: run `make node-deps` (as root) or `apt-get install {tool}`"
        )
    return found


def _load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cluster_build", REPO / "tools" / "cluster" / "build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cluster_build", module)
    spec.loader.exec_module(module)
    return module


def node_binary(name: str) -> Path:
    """A binary of `make node-tools` (runc runs buildah's RUN steps; pause is an image)."""
    build = _load_build_module()
    path = build.binary_paths("node").get(name)
    if path is None or not os.access(path, os.X_OK):
        raise MissingTool(f"images: {name} not built yet: run `make node-tools`")
    return Path(path)


@dataclass(frozen=True)
class Buildah:
    root: Path
    runtime: Path
    log: Path

    def argv(self, *args: str) -> list[str]:
        return [
            _need("buildah"),
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.root / "run"),
            "--storage-driver",
            "overlay",
            *args,
        ]

    def run(self, *args: str, what: str) -> str:
        return _run(self.argv(*args), self.log, what).strip()

    def image_id(self, reference: str) -> str | None:
        done = subprocess.run(
            self.argv("inspect", "--type", "image", "--format", "{{.FromImageID}}", reference),
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None if done.returncode == 0 else None


def ensure_debs(lock: Lock, cache: Path) -> Path:
    """Download the locked .deb files (checked against size and SHA256) and make a local apt
    repository of exactly them; returns its folder."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    fetched = 0
    for deb in lock.debs:
        target = debs / deb.filename
        if target.is_file() and _sha256(target) == deb.sha256:
            continue
        partial = target.with_suffix(".partial")
        try:
            with urllib.request.urlopen(deb.url, timeout=60) as answer, partial.open("wb") as out:
                shutil.copyfileobj(answer, out)
        except OSError as error:
            raise ImageError(
                f"images: cannot download {deb.url} ({error}); if Debian no longer serves it, "
                f"re-pin the base: python3 tools/node/images.py lock"
            ) from error
        if partial.stat().st_size != deb.size or _sha256(partial) != deb.sha256:
            partial.unlink()
            raise ImageError(f"images: {deb.url} does not match the size/SHA256 of {LOCK_FILE}")
        partial.rename(target)
        fetched += 1
    repo = cache / f"repo-{lock.digest[:HASH_CHARS]}"
    if not (repo / "Packages").is_file():
        repo.mkdir(exist_ok=True)
        for deb in lock.debs:
            link = repo / deb.filename
            if not link.exists():
                os.link(debs / deb.filename, link)
        index = _run(
            [_need("dpkg-scanpackages"), "--multiversion", "."],
            cache / "build.log",
            "indexing the locked .deb files",
            cwd=repo,
        )
        (repo / "Packages").write_text(index)
    _progress(f"images: {len(lock.debs)} locked .deb files ready ({fetched} downloaded)")
    return repo


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_tarball(lock: Lock, cache: Path) -> Path:
    """mmdebstrap of exactly the locked packages (variant custom: nothing else is installed),
    reproducible (SOURCE_DATE_EPOCH from the lock), with Debian's own apt sources inside."""
    tarball = cache / f"base-{lock.digest[:HASH_CHARS]}.tar"
    if tarball.is_file():
        return tarball
    repo = ensure_debs(lock, cache)
    sources = "\\n".join(DEBIAN_SOURCES)
    partial = tarball.with_suffix(".partial.tar")
    started = time.monotonic()
    _progress(f"images: mmdebstrap {SUITE} ({len(lock.packages)} packages) -> {tarball} ...")
    _run(
        [
            _need("mmdebstrap"),
            "--variant=custom",
            f"--include={','.join(lock.packages)}",
            "--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount",
            f"--customize-hook=printf '{sources}\\n' > \"$1/etc/apt/sources.list\"",
            SUITE,
            str(partial),
            f"deb [trusted=yes] file://{repo} ./",
        ],
        cache / "build.log",
        "mmdebstrap",
        env={**os.environ, "SOURCE_DATE_EPOCH": str(lock.source_date_epoch)},
    )
    partial.rename(tarball)
    _progress(f"images: base tarball in {time.monotonic() - started:.0f}s")
    return tarball


def base_image(buildah: Buildah, lock: Lock, cache: Path) -> str:
    reference = f"{BASE_NAME}:{SUITE}-{lock.digest[:HASH_CHARS]}"
    if buildah.image_id(reference) is not None:
        return reference
    tarball = base_tarball(lock, cache)
    started = time.monotonic()
    container = buildah.run("from", "scratch", what="buildah from scratch")
    try:
        buildah.run("add", container, str(tarball), "/", what="adding the base tarball")
        buildah.run(
            "config",
            "--env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--env",
            "LANG=C.UTF-8",
            "--cmd",
            '["python3"]',
            container,
            what="configuring the base image",
        )
        buildah.run("commit", "--rm", container, reference, what="committing the base image")
    except ImageError:
        subprocess.run(buildah.argv("rm", container), capture_output=True, check=False)
        raise
    _progress(f"images: base image {reference} in {time.monotonic() - started:.0f}s")
    return reference


def context_files(image: DockerfileImage) -> list[Path]:
    """What the Dockerfile can COPY: the whole context (build leftovers excluded)."""
    found = []
    for path in sorted(image.context.rglob("*")):
        rel = path.relative_to(image.context)
        if not path.is_file() or rel.name.endswith((".pyc", ".pyo")):
            continue
        if any(p in IGNORED_PARTS or p.endswith(".egg-info") for p in rel.parts):
            continue
        found.append(rel)
    return found


def image_hash(image: DockerfileImage, base_id: str, extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256()
    for item in (base_id, image.base_arg, *extra):
        digest.update(item.encode() + b"\0")
    digest.update(image.dockerfile.read_bytes())
    for rel in context_files(image):
        data = (image.context / rel).read_bytes()
        digest.update(rel.as_posix().encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()[:HASH_CHARS]


def dockerfile_image(buildah: Buildah, image: DockerfileImage, base: str) -> str:
    base_id = buildah.image_id(base) or base
    reference = f"{PREFIX}/{image.name}:{image_hash(image, base_id)}"
    if buildah.image_id(reference) is not None:
        _progress(f"images: {image.name}: reusing {reference}")
        return reference
    started = time.monotonic()
    _progress(f"images: building {image.name} from {image.dockerfile.relative_to(REPO)} ...")
    mounts = (
        ("--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro") if HOST_CA_BUNDLE.is_file() else ()
    )
    buildah.run(
        "bud",
        "--pull=never",
        "--layers=false",
        "--network=host",
        f"--runtime={buildah.runtime}",
        *mounts,
        "--build-arg",
        f"{image.base_arg}={base}",
        "--file",
        str(image.dockerfile),
        "--tag",
        reference,
        str(image.context),
        what=f"building {image.name}",
    )
    _progress(f"images: built {reference} in {time.monotonic() - started:.0f}s")
    return reference


def pause_image(buildah: Buildah) -> str:
    pause = node_binary("pause")
    reference = f"{PREFIX}/pause:{_sha256(pause)[:HASH_CHARS]}"
    if buildah.image_id(reference) is not None:
        return reference
    container = buildah.run("from", "scratch", what="buildah from scratch")
    try:
        buildah.run("copy", container, str(pause), "/pause", what="adding pause")
        # 65535: the unprivileged uid upstream's pause image runs as.
        buildah.run(
            "config",
            "--entrypoint",
            '["/pause"]',
            "--user",
            "65535:65535",
            container,
            what="configuring pause",
        )
        buildah.run("commit", "--rm", container, reference, what="committing pause")
    except ImageError:
        subprocess.run(buildah.argv("rm", container), capture_output=True, check=False)
        raise
    return reference


def export(buildah: Buildah, reference: str, cache: Path) -> Path:
    """The image as an OCI archive whose ref.name is ``reference`` (what `ctr images import`
    names it)."""
    name, tag = reference.rsplit("/", 1)[-1].split(":")
    archive = cache / "archives" / f"{name}-{tag}.oci.tar"
    if not archive.is_file():
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        buildah.run(
            "push", reference, f"oci-archive:{partial}:{reference}", what=f"exporting {reference}"
        )
        partial.rename(archive)
    return archive


# What buildah (containers/image, libcni) creates outside its --root whatever it is told: the
# blob-info cache and libcni's lock file (even with --network=host). Removed after a build
# when they did not exist before it.
HOST_LEFTOVERS = (Path("/var/lib/containers"), Path("/etc/cni"))


def build_all(cache: Path) -> dict[str, dict[str, str]]:
    lock = parse_lock(LOCK_FILE.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    buildah = Buildah(cache / "buildah", node_binary("runc"), cache / "build.log")
    _need("buildah")
    started = time.monotonic()
    absent = [path for path in HOST_LEFTOVERS if not path.exists()]
    try:
        base = base_image(buildah, lock, cache)
        built = {"pause": pause_image(buildah)}
        for image in images():
            built[image.name] = dockerfile_image(buildah, image, base)
        index = {
            name: {"reference": reference, "archive": str(export(buildah, reference, cache))}
            for name, reference in built.items()
        }
    finally:
        for path in absent:
            shutil.rmtree(path, ignore_errors=True)
    (cache / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    _progress(f"images: {len(index)} images ready in {time.monotonic() - started:.0f}s")
    return index


def write_lock(cache: Path) -> Path:
    """Resolve minbase + BASE_PACKAGES against Debian today and write every .deb's URL, size
    and SHA256 to the lock file (apt's own `download --print-uris`, inside mmdebstrap)."""
    cache.mkdir(parents=True, exist_ok=True)
    uris = cache / "lock-uris.txt"
    hook = (
        'APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download --print-uris '
        '$(chroot "$1" dpkg-query --show --showformat '
        f'"\\${{Package}}:\\${{Architecture}}=\\${{Version}} ") > {uris}'
    )
    _run(
        [
            _need("mmdebstrap"),
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            f"--customize-hook={hook}",
            SUITE,
            "/dev/null",
            *DEBIAN_SOURCES,
        ],
        cache / "build.log",
        "mmdebstrap (resolving the base's packages)",
    )
    now = datetime.datetime.now(datetime.UTC)
    header = [
        f"# The Debian {SUITE} base of the node tier's images (tools/node/images.py), file by",
        "# file: mmdebstrap --variant=minbase plus " + ", ".join(BASE_PACKAGES) + ",",
        f"# resolved on {now:%Y-%m-%d}. Rewrite with `python3 tools/node/images.py lock`.",
        f"# source-date-epoch: {int(now.timestamp())}",
    ]
    lines = sorted(line for line in uris.read_text().splitlines() if line.strip())
    LOCK_FILE.write_text("\n".join(header + lines) + "\n")
    parse_lock(LOCK_FILE.read_text())  # what we wrote must read back
    return LOCK_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", nargs="?", choices=["build", "lock"], default="build")
    parser.add_argument("--json", action="store_true", help="print the image archives as JSON")
    args = parser.parse_args(argv)
    try:
        if args.action == "lock":
            _progress(f"images: wrote {write_lock(cache_dir())}")
            return 0
        index = build_all(cache_dir())
    except ImageError as error:
        print(error, file=sys.stderr)
        return 2 if isinstance(error, MissingTool) else 1
    if args.json:
        print(json.dumps(index, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
