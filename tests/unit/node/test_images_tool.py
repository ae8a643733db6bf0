"""tools/node/images.py without building: the lock file's format and errors, and what an
image's cache key covers (a changed context file, Dockerfile or base gives a new image)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def images() -> ModuleType:
    path = REPO_ROOT / "tools" / "node" / "images.py"
    spec = importlib.util.spec_from_file_location("node_images", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["node_images"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_lock_pins_every_base_package_by_hash(images: ModuleType) -> None:
    lock = images.parse_lock(images.LOCK_FILE.read_text())
    assert set(images.BASE_PACKAGES) <= set(lock.packages)
    assert {"python3.11", "python3.11-venv", "passwd", "dpkg", "apt"} <= set(lock.packages)
    assert all(len(deb.sha256) == 64 and deb.url.startswith("http") for deb in lock.debs)
    assert lock.source_date_epoch > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# source-date-epoch: 1\n'http://x/a.deb' a.deb 12\n", "expected 'URL' filename"),
        ("'http://x/a.deb' a.deb 12 SHA256:" + "0" * 64 + "\n", "no `# source-date-epoch:`"),
    ],
)
def test_a_bad_lock_is_one_line_naming_the_line(
    images: ModuleType, text: str, message: str
) -> None:
    with pytest.raises(images.ImageError, match=message):
        images.parse_lock(text, "lock")


def test_the_image_hash_covers_context_dockerfile_and_base(
    images: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    (tmp_path / "app" / "__pycache__").mkdir()
    image = images.DockerfileImage("app", tmp_path, tmp_path / "app" / "Dockerfile", "BASE")
    first = images.image_hash(image, "sha256:base1")
    (tmp_path / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"junk")
    assert images.image_hash(image, "sha256:base1") == first  # build leftovers are not content
    assert images.image_hash(image, "sha256:base2") != first
    (tmp_path / "app" / "main.py").write_text("print(2)\n")
    assert images.image_hash(image, "sha256:base1") != first
