from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness.images import (
    LocalImage,
    PulledImage,
    app_files,
    built_by_the_suite,
    content_hash,
    host_platform_name,
    short_name,
    third_party_images,
    unpinned,
)
from tests.e2e.harness.tools import Engine


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "healthz"
    (root / "healthz").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "healthz" / "server.py").write_text("print('hi')\n")
    (tmp_path / "servicekit" / "servicekit").mkdir(parents=True)
    (tmp_path / "servicekit" / "servicekit" / "serving.py").write_text("# shared\n")
    return root


def test_tag_changes_when_the_shared_package_changes(app: Path) -> None:
    """The image installs apps/servicekit too: a change there is a new image."""
    before = LocalImage.for_app(app).tag
    (app.parent / "servicekit" / "servicekit" / "serving.py").write_text("# changed\n")
    assert LocalImage.for_app(app).tag != before


def test_tag_is_stable_for_unchanged_content(app: Path) -> None:
    assert LocalImage.for_app(app).tag == LocalImage.for_app(app).tag
    assert LocalImage.for_app(app).tag.startswith("e2e-")


def test_tag_changes_when_a_file_changes(app: Path) -> None:
    before = LocalImage.for_app(app).tag
    (app / "healthz" / "server.py").write_text("print('changed')\n")
    assert LocalImage.for_app(app).tag != before


def test_tag_changes_when_a_file_is_renamed(app: Path) -> None:
    before = content_hash(app)
    (app / "healthz" / "server.py").rename(app / "healthz" / "app.py")
    assert content_hash(app) != before


def test_pycache_pyc_and_egg_info_are_not_content(app: Path) -> None:
    before = content_hash(app)
    (app / "healthz" / "__pycache__").mkdir()
    (app / "healthz" / "__pycache__" / "server.cpython-312.pyc").write_bytes(b"\0junk")
    (app / "healthz" / "stray.pyc").write_bytes(b"\0junk")
    (app / "healthz.egg-info").mkdir()
    (app / "healthz.egg-info" / "PKG-INFO").write_text("Name: healthz\n")
    assert content_hash(app) == before
    assert [p.as_posix() for p in app_files(app)] == ["Dockerfile", "healthz/server.py"]


def test_reference_is_never_latest(app: Path) -> None:
    image = LocalImage.for_app(app)
    assert image.reference == f"e2e.local/healthz:{image.tag}"
    assert not image.reference.endswith(":latest")


def test_real_apps_hash_without_error() -> None:
    from tests.conftest import REPO_ROOT

    tags = {LocalImage.for_app(REPO_ROOT / "apps" / a).tag for a in ("healthz", "kpis-api")}
    assert len(tags) == 2


def test_docker_build_argv(app: Path) -> None:
    image = LocalImage.for_app(app)
    command = image.build_command(Engine("docker", "/usr/bin/docker"))
    assert command.argv == (
        "/usr/bin/docker",
        "build",
        "--provenance=false",  # no attestation manifests for `kind load` to trip over
        "--sbom=false",
        "--tag",
        image.reference,
        "--file",
        str(app / "Dockerfile"),
        str(app.parent),  # apps/: the Dockerfile copies apps/servicekit too
    )
    assert command.timeout > 0


def test_alias_refuses_latest_and_untagged(app: Path) -> None:
    image = LocalImage.for_app(app)
    engine = Engine("docker", "docker")
    assert image.alias_command(engine, "ghcr.io/example-org/healthz:1.1.0-rc.1").argv == (
        "docker",
        "tag",
        image.reference,
        "ghcr.io/example-org/healthz:1.1.0-rc.1",
    )
    for bad in ("ghcr.io/example-org/healthz:latest", "ghcr.io/example-org/healthz"):
        with pytest.raises(ValueError, match="not a pinned tag"):
            image.alias_command(engine, bad)


def test_podman_build_has_no_buildkit_attestation_flags(app: Path) -> None:
    command = LocalImage.for_app(app).build_command(Engine("podman", "podman"))
    assert not any(arg.startswith(("--provenance", "--sbom")) for arg in command.argv)


