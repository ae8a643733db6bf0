from __future__ import annotations

import pytest

from gitops.model import ResourceKey, image_name


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
