"""Fixtures and hooks of the node tier (marker ``node``; `make test-node`).

* One NodeTier per session (tests/node/harness.py): the upstream control plane plus real
  nodes, started only when node tests are selected; torn down at the end, also when tests
  fail or setup fails half-way. The teardown then compares the host with the snapshot taken
  before (iptables, nf_tables tables, ipsets, links, mounts, cgroups, fixed paths, sysctls,
  processes) and fails the session, naming every leftover, when anything remains.
  ``NODE_TIER_DIR=<dir>`` runs the tests against a tier started by hand (`python -m
  tests.node up`) and leaves it running.
* Every component's log (control plane, containerd, kubelets, kube-proxy, kube-router,
  CoreDNS, pod logs) is copied to node-artifacts/ after every session, passed or failed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node.__main__ import NAME
from tests.node.harness import REPO_ROOT, NodeTier, NodeTierError

ARTIFACTS = REPO_ROOT / "node-artifacts"


@pytest.fixture(scope="session")
def node_tier() -> Iterator[NodeTier]:
    reuse = os.environ.get("NODE_TIER_DIR")
    if reuse:  # a tier started by hand (`python -m tests.node up`): used, never torn down
        tier = NodeTier(Path(reuse), NAME)
        if not tier.nodes_file.is_file():
            pytest.fail(f"NODE_TIER_DIR={reuse}: no node tier is up there", pytrace=False)
        yield tier
        return
    workdir = Path(tempfile.mkdtemp(prefix="gitops-node-"))
    tier = NodeTier(workdir, f"gitops-node-{os.getpid()}")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this session's only (tests add theirs)
    try:
        started = time.monotonic()
        try:
            tier.up()
        except NodeTierError as error:
            pytest.fail(f"node tier: {error}", pytrace=False)
        print(f"\nnode tier: up in {time.monotonic() - started:.0f}s")
        yield tier
    finally:
        started = time.monotonic()
        try:
            leftovers = tier.down()
        finally:
            tier.copy_logs(ARTIFACTS)
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"\nnode tier: down in {time.monotonic() - started:.0f}s; logs in {ARTIFACTS}")
        assert not leftovers, "the node tier left this on the host:\n" + "\n".join(leftovers)
