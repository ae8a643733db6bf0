"""The HPA with real CPU (issue 20 item 4): staging healthz's rendered HPA, with the e2e
Component's 30 s scale-down window, driven by real HTTP load through its Service (the e2e load
generator, as many blocking clients as expectations.load_plan sizes for it). The real pods'
CPU, measured by each kubelet and served by metrics-server, scales it to maxReplicas with
ScalingLimited=TooManyReplicas, and back to minReplicas once the load stops.

The replica timeline is recorded exactly as the cluster tier records KWOK's (tests/cluster/
hpa_scenario.py: spec/Ready/desired replicas, lastScaleTime, each pod's CPU as the metrics API
served it, each new pod's creation/start/Ready/first-metrics times) and compared with
`gitops simulate` on the same inputs by the same code (tests/cluster/hpa_compare.py): every
real replica change must be the simulated value, in the same order, at the same sync. The
recording is kept as node-artifacts/hpa-timeline-real.json.

Staging, not prod: its four pods and the load generator fit on this 2-core machine beside the
control plane; prod's ten would not, and the load would measure the machine, not the HPA.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from gitops import k8s_math
from gitops.simulate.compare import go_duration
from tests.cluster.harness import CONTROLLER_MANAGER_ARGS, METRICS_SERVER_ARGS
from tests.cluster.hpa_compare import compare_record, side_by_side
from tests.cluster.hpa_record import HpaRecord, LoadStep
from tests.cluster.hpa_scenario import E2E_COMPONENT_PATCH, _sample, _served_cpu
from tests.cluster.kube import Kube, is_ready
from tests.cluster.kube import wait_for as kube_wait_for
from tests.cluster.workloads import (
    apply_all,
    create_namespace,
    delete_namespace,
    in_namespace,
    match_labels,
    of_kind,
    rendered,
    wait_deployment_ready,
)
from tests.e2e.harness.expectations import HpaBounds, load_plan
from tests.node.harness import REPO_ROOT, NodeTier

pytestmark = pytest.mark.node

NAMESPACE = "hpa-real"
ENV = "staging"
LOAD_DIR = REPO_ROOT / "tests" / "e2e" / "manifests" / "load-generator"
RECORDING = REPO_ROOT / "node-artifacts" / "hpa-timeline-real.json"


def load_generator(image: str, clients: int) -> list[dict[str, Any]]:
    """The e2e load generator (its Deployment and script) aimed at this namespace's healthz."""
    deployment = yaml.safe_load((LOAD_DIR / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = image
    container["env"] = [
        {
            "name": "TARGET_URL",
            "value": f"http://healthz.{NAMESPACE}.svc.cluster.local:8080/health",
        },
        {"name": "THREADS", "value": str(clients)},
    ]
    volume = deployment["spec"]["template"]["spec"]["volumes"][0]
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": volume["configMap"]["name"]},
        "data": {"load.py": (LOAD_DIR / "load.py").read_text()},
    }
    return [config, deployment]


def test_hpa_scales_on_real_cpu_as_gitops_simulate_predicts(node_tier: NodeTier) -> None:
    """Long because it is one scenario: set up, load, release, record, compare."""
    kube = Kube(node_tier.kubeconfig)
    images = node_tier.image_references()
    docs = in_namespace(rendered(ENV, "healthz"), NAMESPACE)
    deployment = of_kind(docs, "Deployment")[0]
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = images["healthz"]
    patch = yaml.safe_load(E2E_COMPONENT_PATCH.read_text())
    hpa["spec"].setdefault("behavior", {}).update(patch["spec"]["behavior"])
    bounds = HpaBounds.from_hpa(hpa)
    low, high = bounds.min_replicas, bounds.max_replicas
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    plan = load_plan(bounds, container)
    assert plan.exceeds_max, f"the load must ask for more than maxReplicas: {plan}"
    request = k8s_math.milli_value(container["resources"]["requests"]["cpu"])
    name, selector = deployment["metadata"]["name"], match_labels(deployment)
    names = (hpa["metadata"]["name"], name)
    record = HpaRecord(hpa["spec"], request, dict(CONTROLLER_MANAGER_ARGS))
    record.metrics_resolution = go_duration(METRICS_SERVER_ARGS["metric-resolution"])
    loader = load_generator(images["healthz"], plan.clients)

    def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
        return kube_wait_for(what, check, timeout, 1.0)

    delete_namespace(kube, NAMESPACE)
    create_namespace(kube, NAMESPACE)
    try:
        assert apply_all(kube, [*docs, *in_namespace(loader, NAMESPACE)], NAMESPACE) == []
        wait_for(
            f"the HPA to hold {name} at minReplicas {low}",
            lambda: kube.apps.read_namespaced_deployment(name, NAMESPACE).spec.replicas == low,
            timeout=90,
        )
        wait_deployment_ready(kube, NAMESPACE, name)
        wait_for(
            f"the metrics API serving all {low} pods",
            lambda: len(_served_cpu(kube, selector, NAMESPACE)) == low,
            timeout=90,
        )
        start, record.start_unix = time.monotonic(), time.time()
        kube.apps.patch_namespaced_deployment_scale(
            "healthz-load", NAMESPACE, {"spec": {"replicas": 1}}
        )
        record.load.append(LoadStep(0.0, f"http: {plan.clients} clients"))

        def at_max_and_limited() -> bool:
            s = _sample(kube, names, selector, record, time.monotonic() - start, NAMESPACE)
            return s.spec_replicas == high and s.scaling_limited == "TooManyReplicas"

        wait_for("scale-up to maxReplicas, limited", at_max_and_limited, timeout=240)
        stopped = time.monotonic() - start
        kube.apps.patch_namespaced_deployment_scale(
            "healthz-load", NAMESPACE, {"spec": {"replicas": 0}}
        )
        record.load.append(LoadStep(round(stopped, 2), "idle"))

        def back_at_min() -> bool:
            s = _sample(kube, names, selector, record, time.monotonic() - start, NAMESPACE)
            return s.spec_replicas == low

        wait_for("scale-down to minReplicas", back_at_min, timeout=300)
        wait_for(
            f"{low} pods left",
            lambda: [is_ready(p) for p in kube.pods(NAMESPACE, selector)] == [True] * low,
            timeout=120,
        )
    finally:
        record.dump(RECORDING)
        delete_namespace(kube, NAMESPACE, wait=False)

    samples = record.samples
    assert max(s.spec_replicas for s in samples) == high, "never past maxReplicas"
    up = [s for s in samples if s.t <= stopped]
    assert all(a.spec_replicas <= b.spec_replicas for a, b in itertools.pairwise(up))
    first_down = next(s for s in samples if s.t > stopped and s.spec_replicas < high)
    window = hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    assert first_down.t - stopped >= window, (first_down, stopped, window)
    assert max(max(s.served_cpu.values(), default=0) for s in samples) > request, (
        "the pods never used more CPU than they request: the load was not real"
    )
    comparison = compare_record(record)
    assert comparison.matches, (
        "the real HPA controller on real CPU and gitops.simulate disagree:\n"
        + side_by_side(record, comparison)
    )
