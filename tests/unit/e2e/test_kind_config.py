from __future__ import annotations

import pytest

from tests.e2e.harness.cluster import KIND_CONFIG, KindConfigError, parse_kind_config

PINNED = "kindest/node:v1.33.1@sha256:" + "a" * 64


def test_committed_kind_config_has_one_control_plane_two_workers_and_no_image() -> None:
    config = parse_kind_config(KIND_CONFIG.read_text())
    assert config.roles.count("control-plane") == 1
    assert config.workers == 2


def _config(*nodes: tuple[str, str | None]) -> str:
    body = "".join(
        f"  - role: {role}\n" + (f"    image: {image}\n" if image else "") for role, image in nodes
    )
    return f"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n{body}"


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((("control-plane", None), ("worker", None)), "at least two workers"),
        ((("worker", None), ("worker", None)), "exactly one control-plane"),
        (
            (("control-plane", PINNED), ("worker", None), ("worker", None)),
            "the node image is pinned in tests/e2e/versions.yaml",
        ),
    ],
)
def test_kind_config_problems_are_rejected(
    nodes: tuple[tuple[str, str | None], ...], message: str
) -> None:
    with pytest.raises(KindConfigError, match=message):
        parse_kind_config(_config(*nodes))
