"""``gitops.simulate.sources``: the HPA a simulation starts from, found in a rendered overlay,
with its target workload's pod CPU request."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gitops.cli import main
from gitops.config import load_config
from gitops.discovery import SelectionError
from gitops.k8s.features import FeatureGates
from gitops.simulate.scenario import ScenarioError
from gitops.simulate.sources import find_hpa, rendered_objects, repo_hpa_resolver, target_workload
from gitops.workspace import Workspace
from tests.conftest import FIXTURES, REPO_ROOT


def _hpa(name: str, target_kind: str = "Deployment", api: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": api, "kind": target_kind, "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 6,
        },
    }


WEB: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {"name": "web", "resources": {"requests": {"cpu": "150m"}}},
                    {"name": "log", "resources": {"requests": {"cpu": "50m"}}},
                ]
            }
        }
    },
}


def test_find_hpa_returns_it_with_the_targets_pod_cpu_request() -> None:
    hpa, request, origin = find_hpa([WEB, _hpa("web")], "overlays/prod/web", None)
    assert hpa["metadata"]["name"] == "web"
    assert request == 200  # every container's request adds up
    assert origin == "overlays/prod/web (HorizontalPodAutoscaler web)"


def test_find_hpa_names_what_is_missing_or_ambiguous() -> None:
    with pytest.raises(ScenarioError, match=r"overlays/x: no HorizontalPodAutoscaler in the"):
        find_hpa([WEB], "overlays/x", None)
    with pytest.raises(ScenarioError, match=r"several HPAs \(a, b\); set hpa.name"):
        find_hpa([WEB, _hpa("a"), _hpa("b")], "overlays/x", None)
    assert find_hpa([WEB, _hpa("a"), _hpa("b")], "overlays/x", "b")[0]["metadata"]["name"] == "b"
    with pytest.raises(ScenarioError, match="no HorizontalPodAutoscaler named 'c'"):
        find_hpa([WEB, _hpa("a")], "overlays/x", "c")


def test_the_target_is_matched_by_group_kind_and_name() -> None:
    assert target_workload([WEB], _hpa("web")) is WEB
    assert target_workload([WEB], _hpa("web", api="extensions/v1beta1")) is None
    assert target_workload([WEB], _hpa("web", target_kind="StatefulSet")) is None
    # No target in the overlay: the HPA still comes back, without a request.
    assert find_hpa([_hpa("web", target_kind="StatefulSet")], "o", None)[1] is None


def test_the_resolver_renders_the_real_overlay() -> None:
    config = load_config(REPO_ROOT)
    hpa, request, origin = repo_hpa_resolver(Workspace.open(REPO_ROOT, config))(
        "prod", "healthz", None
    )
    assert hpa["kind"] == "HorizontalPodAutoscaler"
    assert request is not None and request > 0
    assert origin.startswith("overlays/prod/healthz (HorizontalPodAutoscaler ")


def test_rendering_outside_a_repo_or_an_unknown_overlay_is_one_error(tmp_path: Path) -> None:
    config = load_config(REPO_ROOT)
    with pytest.raises(ScenarioError, match="no overlays/ here to render prod/web"):
        rendered_objects(Workspace.open(tmp_path, config), "prod", "web")
    with pytest.raises(SelectionError, match="unknown service 'nope': overlays exist for"):
        rendered_objects(Workspace.open(REPO_ROOT, config), "prod", "nope")


def test_find_hpa_measures_what_the_hpa_measures() -> None:
    """calculateRequests: a ContainerResource metric's container; pod-level requests with the
    PodLevelResources gate (on by default at 1.36, off at 1.33)."""
    container_hpa = _hpa("web")
    container_hpa["spec"]["metrics"] = [{"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "log", "target": {"type": "Utilization",
                                                      "averageUtilization": 50}}}]  # fmt: skip
    assert find_hpa([WEB, container_hpa], "o", None)[1] == 50
    pod_level = copy.deepcopy(WEB)
    pod_level["spec"]["template"]["spec"]["resources"] = {"requests": {"cpu": "1"}}
    assert find_hpa([pod_level, _hpa("web")], "o", None)[1] == 1000
    assert find_hpa([pod_level, _hpa("web")], "o", None, FeatureGates(33))[1] == 200
    # A named container beats the pod-level request.
    assert find_hpa([pod_level, container_hpa], "o", None)[1] == 50


def test_an_hpa_a_chart_renders_is_simulated_from_the_chart(
    tmp_path: Path, pinned_helm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prod/web is an Argo CD chart source: its HPA comes from helm template of the chart, with
    the Application's value files (values-prod.yaml enables it), and drives a scenario."""
    repo = FIXTURES / "helm-chart"
    hpa, request, origin = repo_hpa_resolver(Workspace.open(repo, load_config(repo)))(
        "prod", "web", None
    )
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert request == 100  # the chart's resources.requests.cpu, per pod
    assert origin == "charts/web (Argo CD Application prod-web) (HorizontalPodAutoscaler web)"
    scenario = tmp_path / "peak.yaml"
    scenario.write_text(
        "hpa: {env: prod, service: web}\nstart: {replicas: 3}\n"
        "load:\n  totalCPU:\n    - {at: 0, value: 900m}\ndurationSeconds: 300\n"
    )
    assert main(["simulate", str(scenario), "--repo", str(repo), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert max(step["replicas"] for step in report["timeline"]) > 3  # 900m over 300m pods, 70%
