"""``gitops.k8s.workload``: pod templates and containers of every workload kind."""

from __future__ import annotations

from gitops.k8s import all_containers, find_container, running_containers, template_labels
from tests.unit.k8s.objects import deployment_doc


def test_containers_of_every_list_skip_non_dicts_and_know_sidecars() -> None:
    doc = deployment_doc()
    assert [c["name"] for c in all_containers(doc)] == ["migrate", "proxy", "web"]
    pod_spec = doc["spec"]["template"]["spec"]
    assert [c["name"] for c in running_containers(pod_spec)] == ["web", "proxy"]
    assert find_container(doc)["name"] == "web"
    assert find_container(doc, "nope") == {}
    assert template_labels(doc) == {"app": "web"}
    pod = {"kind": "Pod", "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{}]}}
    assert template_labels(pod) == {"a": "b"}
