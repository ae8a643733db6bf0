"""Fixtures and hooks of the e2e suite (marker ``e2e``; `make test-e2e`).

* Fails the session at once, with the preflight message, when docker/podman, kind or kubectl
  is missing, but only when e2e tests were actually selected (`make test` deselects them).
* One kind cluster per run; ``--keep-cluster`` / ``E2E_KEEP_CLUSTER=1`` reuses it and leaves it
  running; otherwise it is deleted at the end, also when tests fail.
* On a failing test, dumps events, pod descriptions and logs to e2e-artifacts/<test>/; on an
  interrupt (Ctrl-C, or the E2E_DEADLINE_MINUTES session deadline CI sets below its step
  timeout) to e2e-artifacts/interrupted/, before the cluster is torn down.
* ``GITOPS_E2E_BACKEND=kwok`` + ``GITOPS_E2E_KUBECONFIG``: an existing cluster instead of kind
  (harness/backend.py); tests marked ``needs_containers`` skip there, saying why. ``=node``
  (+ ``GITOPS_E2E_NODES``): the node tier's real nodes; ``kind_only`` tests skip there.
* Runs the test files in an order that lets them share one cluster: probes, seed commands,
  network policy, rollout, hpa, pdb, argocd (the Argo CD test takes the namespace over from
  the directly deployed stack).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness.artifacts import ARTIFACTS_DIR_NAME, argocd_plan, artifact_dir, dump_plan
from tests.e2e.harness.backend import (
    KIND_ONLY_MARKER,
    NEEDS_CONTAINERS_MARKER,
    NEEDS_NETWORK_POLICY_MARKER,
    NEEDS_SIMULATED_POOL_MARKER,
    BackendError,
    backend_from_env,
)
from tests.e2e.harness.cluster import DEFAULT_CLUSTER_NAME, env_flag
from tests.e2e.harness.deadline import DEADLINE_ENV, DeadlineError, SessionDeadline
from tests.e2e.preflight import checked_toolchain

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
FILE_ORDER = (
    "test_probes.py",
    "test_seed_commands.py",
    "test_network_policy.py",
    "test_rollout.py",
    "test_hpa.py",
    "test_pdb.py",
    "test_argocd.py",
)
ENV_KEY = pytest.StashKey[Any]()
DEADLINE_KEY = pytest.StashKey[SessionDeadline]()
INTERRUPTED_DIR = "interrupted"
CLIENT_MISSING_KEY = pytest.StashKey[bool]()
KUBERNETES_CLIENT_HINT = (
    "the `kubernetes` Python client is missing: run `make setup` or `pip install kubernetes`"
)
DUMP_NAMESPACES = ("integration", "argocd", "e2e-git", "kube-system")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2e")
    group.addoption(
        "--keep-cluster",
        action="store_true",
        default=False,
        help="reuse the kind cluster if it exists and keep it after the run (E2E_KEEP_CLUSTER=1)",
    )


def kubernetes_client_missing() -> bool:
    try:
        return importlib.util.find_spec("kubernetes") is None
    except ValueError:  # imported as None (blocked)
        return True


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Until the `kubernetes` client is installed, `make test` (which deselects e2e anyway)
    must not fail importing the e2e test modules; `pytest -m e2e` then says what to install."""
    if (
        kubernetes_client_missing()
        and collection_path.parent == E2E_DIR
        and collection_path.name.startswith("test_")
    ):
        markexpr = " ".join(str(config.getoption("markexpr", default="") or "").split())
        if "not e2e" not in markexpr:
            config.stash[CLIENT_MISSING_KEY] = True  # reported once collection is done
        return True
    return None


