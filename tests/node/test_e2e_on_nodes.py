"""Issue 20 item 4: the e2e suite (tests/e2e) runs unchanged on real nodes.

`pytest -m e2e tests/e2e` runs in a subprocess with GITOPS_E2E_BACKEND=node, the tier's
kubeconfig and nodes file: the same test modules as on kind, with the harness's node backend
underneath (images named as rendered, HTTP load, real probes, kubectl drain of a real node).
Every test must pass except the Argo CD ones, which must be skipped with the kind-only reason
and nothing else; the junit report and the subprocess's output are kept in node-artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.test_e2e_shared import junit_outcomes
from tests.e2e.harness.backend import BACKEND_ENV, KUBECONFIG_ENV, NODES_ENV, backend_from_env
from tests.node.harness import REPO_ROOT, NodeTier

pytestmark = pytest.mark.node
# The whole suite: probes, seed commands, network policy, rollout, HPA, PDB (~15-20 min here).
TIMEOUT_SECONDS = 2400
KIND_ONLY = ("tests/e2e/test_argocd.py",)
MUST_PASS = (
    "tests/e2e/test_probes.py",
    "tests/e2e/test_seed_commands.py",
    "tests/e2e/test_network_policy.py",
    "tests/e2e/test_rollout.py",
    "tests/e2e/test_hpa.py",
    "tests/e2e/test_pdb.py",
)
ARTIFACTS = REPO_ROOT / "node-artifacts"


def test_e2e_suite_runs_unchanged_on_real_nodes(node_tier: NodeTier, tmp_path: Path) -> None:
    report = tmp_path / "e2e-junit.xml"
    env = {
        **os.environ,
        BACKEND_ENV: "node",
        KUBECONFIG_ENV: str(node_tier.kubeconfig),
        NODES_ENV: str(node_tier.nodes_file),
        "KUBECTL": str(node_tier.kubectl_binary()),
    }
    env.pop("E2E_KEEP_CLUSTER", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "e2e", "-rs"]
    command += ["-v", f"--junitxml={report}", "-o", "junit_family=xunit1", "tests/e2e"]
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-output.txt").write_text(done.stdout + done.stderr)
    if report.is_file():
        (ARTIFACTS / "e2e-junit.xml").write_bytes(report.read_bytes())
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
    assert done.returncode == 0, f"pytest -m e2e on real nodes exited {done.returncode}:\n{tail}"

    outcomes = junit_outcomes(report)
    passed = {o.nodeid.split("::")[0] for o in outcomes if o.status == "passed"}
    assert passed == set(MUST_PASS), (outcomes, tail)
    skipped = [o for o in outcomes if o.status == "skipped"]
    reason = backend_from_env(env).skip_reason(False, kind_only=True)
    assert reason is not None
    assert {o.nodeid.split("::")[0] for o in skipped} == set(KIND_ONLY), skipped
    wrong = [o for o in skipped if reason not in o.message]
    assert not wrong, f"skipped for another reason than {reason!r}: {wrong}"
    assert all(o.status in ("passed", "skipped") for o in outcomes), outcomes
