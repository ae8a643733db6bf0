"""The kind cluster: its config file, the kind commands, and create-or-reuse / delete.

>>> cluster = KindCluster(name="integration-e2e", kubeconfig=tmp / "kubeconfig", ...)
>>> cluster.create_command().argv
('kind', 'create', 'cluster', '--name', 'integration-e2e', '--config', ..., '--image', ...)

The node image is not in kind-config.yaml: it is pinned once, in tests/e2e/versions.yaml, and
given to `kind create cluster --image`, which sets it on every node of the config (kind's
create.go, fixupOptions).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops.runner import Command
from tests.e2e.harness.tools import Engine, Runner

E2E_DIR = Path(__file__).resolve().parent.parent
KIND_CONFIG = E2E_DIR / "kind-config.yaml"
DEFAULT_CLUSTER_NAME = "integration-e2e"


class KindConfigError(ValueError):
    """tests/e2e/kind-config.yaml is not what the suite relies on."""


@dataclass(frozen=True)
class KindConfig:
    roles: tuple[str, ...]

    @property
    def workers(self) -> int:
        return self.roles.count("worker")


def parse_kind_config(text: str) -> KindConfig:
    """Check the invariants the tests depend on: one control-plane, >= 2 workers (drain), and
    no node image of its own (every node runs the pinned one, given by ``--image``)."""
    raw: Any = yaml.safe_load(text)
    if not isinstance(raw, dict) or raw.get("kind") != "Cluster":
        raise KindConfigError("expected a kind `Cluster` document")
    nodes = raw.get("nodes") or []
    roles = tuple(str(n.get("role")) for n in nodes)
    images = sorted({str(n["image"]) for n in nodes if "image" in n})
    if roles.count("control-plane") != 1:
        raise KindConfigError(f"expected exactly one control-plane node, got roles {roles}")
    if roles.count("worker") < 2:
        raise KindConfigError(f"the drain test needs at least two workers, got roles {roles}")
    if images:
        raise KindConfigError(
            f"nodes must not name an image (got {images}): the node image is pinned in "
            "tests/e2e/versions.yaml and given to kind create cluster --image"
        )
    return KindConfig(roles)


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class KindCluster:
    """A named kind cluster whose kubeconfig lives in a file of its own (never ~/.kube/config)."""

    name: str
    kind: str  # binary
    kubectl: str  # binary
    engine: Engine
    kubeconfig: Path
    node_image: str  # tests/e2e/versions.yaml's nodeImage
    config_file: Path = KIND_CONFIG

    # kind talks to podman only when told to; docker is its default.
    def kind_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.engine.name == "podman":
            env["KIND_EXPERIMENTAL_PROVIDER"] = "podman"
        return env

    def kubectl_env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def get_clusters_command(self) -> Command:
        return Command((self.kind, "get", "clusters"), timeout=60, env=self.kind_env())

    def create_command(self) -> Command:
        return Command(
            (
                self.kind,
                "create",
                "cluster",
                "--name",
                self.name,
                "--config",
                str(self.config_file),
                "--image",
                self.node_image,
                "--kubeconfig",
                str(self.kubeconfig),
                "--wait",
                "180s",
            ),
            timeout=600,
            env=self.kind_env(),
        )

    def delete_command(self) -> Command:
        return Command(
            (
                self.kind,
                "delete",
                "cluster",
                "--name",
                self.name,
                "--kubeconfig",
                str(self.kubeconfig),
            ),
            timeout=300,
            env=self.kind_env(),
        )

    def export_kubeconfig_command(self) -> Command:
        """For a kept cluster: write its kubeconfig to our file (kind prints it on stdout)."""
        return Command(
            (self.kind, "get", "kubeconfig", "--name", self.name), timeout=60, env=self.kind_env()
        )

    def load_image_commands(
        self, image: str, archive_dir: Path, platform: str | None = None
    ) -> tuple[Command, ...]:
        """Save the image to an archive and ``kind load image-archive`` it, for docker and
        podman alike: kind cannot read podman's store, and with Docker's containerd image
        store ``kind load docker-image`` trips over index entries whose content is not
        there (other platforms, attestations). ``platform`` (``docker save --platform``,
        Docker 28+) keeps only the variant the nodes run, for multi-platform pulls."""
        archive = archive_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", image) + ".tar")
        only = ("--platform", platform) if platform else ()
        return (
            Command(
                (self.engine.binary, "save", *only, "--output", str(archive), image), timeout=600
            ),
            Command(
                (self.kind, "load", "image-archive", str(archive), "--name", self.name),
                timeout=600,
                env=self.kind_env(),
            ),
        )

    def kubectl_command(self, *args: str, timeout: float = 120, **kwargs: Any) -> Command:
        return Command((self.kubectl, *args), timeout=timeout, env=self.kubectl_env(), **kwargs)

    def exists(self, runner: Runner) -> bool:
        out = runner(self.get_clusters_command()).stdout
        return self.name in out.split()

    def up(self, runner: Runner, reuse: bool) -> bool:
        """Create the cluster, or with ``reuse`` keep one that exists. Returns True if created.

        Without ``reuse`` a leftover cluster of the same name (an interrupted run) is deleted
        first, so every run starts from the pinned node image and an empty cluster.
        """
        present = self.exists(runner)
        if present and reuse:
            self.kubeconfig.write_text(runner(self.export_kubeconfig_command()).stdout)
            return False
        if present:
            runner(self.delete_command())
        try:
            runner(self.create_command())
        except Exception:
            # A half-created cluster (kind failed after starting containers) would linger.
            self.down(runner)
            raise
        return True

    def down(self, runner: Runner) -> None:
        runner(self.delete_command())


@dataclass(frozen=True)
class ExistingCluster:
    """A cluster the suite does not own (GITOPS_E2E_BACKEND=kwok|existing): the same kubectl
    interface as :class:`KindCluster`, but it is never created, loaded into or deleted."""

    name: str  # the backend's name, for messages
    kubectl: str  # binary
    kubeconfig: Path

    def kubectl_env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl_command(self, *args: str, timeout: float = 120, **kwargs: Any) -> Command:
        return Command((self.kubectl, *args), timeout=timeout, env=self.kubectl_env(), **kwargs)

    def up(self, runner: Runner, reuse: bool) -> bool:
        del runner, reuse  # it is up, or the preflight has said so already
        return False

    def down(self, runner: Runner) -> None:
        del runner  # never delete a cluster the suite did not create

    def load_image_commands(
        self, image: str, archive_dir: Path, platform: str | None = None
    ) -> tuple[Command, ...]:
        raise RuntimeError(
            f"cannot load {image} into the {self.name} backend: its pods run no containers"
        )


@dataclass(frozen=True)
class NodeCluster(ExistingCluster):
    """The node tier's cluster (GITOPS_E2E_BACKEND=node): an existing cluster whose nodes are
    real, each with its own containerd. `make images` built the images and the tier imported
    them into every node; the suite only gives them the names the rendered manifests use
    (``ctr images tag``), so no manifest is rewritten and no node pulls."""

    nodes_file: Path = Path()

    def _nodes(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.nodes_file.read_text(encoding="utf-8"))
        return data

    def load_image_commands(
        self, image: str, archive_dir: Path, platform: str | None = None
    ) -> tuple[Command, ...]:
        raise RuntimeError(
            f"cannot load {image} into the {self.name} backend: `make images` builds its "
            "images and the tier imports them; the suite only names them (name_image_commands)"
        )

    def built_images(self) -> dict[str, str]:
        """short name (healthz, kpis-api, postgres, pause) -> the reference it was built as."""
        return {str(k): str(v) for k, v in self._nodes()["images"].items()}

    def name_image_commands(self, built: str, reference: str) -> tuple[Command, ...]:
        """Name the built image ``reference`` in every node's containerd (the CRI plugin's
        namespace ``k8s.io``)."""
        nodes = self._nodes()
        return tuple(
            Command(
                (
                    nodes["ctr"],
                    "--address",
                    socket,
                    "--namespace",
                    "k8s.io",
                    "images",
                    "tag",
                    "--force",
                    built,
                    reference,
                ),
                timeout=60,
            )
            for socket in nodes["nodes"].values()
        )