def _selected_e2e(items: list[pytest.Item]) -> list[pytest.Item]:
    return [
        item for item in items if item.get_closest_marker("e2e") and E2E_DIR in item.path.parents
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER)

    if any(E2E_DIR in item.path.parents for item in items):
        items.sort(key=rank)  # stable: keeps the order within each file
    try:
        backend = backend_from_env(os.environ)
    except BackendError:
        return  # reported once, in pytest_collection_finish
    for item in items:
        reason = backend.skip_reason(
            item.get_closest_marker(NEEDS_CONTAINERS_MARKER) is not None,
            kind_only=item.get_closest_marker(KIND_ONLY_MARKER) is not None,
            needs_network_policy=item.get_closest_marker(NEEDS_NETWORK_POLICY_MARKER) is not None,
            needs_simulated_pool=item.get_closest_marker(NEEDS_SIMULATED_POOL_MARKER) is not None,
        )
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.stash.get(CLIENT_MISSING_KEY, False):
        pytest.exit(f"e2e preflight failed: {KUBERNETES_CLIENT_HINT}", returncode=2)
    # Listing tests (--collect-only) needs no cluster.
    if session.config.option.collectonly or not _selected_e2e(session.items):
        return
    try:
        message = checked_toolchain().missing_message()
    except BackendError as exc:
        message = str(exc)
    if kubernetes_client_missing():
        message = f"{message}\n  - {KUBERNETES_CLIENT_HINT}" if message else KUBERNETES_CLIENT_HINT
    if message is not None:
        pytest.exit(f"e2e preflight failed: {message}", returncode=2)
    try:
        deadline = SessionDeadline.from_env(os.environ)
    except DeadlineError as exc:
        pytest.exit(f"e2e preflight failed: {exc}", returncode=2)
    if deadline is not None:
        session.config.stash[DEADLINE_KEY] = deadline.start()


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C or the session deadline: dump the cluster as it is now. pytest calls this before
    it tears the session fixtures down, so the cluster still exists."""
    config = _CONFIG[0] if _CONFIG else None
    if config is None:
        return
    deadline = config.stash.get(DEADLINE_KEY, None)
    if deadline is not None and deadline.expired:
        print(f"\ne2e: the {DEADLINE_ENV} deadline ({deadline.seconds / 60:g} min) passed")
    environment = config.stash.get(ENV_KEY, None)
    if environment is not None and environment.kube is not None:
        print(f"e2e: dumping the cluster to {ARTIFACTS_DIR_NAME}/{INTERRUPTED_DIR}/")
        _dump_artifacts(environment, INTERRUPTED_DIR)


_CONFIG: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG[:] = [config]  # pytest_keyboard_interrupt gets no config of its own


def pytest_unconfigure(config: pytest.Config) -> None:
    deadline = config.stash.get(DEADLINE_KEY, None)
    if deadline is not None:
        deadline.cancel()


def keep_cluster(config: pytest.Config) -> bool:
    return bool(config.getoption("--keep-cluster", default=False)) or env_flag(
        os.environ, "E2E_KEEP_CLUSTER"
    )


@pytest.fixture(scope="session")
def e2e(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The cluster with metrics-server, the ServiceMonitor CRD and the app images loaded."""
    from tests.e2e.harness.environment import new_environment

    toolchain = checked_toolchain()
    print(f"\ne2e backend: {toolchain.backend.describe()}; kubectl {toolchain.kubectl_summary()}")
    environment = new_environment(
        REPO_ROOT, toolchain, os.environ.get("E2E_CLUSTER_NAME", DEFAULT_CLUSTER_NAME)
    )
    keep = keep_cluster(request.config)
    request.config.stash[ENV_KEY] = environment
    try:
        environment.cluster_up(reuse=keep)
        environment.install_metrics_server()
        environment.install_servicemonitor_crd()
        environment.build_and_load_images()
        yield environment
    finally:
        try:
            if not keep:
                environment.cluster.down(environment.runner)
        finally:
            # kubeconfig, image archives (podman), the working-tree snapshot: a kept cluster
            # re-exports its kubeconfig next time, so nothing here is needed after the run.
            shutil.rmtree(environment.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(e2e: Any) -> Any:
    """The dev overlays of healthz and kpis-api + the e2e component, deployed and Ready."""
    e2e.deploy_stack()
    return e2e


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and call.when in ("setup", "call"):
        environment = item.config.stash.get(ENV_KEY, None)
        if environment is not None and environment.kube is not None:
            _dump_artifacts(environment, item.nodeid)
    return report


def _dump_artifacts(environment: Any, nodeid: str) -> None:
    target = artifact_dir(REPO_ROOT / ARTIFACTS_DIR_NAME, nodeid)
    target.mkdir(parents=True, exist_ok=True)
    cluster = environment.cluster
    try:
        pods = [
            (namespace, pod["metadata"]["name"])
            for namespace in DUMP_NAMESPACES
            for pod in environment.k.pods(namespace, "")
        ]
    except Exception as exc:  # the dump must never mask the test's own failure
        (target / "dump-errors.txt").write_text(f"listing pods failed: {exc}\n")
        pods = []
    plan = dump_plan(cluster.kubectl, cluster.kubectl_env(), DUMP_NAMESPACES, pods)
    plan += argocd_plan(cluster.kubectl, cluster.kubectl_env())
    for dump in plan:
        try:
            result = environment.runner(dump.command)
            text = result.stdout + (f"\n--- stderr ---\n{result.stderr}" if result.stderr else "")
        except Exception as exc:
            text = f"{dump.command.quoted()} failed: {exc}\n"
        (target / dump.filename).write_text(text, encoding="utf-8")
