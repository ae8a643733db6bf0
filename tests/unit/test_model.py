from __future__ import annotations

import pytest

from gitops.model import ResourceKey, image_name, parse_image


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("ghcr.io/example-org/kpis-api:1.2.3", "ghcr.io/example-org/kpis-api"),
        ("registry:5000/web", "registry:5000/web"),  # a port is not a tag
        ("registry:5000/web:1.0@sha256:ab12", "registry:5000/web"),
        ("nginx", "nginx"),
    ],
)
def test_image_name_drops_tag_and_digest_only(image: str, name: str) -> None:
    assert image_name(image) == name


def test_resource_key_text() -> None:
    key = ResourceKey("apps/v1", "Deployment", "integration", "healthz")
    assert str(key) == "apps/v1/Deployment/integration/healthz"
    assert (key.group, key.short()) == ("apps", "Deployment/healthz")
    assert ResourceKey("v1", "Service", "", "web").group == ""


@pytest.mark.parametrize(
    ("image", "name", "tag", "digest"),
    [
        ("nginx", "nginx", None, None),
        ("nginx:1.27", "nginx", "1.27", None),
        ("registry:5000/team/web", "registry:5000/team/web", None, None),
        ("registry:5000/team/web:2", "registry:5000/team/web", "2", None),
        ("ghcr.io/a/web:1.2@sha256:ab", "ghcr.io/a/web", "1.2", "sha256:ab"),
        ("ghcr.io/a/web@sha256:ab", "ghcr.io/a/web", None, "sha256:ab"),
    ],
)
def test_parse_image_splits_like_kustomize(
    image: str, name: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_image(image)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert ref.name == image_name(image)
    assert str(ref) == image


def test_resource_key_of_reads_missing_and_mistyped_fields_as_empty() -> None:
    assert ResourceKey.of({"kind": "Pod", "metadata": "garbage"}) == ResourceKey("", "Pod", "", "")
    web = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo"},
    }
    assert str(ResourceKey.of(web)) == "apps/v1/Deployment/demo/web"
