"""Issue 9 item 7: the kind suite's test modules run unchanged against this KWOK cluster.

`pytest -m e2e tests/e2e` runs in a subprocess with GITOPS_E2E_BACKEND=kwok and this session's
kubeconfig, so the e2e harness itself (render and deploy of the dev stack, the backend's load
hook, eviction, kubectl drain, the Ready-pod watch) is exercised here, not only on machines
with Docker. The HPA and PDB modules must pass; every other e2e test must be skipped as
needing real containers, with the backend's reason, and nothing else may be skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.harness import REPO_ROOT
from tests.cluster.kube import Kube
from tests.cluster.workloads import delete_namespace
from tests.e2e.harness.backend import BACKEND_ENV, KUBECONFIG_ENV, backend_from_env
from tests.e2e.harness.deploy import NAMESPACE as E2E_NAMESPACE

pytestmark = pytest.mark.cluster
MUST_PASS = ("tests/e2e/test_hpa.py", "tests/e2e/test_pdb.py")
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Outcome:
    nodeid: str  # tests/e2e/test_hpa.py::test_...
    status: str  # passed | failed | error | skipped
    message: str  # the skip reason or the failure's first line


def junit_outcomes(path: Path) -> list[Outcome]:
    """Every test case of a pytest junit XML report."""
    outcomes: list[Outcome] = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/") + ".py"
        nodeid = f"{module}::{case.get('name', '')}"
        status, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = "failed" if child.tag == "failure" else child.tag
                message = child.get("message", "")
        outcomes.append(Outcome(nodeid, status, message))
    return outcomes


def test_e2e_modules_run_unchanged_on_kwok(cluster: Kube, tmp_path: Path) -> None:
    report = tmp_path / "e2e-junit.xml"
    env = {**os.environ, BACKEND_ENV: "kwok", KUBECONFIG_ENV: str(cluster.kubeconfig)}
    env.pop("E2E_KEEP_CLUSTER", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "e2e", "-rs"]
    command += [f"--junitxml={report}", "-o", "junit_family=xunit1", "tests/e2e"]
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        delete_namespace(cluster, E2E_NAMESPACE)  # leave the cluster as the session found it
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
    assert done.returncode == 0, f"pytest -m e2e on KWOK exited {done.returncode}:\n{tail}"

    outcomes = junit_outcomes(report)
    passed = [o.nodeid for o in outcomes if o.status == "passed"]
    assert {nodeid.split("::")[0] for nodeid in passed} == set(MUST_PASS), (outcomes, tail)
    reason = backend_from_env(env).skip_reason(needs_containers=True)
    assert reason is not None
    skipped = [o for o in outcomes if o.status == "skipped"]
    assert skipped, "the kind-only e2e tests (probes, Argo CD) should be listed as skipped"
    wrong = [o for o in skipped if reason not in o.message]
    assert not wrong, f"skipped for another reason than {reason!r}: {wrong}"
    assert all(o.status in ("passed", "skipped") for o in outcomes), outcomes
    print(f"\ne2e on KWOK: {len(passed)} passed, {len(skipped)} skipped as kind-only: {passed}")
