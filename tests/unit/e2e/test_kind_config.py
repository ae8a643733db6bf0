from __future__ import annotations

import pytest

from tests.e2e.harness.cluster import KIND_CONFIG, KindConfigError, parse_kind_config

PINNED = "kindest/node:v1.33.1@sha256:" + "a" * 64


def test_committed_kind_config_has_one_control_plane_two_workers_and_a_pinned_image() -> None:
    config = parse_kind_config(KIND_CONFIG.read_text())
    assert config.roles.count("control-plane") == 1
    assert config.workers == 2
    assert all("@sha256:" in image for image in config.images)
    assert config.kubernetes_version.startswith("1.36.")


def test_kind_config_matches_gitops_kubernetes_version() -> None:
    from gitops.config import load_config
    from tests.conftest import REPO_ROOT

    version = parse_kind_config(KIND_CONFIG.read_text()).kubernetes_version
    assert version.rsplit(".", 1)[0] == load_config(REPO_ROOT).kubernetes_version


def _config(*nodes: tuple[str, str]) -> str:
    body = "".join(f"  - role: {role}\n    image: {image}\n" for role, image in nodes)
    return f"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n{body}"


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((("control-plane", PINNED), ("worker", PINNED)), "at least two workers"),
        ((("worker", PINNED), ("worker", PINNED)), "exactly one control-plane"),
        (
            (("control-plane", "kindest/node:v1.33.1"), ("worker", PINNED), ("worker", PINNED)),
            "sha256",
        ),
        (
            (
                ("control-plane", PINNED),
                ("worker", PINNED),
                ("worker", PINNED.replace("1.33.1", "1.32.5")),
            ),
            "same image",
        ),
    ],
)
def test_kind_config_problems_are_rejected(
    nodes: tuple[tuple[str, str], ...], message: str
) -> None:
    with pytest.raises(KindConfigError, match=message):
        parse_kind_config(_config(*nodes))
