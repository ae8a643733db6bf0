"""``gitops.k8s.images``: image references as the kubelet parses them (ParseNormalizedNamed of
github.com/distribution/reference v0.6.0)."""

from __future__ import annotations

import pytest

from gitops.k8s.images import reference_problem

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27",
        "library/nginx:1.27",
        "ghcr.io/example-org/web:v1.2.3",
        "registry.example.test:5000/team/web:1.0",
        "localhost:5000/web",
        "[::1]:5000/web:1",
        f"ghcr.io/example-org/web:1.0@{DIGEST}",
        f"web@{DIGEST}",
        "Registry.Example.test/team/web:1",  # a host may have upper case
        "MyRegistry/web:1",  # upper case makes the first element a host
        "web:Latest",  # so may a tag
        "team/web__x/a-b--c.d:1",  # __, repeated '-' and '.' separate path components
    ],
)
def test_references_the_kubelet_pulls(image: str) -> None:
    assert reference_problem(image) is None


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("registry.example.test/Team/web:1.0", "repository name (Team/web) must be lowercase"),
        ("Nginx", "repository name (library/Nginx) must be lowercase"),
        ("team/Web", "repository name (team/Web) must be lowercase"),
        ("web:-1", "not a valid image reference ([host[:port]/]path[:tag][@digest])"),
        ("team//web", "not a valid image reference ([host[:port]/]path[:tag][@digest])"),
        ("web@sha256:abc", "not a valid image reference ([host[:port]/]path[:tag][@digest])"),
        ("a" * 64, "a 64-character hexadecimal string is an image ID, not a repository name"),
        ("x/" + "a" * 255, "repository name must not be more than 255 characters"),
    ],
)
def test_references_the_kubelet_refuses(image: str, problem: str) -> None:
    assert reference_problem(image) == problem