def test_every_image_of_the_e2e_manifests_is_ours_or_pinned_by_digest() -> None:
    from tests.e2e.harness.deploy import MANIFESTS_DIR

    # the load generator runs healthz's own image (built here), named as the overlay names it
    images = third_party_images(MANIFESTS_DIR, ["ghcr.io/example-org/healthz"])
    ours = [image for image in images if built_by_the_suite(image)]
    pulled = [image for image in images if not built_by_the_suite(image)]
    # PostgreSQL is ours (tests/e2e/images/postgres), built by every backend under that name.
    assert ours == ["e2e.local/postgres:15-bookworm"]
    assert [short_name(image) for image in ours] == ["postgres"]
    assert {image.split("@")[0] for image in pulled} == {"docker.io/alpine/git:v2.47.2"}
    assert unpinned(pulled) == []


def test_a_test_image_is_built_from_its_folder_with_the_parent_as_context() -> None:
    from tests.conftest import REPO_ROOT

    folder = REPO_ROOT / "tests" / "e2e" / "images" / "postgres"
    image = LocalImage.for_test_image(folder)
    assert image.dockerfile == folder / "Dockerfile" and image.context == folder.parent
    copies = [
        line.split()[1]
        for line in image.dockerfile.read_text(encoding="utf-8").splitlines()
        if line.startswith("COPY ")
    ]
    assert copies and all((folder.parent / source).is_file() for source in copies)
    assert image.reference.startswith("e2e.local/postgres:e2e-")


def test_unpinned_and_third_party_detection(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    assert unpinned([f"postgres:16@{digest}"]) == []
    assert unpinned(["postgres:16", f"postgres@{digest}", "postgres:16@sha256:abc"]) == [
        "postgres:16",
        f"postgres@{digest}",
        "postgres:16@sha256:abc",
    ]
    (tmp_path / "d.yaml").write_text(
        "kind: Deployment\nspec:\n  template:\n    spec:\n"
        "      initContainers: [{name: i, image: busybox:1}]\n"
        "      containers: [{name: a, image: ghcr.io/x/app}, {name: b, image: busybox:1}]\n"
    )
    assert third_party_images(tmp_path, ["ghcr.io/x/app"]) == ["busybox:1"]


def test_pulls_are_for_the_host_platform_only() -> None:
    assert host_platform_name("x86_64") == "linux/amd64"
    assert host_platform_name("aarch64") == "linux/arm64"
    with pytest.raises(ValueError, match="s390x"):
        host_platform_name("s390x")
    pull = PulledImage("alpine/git:v2.47.2@sha256:" + "0" * 64, "linux/arm64")
    assert pull.pull_command(Engine("docker", "docker")).argv == (
        "docker",
        "pull",
        "--platform",
        "linux/arm64",
        "alpine/git:v2.47.2@sha256:" + "0" * 64,
    )


def test_every_dockerfile_copy_source_exists_in_the_apps_context() -> None:
    """The images are built with apps/ as the context: every COPY source of every app's
    Dockerfile (but stage copies) must name a path under apps/, and the shared package is
    among them, or `docker build` fails where Docker exists and nowhere here."""
    from tests.conftest import REPO_ROOT

    apps = REPO_ROOT / "apps"
    dockerfiles = sorted(apps.glob("*/Dockerfile"))
    assert [d.parent.name for d in dockerfiles] == ["healthz", "kpis-api"]
    for dockerfile in dockerfiles:
        copies = [
            line.split()[1:-1]
            for line in dockerfile.read_text(encoding="utf-8").splitlines()
            if line.startswith("COPY ") and "--from=" not in line
        ]
        sources = [source for sources in copies for source in sources]
        assert "servicekit" in sources, dockerfile
        missing = [s for s in sources if not (apps / s).exists()]
        assert missing == [], f"{dockerfile}: COPY sources not under apps/: {missing}"
        image = LocalImage.for_app(dockerfile.parent)
        assert image.context == apps and image.dockerfile == dockerfile
