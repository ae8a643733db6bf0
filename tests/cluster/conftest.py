"""Fixtures and hooks of the cluster tier (marker ``cluster``; `make test-cluster`).

* One KWOK cluster per session (tests/cluster/harness.py), started only when cluster tests are
  selected, deleted at the end also when tests fail. ``CLUSTER_KUBECONFIG=<path>`` runs the
  tests against a cluster started by hand (`python -m tests.cluster up`) and leaves it running.
* The HPA scenario (hpa_scenario.py), mostly waiting on controller periods, runs in a
  background thread from the first test on when test_hpa.py is selected; test_hpa.py joins it
  and asserts. Collection orders test_hpa.py and then test_e2e_shared.py last: the e2e modules
  drain whole nodes, which would evict the scenario's pods.
* When a test fails, every component's log and the kwokctl configuration are copied to
  cluster-artifacts/ (and the cluster's events to cluster-artifacts/events.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import REPO_ROOT, ClusterError, KwokCluster

ARTIFACTS = REPO_ROOT / "cluster-artifacts"
FAILED_KEY = pytest.StashKey[bool]()
# Run last, in this order: the HPA test (joins the background scenario), then the e2e modules.
LAST = ("test_hpa.py", "test_e2e_shared.py")
HERE = Path(__file__).parent


def _here(item: pytest.Item, name: str) -> bool:
    # Hooks of a conftest see the whole session's items: tests/unit has a test_hpa.py too.
    return item.path.parent == HERE and item.path.name == name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i + 1 for i, name in enumerate(LAST) if _here(item, name)), 0)

    items.sort(key=rank)  # stable: the other tests keep their order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and item.get_closest_marker("cluster"):
        item.config.stash[FAILED_KEY] = True
    return report


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's cluster (tests/cluster/kube.py) with our CRDs (tools/gitops/schemas)
    installed: every rendered env has ServiceMonitors."""
    from tests.cluster.kube import Kube
    from tests.cluster.workloads import install_crds

    reuse = os.environ.get("CLUSTER_KUBECONFIG")
    if reuse:
        kube = Kube(Path(reuse))
        install_crds(kube)
        yield kube
        return
    workdir = Path(tempfile.mkdtemp(prefix="gitops-kwok-"))
    kwok = KwokCluster(f"gitops-test-{os.getpid()}", workdir)
    try:
        try:
            kwok.create()
        except ClusterError as error:
            _keep_logs(kwok, None)
            pytest.exit(f"cluster tier: {error}", returncode=2)
        kube = Kube(kwok.kubeconfig)
        install_crds(kube)
        yield kube
    finally:
        failed = request.config.stash.get(FAILED_KEY, False)
        try:
            if failed:
                _keep_logs(kwok, kube if "kube" in locals() else None)
        finally:
            try:
                kwok.delete()
            finally:
                shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def hpa_scenario(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The HPA scenario, started with the session's first test when test_hpa.py is among the
    selected tests (None otherwise). If the session ends before test_hpa.py joined it (``-x``,
    Ctrl-C), it is cancelled and deletes its namespace before the cluster goes."""
    if not any(_here(item, "test_hpa.py") for item in request.session.items):
        yield None
        return
    from tests.cluster.hpa_scenario import BackgroundScenario

    kube = request.getfixturevalue("cluster")
    scenario = BackgroundScenario(kube.kubeconfig)
    scenario.start()
    try:
        yield scenario
    finally:
        scenario.stop()  # a no-op once test_hpa.py joined it


@pytest.fixture(scope="session")
def crds(cluster: Any) -> Any:
    """The cluster, named for tests about our CRDs."""
    return cluster


def _keep_logs(kwok: KwokCluster, kube: Any) -> None:
    target = kwok.copy_logs(ARTIFACTS)
    if kube is not None:
        try:
            events = kube.core.list_event_for_all_namespaces().items
            lines = [
                f"{e.metadata.namespace} {e.involved_object.kind}/{e.involved_object.name} "
                f"{e.type} {e.reason}: {e.message}"
                for e in events
            ]
            (target / "events.txt").write_text("\n".join(lines) + "\n")
        except Exception as error:  # the dump must never mask the test's own failure
            (target / "events.txt").write_text(json.dumps(str(error)) + "\n")
    print(f"\ncluster tier: component logs kept in {target}")
