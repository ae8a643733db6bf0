"""The e2e tier's pinned tools (kind, its node image, kubectl), written down once in
tests/e2e/versions.yaml and read from here by the harness, the preflight (and through it the
workflow), and checked against every quote in the READMEs.

    >>> pinned_versions().kubernetes_version
    '1.36.1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

E2E_DIR = Path(__file__).resolve().parent.parent
VERSIONS_FILE = E2E_DIR / "versions.yaml"
# kubectl is supported within one minor version of the API server (Kubernetes version skew
# policy); outside it, drain, rollout and apply can misbehave in ways no test names.
KUBECTL_SKEW_MINORS = 1
_VERSION = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)")
_RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
_NODE_IMAGE = re.compile(r"^kindest/node:v(?P<version>\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}$")
KEYS = ("kind", "nodeImage", "kubectl")


class VersionsError(ValueError):
    """tests/e2e/versions.yaml is not what the suite relies on."""


def parse_version(text: str) -> tuple[int, int, int]:
    """``v1.33.1`` (or ``1.33.1``, ``v1.33.1+k3s1``) -> (1, 33, 1); ValueError otherwise."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes version: {text!r}")
    return int(match["major"]), int(match["minor"]), int(match["patch"])


def within_skew(kubectl_version: str, cluster_version: str) -> bool:
    """Whether kubectl ``kubectl_version`` may drive a cluster at ``cluster_version``."""
    client, server = parse_version(kubectl_version), parse_version(cluster_version)
    return client[0] == server[0] and abs(client[1] - server[1]) <= KUBECTL_SKEW_MINORS


@dataclass(frozen=True)
class PinnedVersions:
    kind: str  # v0.32.0
    node_image: str  # kindest/node:v1.36.1@sha256:...
    kubectl: str  # v1.36.1

    @property
    def kubernetes_version(self) -> str:
        """``1.36.1``: the Kubernetes of the node image."""
        match = _NODE_IMAGE.match(self.node_image)
        assert match is not None  # checked in parse_versions
        return match["version"]

    def github_outputs(self) -> str:
        """``key=value`` lines for $GITHUB_OUTPUT."""
        return f"kind={self.kind}\nkubectl={self.kubectl}\nnode-image={self.node_image}\n"


def parse_versions(text: str) -> PinnedVersions:
    """The three pins, each in the one form the suite relies on: releases as ``vX.Y.Z``, the
    node image by version and digest, kubectl within the skew policy of the node image."""
    raw: Any = yaml.safe_load(text)
    if not isinstance(raw, dict) or set(raw) != set(KEYS):
        found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise VersionsError(f"{VERSIONS_FILE.name}: expected the keys {list(KEYS)}, got {found}")
    kind, node_image, kubectl = (str(raw[key]) for key in KEYS)
    for key, value in (("kind", kind), ("kubectl", kubectl)):
        if not _RELEASE.match(value):
            raise VersionsError(f"{VERSIONS_FILE.name}: {key}: expected vX.Y.Z, got {value!r}")
    if not _NODE_IMAGE.match(node_image):
        raise VersionsError(
            f"{VERSIONS_FILE.name}: nodeImage: expected kindest/node:vX.Y.Z@sha256:<digest>, "
            f"got {node_image!r}"
        )
    pins = PinnedVersions(kind, node_image, kubectl)
    if not within_skew(kubectl, pins.kubernetes_version):
        raise VersionsError(
            f"{VERSIONS_FILE.name}: kubectl {kubectl} is not within {KUBECTL_SKEW_MINORS} minor "
            f"of the node image's Kubernetes v{pins.kubernetes_version}"
        )
    return pins


def pinned_versions() -> PinnedVersions:
    return parse_versions(VERSIONS_FILE.read_text(encoding="utf-8"))
