"""Scenario files: what is accepted, what is rejected (one line, file and key named), and the
HPA manifests' defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.simulate.hpa import (
    DEFAULT_SCALE_DOWN_RULES,
    DEFAULT_SCALE_UP_RULES,
    POLICY_PODS,
    ScalingPolicy,
    cpu,
)
from gitops.simulate.scenario import (
    LoadPoint,
    LoadProfile,
    ScenarioError,
    hpa_spec_from_manifest,
    load_scenario,
    parse_scenario,
    pod_cpu_request_milli,
)

INLINE = {
    "spec": {
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70},
                },
            }
        ],
    }
}


def scenario(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "hpa": {"manifest": INLINE},
        "pod": {"cpuRequest": "50m"},
        "load": {"totalCPU": [{"at": 0, "value": "70m"}]},
    }
    data.update(overrides)
    return data


def test_minimal_inline_scenario_takes_defaults() -> None:
    parsed = parse_scenario(scenario(), "s.yaml")
    assert parsed.hpa.min_replicas == 2 and parsed.hpa.metrics == (cpu(70),)
    assert parsed.start_replicas == 2  # minReplicas when start.replicas is not given
    assert parsed.template.cpu_request_milli == 50
    assert parsed.settings.sync_period == 15 and parsed.settings.tolerance == 0.1
    assert parsed.settings.downscale_stabilization_window == 300
    assert parsed.duration_seconds == 3600 and parsed.syncs == 241


def test_controller_settings_are_read() -> None:
    parsed = parse_scenario(
        scenario(
            controller={
                "syncPeriodSeconds": 30,
                "tolerance": 0.05,
                "cpuInitializationPeriodSeconds": 60,
                "initialReadinessDelaySeconds": 5,
                "downscaleStabilizationWindowSeconds": 120,
            },
            durationSeconds=600,
        ),
        "s.yaml",
    )
    settings = parsed.settings
    assert (settings.sync_period, settings.tolerance) == (30, 0.05)
    assert (settings.cpu_initialization_period, settings.initial_readiness_delay) == (60, 5)
    assert settings.downscale_stabilization_window == 120
    assert parsed.syncs == 21


def test_load_profile_steps_and_ramps() -> None:
    profile = LoadProfile(
        "total", (LoadPoint(0, 100), LoadPoint(60, 300), LoadPoint(120, 100, ramp_seconds=100))
    )
    assert [profile.at(t) for t in (0, 59, 60, 119, 120, 170, 220, 1000)] == [
        100, 100, 300, 300, 300, 200, 100, 100,
    ]  # fmt: skip
    assert profile.change_times() == [60, 120]


def test_explicit_pods_sum_containers_and_mark_missing_pieces() -> None:
    parsed = parse_scenario(
        {
            "hpa": {"manifest": INLINE},
            "start": {
                "pods": [
                    {"name": "a", "containers": [
                        {"cpuRequest": "1", "cpuUsage": "300m"},
                        {"cpuRequest": "500m", "cpuUsage": "200m"}]},
                    {"name": "b", "ready": False, "containers": [{"cpuRequest": "1"}]},
                    {"name": "c", "phase": "Failed", "containers": [{"cpuUsage": "1"}]},
                ]
            },
        },
        "s.yaml",
    )  # fmt: skip
    a, b, c = parsed.explicit_pods
    assert (a.cpu_request_milli, a.cpu_usage_milli, a.ready) == (1500, 500, True)
    assert (b.cpu_request_milli, b.cpu_usage_milli, b.ready) == (1000, None, False)
    assert c.cpu_request_milli is None  # "missing request for cpu" at the sync
    assert parsed.start_replicas == 2  # failed pods are not replicas


def test_containers_pod_level_requests_and_sample_only_pods_are_read() -> None:
    parsed = parse_scenario(
        {
            "hpa": {"manifest": INLINE},
            "start": {
                "pods": [
                    {"name": "a", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}},
                     "containers": [{"name": "app", "cpuRequest": "1", "cpuUsage": "300m"},
                                    {"name": "proxy", "cpuUsage": "0", "sidecar": True}]},
                    {"name": "gone", "sampleOnly": True, "containers": [{"cpuUsage": "1"}]},
                ]
            },
            "metrics": {"queue": ["1", "2"], "rps": "3"},
        },
        "s.yaml",
    )  # fmt: skip
    a, gone = parsed.explicit_pods
    assert [(c.name, c.cpu_request_milli, c.sidecar) for c in a.containers] == [
        ("app", 1000, False), ("proxy", None, True),
    ]  # fmt: skip
    assert a.pod_requests["cpu"] == 2000 and "memory" in a.pod_requests
    assert gone.sample_only and gone.containers[0].name == "container1"
    assert parsed.start_replicas == 1  # a sample-only pod is not a replica
    assert parsed.metric_values == {"queue": (1000, 2000), "rps": 3000}


def test_feature_gates_follow_the_version_and_overrides() -> None:
    default = parse_scenario(scenario(), "s.yaml").settings.gates
    assert default.minor == 36 and default.enabled("PodLevelResources")
    repo_133 = parse_scenario(scenario(), "s.yaml", kubernetes_version="1.33").settings.gates
    assert not repo_133.enabled("PodLevelResources")
    controller = {"kubernetesVersion": "1.34", "featureGates": {"HPAScaleToZero": True}}
    pinned = parse_scenario(
        scenario(controller=controller), "s.yaml", kubernetes_version="1.33"
    ).settings.gates
    assert pinned.minor == 34 and pinned.enabled("PodLevelResources")
    assert pinned.enabled("HPAScaleToZero")


def test_container_metric_names_the_new_pods_container() -> None:
    manifest = {"spec": {"maxReplicas": 3, "metrics": [{"type": "ContainerResource",
        "containerResource": {"name": "cpu", "container": "web", "target": {
            "type": "Utilization", "averageUtilization": 50}}}]}}  # fmt: skip
    parsed = parse_scenario(scenario(hpa={"manifest": manifest}), "s.yaml")
    assert parsed.hpa.metrics[0].container == "web"
    assert parsed.template.container_name == "web"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "s.yaml: top level: expected a mapping, got a list"),
        ({"load": {}}, "s.yaml: hpa: missing: name an HPA ({env, service}) or inline one"),
        (scenario(bogus=1), "s.yaml: top level: unknown key 'bogus' (expected one of: hpa,"),
        (scenario(load={"totalCPU": [{"at": 0, "value": "lots"}]}),
         's.yaml: load.totalCPU[0].value: expected a CPU quantity like "250m" or 0.5, got'),
        (scenario(load={"totalCPU": [{"at": 60, "value": 1}, {"at": 0, "value": 1}]}),
         "s.yaml: load.totalCPU[1].at: expected times in order, 0 < 60"),
        (scenario(load={"totalCPU": [], "perPodCPU": []}),
         "s.yaml: load: expected exactly one of totalCPU or perPodCPU"),
        (scenario(load=None) | {"load": {"totalCPU": []}},
         "s.yaml: load.totalCPU: expected at least one {at, value} point"),
        ({"hpa": {"manifest": INLINE}, "pod": {"cpuRequest": "50m"}},
         "s.yaml: load: missing: give load.totalCPU or load.perPodCPU"),
        (scenario(pod={}), "s.yaml: pod.cpuRequest: missing: the HPA's target has no CPU request"),
        (scenario(durationSeconds="1h"), "s.yaml: durationSeconds: expected a number, got '1h'"),
        (scenario(durationSeconds=10**9), "s.yaml: durationSeconds: expected at most 604800"),
        (scenario(controller={"syncPeriodSeconds": 0}),
         "s.yaml: controller.syncPeriodSeconds: expected a number > 0"),
        (scenario(controller={"tolerance": -1}),
         "s.yaml: controller.tolerance: expected a number >= 0, got -1"),
        (scenario(start={"replicas": 1.5}), "s.yaml: start.replicas: expected an integer, got 1.5"),
        (scenario(start={"pods": [{"phase": "Sleeping"}]}),
         "s.yaml: start.pods[0].phase: expected one of Pending, Running, Succeeded, Failed"),
        (scenario(hpa={"env": "prod"}), "s.yaml: hpa.service: expected a name"),
        (scenario(hpa={"env": "prod", "service": "x"}),
         "s.yaml: hpa: names a repo HPA but no repository is available to render it"),
        (scenario(hpa={"manifest": {"spec": {"minReplicas": 1}}}),
         "s.yaml: spec.maxReplicas: missing: expected an integer >= 1"),
        (scenario(hpa={"manifest": {"spec": {"minReplicas": 5, "maxReplicas": 2}}}),
         "s.yaml: spec.minReplicas: 5 is above maxReplicas 2"),
        (scenario(hpa={"manifest": {"apiVersion": "autoscaling/v1", "spec": {}}}),
         "s.yaml: apiVersion: expected autoscaling/v2, got 'autoscaling/v1'"),
        (scenario(hpa={"manifest": {"spec": {"maxReplicas": 3, "behavior": {"scaleUp": {
            "selectPolicy": "Fastest"}}}}}),
         "s.yaml: spec.behavior.scaleUp.selectPolicy: expected Max, Min or Disabled"),
        (scenario(hpa={"manifest": {"spec": {"maxReplicas": 3, "metrics": [{"type": "Cpu"}]}}}),
         "s.yaml: spec.metrics[0].type: expected Resource, Pods, Object or External, got 'Cpu'"),
        (scenario(hpa={"manifest": {"spec": {"maxReplicas": 3, "metrics": [{
            "type": "ContainerResource", "containerResource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 50}}}]}}}),
         "s.yaml: spec.metrics[0].containerResource.container: expected a container name"),
        (scenario(controller={"featureGates": {"PodLevelResource": False}}),
         "s.yaml: controller.featureGates.PodLevelResource: unknown gate (expected one of: "),
        (scenario(controller={"kubernetesVersion": "2.0"}),
         's.yaml: controller.kubernetesVersion: expected a version like "1.36", got \'2.0\''),
        (scenario(start={"pods": [{"containers": [{"name": "a"}, {"name": "a"}]}]}),
         "s.yaml: start.pods[0].containers: container name 'a' is used twice"),
        (scenario(start={"pods": [{"resources": {"requests": {"gpu": 1}}}]}),
         "s.yaml: start.pods[0].resources.requests: unknown key 'gpu'"),
        (scenario(metrics={"qps": []}), "s.yaml: metrics.qps: expected at least one value"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_file_and_key(data: object, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "s.yaml")
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(message), text


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("hpa: {manifest: [\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.yaml:2: invalid YAML"):
        load_scenario(broken)


def test_behavior_defaults_fill_unset_fields() -> None:
    spec, name = hpa_spec_from_manifest(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "maxReplicas": 5,
                "behavior": {"scaleUp": {"policies": [
                    {"type": "Pods", "value": 2, "periodSeconds": 60}]}},
            },
        },
        "hpa.yaml",
    )  # fmt: skip
    assert name == "web" and spec.min_replicas == 1 and spec.metrics == (cpu(80),)
    assert spec.behavior is not None
    assert spec.behavior.scale_up.policies == (ScalingPolicy(POLICY_PODS, 2, 60),)
    assert spec.behavior.scale_up.stabilization_window_seconds == 0
    assert spec.behavior.scale_up.select_policy == "Max"
    assert spec.behavior.scale_down == DEFAULT_SCALE_DOWN_RULES
    assert DEFAULT_SCALE_UP_RULES.policies[0] == ScalingPolicy(POLICY_PODS, 4, 15)


def test_pod_request_counts_restartable_init_containers__mirrors_TestCalculatePodRequests() -> None:
    spec = {
        "containers": [{"name": "c1", "resources": {"requests": {"cpu": "100m"}}}],
        "initContainers": [
            {"name": "init", "resources": {"requests": {"cpu": "20m"}}},
            {"name": "sidecar", "restartPolicy": "Always",
             "resources": {"requests": {"cpu": "50m"}}},
        ],
    }  # fmt: skip
    assert pod_cpu_request_milli(spec) == 150
    assert pod_cpu_request_milli({"containers": [{"name": "c1"}]}) is None
