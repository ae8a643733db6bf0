from __future__ import annotations

from pathlib import Path

from tests.e2e.harness.artifacts import argocd_plan, artifact_dir, dump_plan


def test_artifact_dir_is_a_safe_name_per_test(tmp_path: Path) -> None:
    assert artifact_dir(tmp_path, "tests/e2e/test_pdb.py::test_drain[node-1]") == (
        tmp_path / "test_pdb.py__test_drain_node-1_"
    )


def test_dump_plan_covers_events_descriptions_and_current_and_previous_logs() -> None:
    plan = dump_plan("kubectl", {"KUBECONFIG": "/k"}, ["integration"], [("integration", "p1")])
    files = [d.filename for d in plan]
    assert files == [
        "events-all-namespaces.txt",
        "nodes.txt",
        "pods-all-namespaces.txt",
        "integration-describe-pods.txt",
        "integration-workloads.yaml",
        "logs-integration-p1.txt",
        "logs-integration-p1-previous.txt",
    ]
    by_name = {d.filename: d.command for d in plan}
    assert by_name["logs-integration-p1-previous.txt"].argv[-1] == "--previous"
    assert by_name["integration-describe-pods.txt"].argv == (
        "kubectl",
        "describe",
        "pods",
        "-n",
        "integration",
    )
    assert all(d.command.env == {"KUBECONFIG": "/k"} and d.command.timeout for d in plan)
    # a container that never restarted has no previous log: exit 1 must not stop the dump
    assert all(1 in d.command.ok_codes for d in plan)


def test_argocd_plan_dumps_applications() -> None:
    (dump,) = argocd_plan("kubectl", {})
    assert "applications.argoproj.io" in dump.command.argv[2]
