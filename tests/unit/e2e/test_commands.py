"""Command construction: argv lists, timeouts, the kubeconfig kept out of ~/.kube/config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import CommandError
from gitops.runner import Command, CommandResult
from tests.e2e.harness.cluster import KIND_CONFIG, KindCluster, NodeCluster
from tests.e2e.harness.deploy import apply_command
from tests.e2e.harness.portforward import parse_local_port, port_forward_argv
from tests.e2e.harness.tools import Engine

NODE_IMAGE = "kindest/node:v1.36.1@sha256:" + "b" * 64


def _cluster(tmp_path: Path, engine: str = "docker") -> KindCluster:
    return KindCluster(
        name="integration-e2e",
        kind="kind",
        kubectl="kubectl",
        engine=Engine(engine, engine),
        kubeconfig=tmp_path / "kubeconfig",
        node_image=NODE_IMAGE,
    )


def test_kind_create_uses_the_committed_config_the_pinned_image_and_a_private_kubeconfig(
    tmp_path: Path,
) -> None:
    command = _cluster(tmp_path).create_command()
    assert command.argv == (
        "kind",
        "create",
        "cluster",
        "--name",
        "integration-e2e",
        "--config",
        str(KIND_CONFIG),
        "--image",
        NODE_IMAGE,
        "--kubeconfig",
        str(tmp_path / "kubeconfig"),
        "--wait",
        "180s",
    )
    assert command.timeout >= 300


def test_kind_delete_argv(tmp_path: Path) -> None:
    assert _cluster(tmp_path).delete_command().argv == (
        "kind",
        "delete",
        "cluster",
        "--name",
        "integration-e2e",
        "--kubeconfig",
        str(tmp_path / "kubeconfig"),
    )


def test_kind_load_with_docker_goes_through_an_archive_of_one_platform(tmp_path: Path) -> None:
    # Docker 29's containerd store: `kind load docker-image` can hit index entries without
    # content; an archive of the node's platform only cannot.
    save, load = _cluster(tmp_path).load_image_commands(
        "docker.io/library/postgres:16.4-bookworm@sha256:" + "e" * 64, tmp_path, "linux/amd64"
    )
    archive = save.argv[-2]
    assert save.argv[:5] == ("docker", "save", "--platform", "linux/amd64", "--output")
    assert save.argv[-1].endswith("@sha256:" + "e" * 64)
    assert load.argv == ("kind", "load", "image-archive", archive, "--name", "integration-e2e")
    (plain_save, _load) = _cluster(tmp_path).load_image_commands(
        "e2e.local/healthz:e2e-1", tmp_path
    )
    assert "--platform" not in plain_save.argv


def test_kind_load_with_podman_goes_through_an_archive(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path, engine="podman")
    save, load = cluster.load_image_commands("e2e.local/healthz:e2e-1", tmp_path)
    archive = str(tmp_path / "e2e.local_healthz_e2e-1.tar")
    assert save.argv == ("podman", "save", "--output", archive, "e2e.local/healthz:e2e-1")
    assert load.argv == ("kind", "load", "image-archive", archive, "--name", "integration-e2e")
    assert load.env is not None and load.env["KIND_EXPERIMENTAL_PROVIDER"] == "podman"


def test_kubectl_commands_carry_the_cluster_kubeconfig(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path)
    command = cluster.kubectl_command("get", "nodes", timeout=30)
    assert command.argv == ("kubectl", "get", "nodes")
    assert command.env is not None and command.env["KUBECONFIG"] == str(tmp_path / "kubeconfig")
    assert command.timeout == 30


def test_apply_is_server_side_with_our_field_manager(tmp_path: Path) -> None:
    command = apply_command("kubectl", tmp_path / "stack.yaml", {})
    assert command.argv == (
        "kubectl",
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=integration-e2e",
        "--filename",
        str(tmp_path / "stack.yaml"),
    )


class FakeRunner:
    def __init__(self, clusters: str = "", fail_create: bool = False) -> None:
        self.clusters = clusters
        self.fail_create = fail_create
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, command: Command) -> CommandResult:
        self.calls.append(command.argv)
        if command.argv[1:3] == ("get", "clusters"):
            return CommandResult(command, 0, self.clusters, "")
        if command.argv[1:3] == ("get", "kubeconfig"):
            return CommandResult(command, 0, "apiVersion: v1\n", "")
        if command.argv[1:3] == ("create", "cluster") and self.fail_create:
            raise CommandError("kind create cluster exited 1: boom")
        return CommandResult(command, 0, "", "")


def _verbs(runner: FakeRunner) -> list[str]:
    return [" ".join(argv[1:3]) for argv in runner.calls]


def test_up_creates_when_absent(tmp_path: Path) -> None:
    runner = FakeRunner(clusters="other\n")
    assert _cluster(tmp_path).up(runner, reuse=False) is True
    assert _verbs(runner) == ["get clusters", "create cluster"]


def test_up_with_reuse_keeps_an_existing_cluster_and_exports_its_kubeconfig(tmp_path: Path) -> None:
    runner = FakeRunner(clusters="integration-e2e\n")
    assert _cluster(tmp_path).up(runner, reuse=True) is False
    assert _verbs(runner) == ["get clusters", "get kubeconfig"]
    assert (tmp_path / "kubeconfig").read_text() == "apiVersion: v1\n"


def test_up_without_reuse_replaces_a_leftover_cluster(tmp_path: Path) -> None:
    runner = FakeRunner(clusters="integration-e2e\n")
    _cluster(tmp_path).up(runner, reuse=False)
    assert _verbs(runner) == ["get clusters", "delete cluster", "create cluster"]


def test_failed_create_deletes_the_half_created_cluster(tmp_path: Path) -> None:
    runner = FakeRunner(fail_create=True)
    try:
        _cluster(tmp_path).up(runner, reuse=False)
    except CommandError:
        pass
    else:
        raise AssertionError("create failure must propagate")
    assert _verbs(runner) == ["get clusters", "create cluster", "delete cluster"]


def test_port_forward_argv_lets_kubectl_pick_the_local_port() -> None:
    assert port_forward_argv("kubectl", "integration", "service/healthz", 8080) == (
        "kubectl",
        "port-forward",
        "--namespace",
        "integration",
        "--address",
        "127.0.0.1",
        "service/healthz",
        ":8080",
    )


def test_parse_local_port() -> None:
    assert parse_local_port("Forwarding from 127.0.0.1:54321 -> 8080\n") == 54321
    assert parse_local_port("Forwarding from [::1]:54321 -> 8080") is None
    assert parse_local_port("error: unable to forward") is None


def test_the_node_backend_names_built_images_in_every_nodes_containerd(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.json"
    nodes.write_text(
        '{"ctr": "/cache/ctr", "nodes": {"real-0": "/w/0.sock", "real-1": "/w/1.sock"},'
        ' "images": {"healthz": "localhost/integration-gitops/healthz:abc"}}'
    )
    cluster = NodeCluster("node", "kubectl", tmp_path / "kubeconfig", nodes)
    assert cluster.built_images() == {"healthz": "localhost/integration-gitops/healthz:abc"}
    commands = cluster.name_image_commands(
        "localhost/integration-gitops/healthz:abc", "ghcr.io/example-org/healthz:1.1.0-rc.1"
    )
    assert [c.argv for c in commands] == [
        (
            "/cache/ctr",
            "--address",
            socket,
            "--namespace",
            "k8s.io",  # the CRI plugin's namespace: what the kubelet sees
            "images",
            "tag",
            "--force",
            "localhost/integration-gitops/healthz:abc",
            "ghcr.io/example-org/healthz:1.1.0-rc.1",
        )
        for socket in ("/w/0.sock", "/w/1.sock")
    ]
    with pytest.raises(RuntimeError, match="the suite only names them"):
        cluster.load_image_commands("x:1", tmp_path)  # nothing is loaded: only named
