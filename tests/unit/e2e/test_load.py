"""harness/load.py and the simulated-pod helpers: what the KWOK backend does instead of real
load and real probes."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness.deploy import READY_DELAY_ANNOTATION, with_ready_delays
from tests.e2e.harness.expectations import LoadPlan, simulated_ready_delay
from tests.e2e.harness.load import USAGE_CPU_ANNOTATION, SimulatedCpuLoad, saturated_usage

PLAN = LoadPlan(clients=20, saturated_utilization=500, probe_queue_seconds=0.2, exceeds_max=True)


def test_saturated_usage_is_the_cpu_limit_share_of_each_container() -> None:
    one = [{"resources": {"requests": {"cpu": "20m"}, "limits": {"cpu": "100m"}}}]
    assert saturated_usage(one, PLAN) == "100m"  # 500 % of 20m: the limit, as on kind
    two = [{"resources": {"requests": {"cpu": "100m"}}}, {"resources": {"requests": {"cpu": "1"}}}]
    assert saturated_usage(two, PLAN) == "2750m"  # 500 % of 1100m, spread over 2 containers


class FakeKube:
    def __init__(self, pods: dict[str, dict[str, str]]) -> None:
        self.annotations = pods
        self.patches: list[tuple[str, dict[str, str | None]]] = []

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        assert (namespace, selector) == ("integration", "app=healthz")
        return [
            {"metadata": {"name": name, "annotations": dict(notes)}}
            for name, notes in self.annotations.items()
        ]

    def annotate_pod(self, namespace: str, pod: str, notes: dict[str, str | None]) -> None:
        self.patches.append((pod, dict(notes)))
        for key, value in notes.items():
            if value is None:
                self.annotations[pod].pop(key, None)
            else:
                self.annotations[pod][key] = value


def test_simulated_load_annotates_only_pods_that_differ_and_removes_it_at_stop() -> None:
    kube = FakeKube({"a": {}, "b": {USAGE_CPU_ANNOTATION: "100m"}})
    load = SimulatedCpuLoad(kube, "integration", "app=healthz", [])  # type: ignore[arg-type]
    load.annotate_all("100m")
    assert kube.patches == [("a", {USAGE_CPU_ANNOTATION: "100m"})]
    kube.annotations["c"] = {}  # a pod the HPA just added gets the load too
    load.annotate_all("100m")
    assert kube.patches[-1] == ("c", {USAGE_CPU_ANNOTATION: "100m"})
    load.annotate_all(None)
    assert all(USAGE_CPU_ANNOTATION not in notes for notes in kube.annotations.values())


def test_ready_delay_follows_the_probes() -> None:
    assert simulated_ready_delay({}) == 0
    assert simulated_ready_delay({"readinessProbe": {"periodSeconds": 5}}) == 5
    both = {
        "startupProbe": {"initialDelaySeconds": 2, "periodSeconds": 3},
        "readinessProbe": {"initialDelaySeconds": 1, "periodSeconds": 5, "successThreshold": 2},
    }
    assert simulated_ready_delay(both) == 2 + 3 + 1 + 2 * 5


def test_with_ready_delays_annotates_deployment_pod_templates_only_on_copies() -> None:
    deployment: dict[str, Any] = {
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "readinessProbe": {"periodSeconds": 5}},
                        {"name": "b", "readinessProbe": {"periodSeconds": 10}},
                    ]
                }
            }
        },
    }
    service: dict[str, Any] = {"kind": "Service", "spec": {}}
    out = with_ready_delays([deployment, service])
    annotations = out[0]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {READY_DELAY_ANNOTATION: "10s"}  # the slowest container
    assert "metadata" not in deployment["spec"]["template"]  # the rendered stack is untouched
    assert out[1] is service
