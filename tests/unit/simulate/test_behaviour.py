"""The Behaviour section of ``gitops diff``: base and head simulated side by side, on scratch
git repos rendered with the real kustomize."""

from __future__ import annotations

import io
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from gitops.diff import DiffOptions, diff_command
from gitops.simulate.behaviour import touches_behaviour
from tests.unit.diff.scratch import (
    DEPLOYMENT,
    LAYOUT,
    commit,
    git,
    overlay_kustomization,
    workspace_of,
    write,
)

WITH_REQUESTS = DEPLOYMENT.replace(
    "          image: nginx:1.27\n",
    "          image: nginx:1.27\n          resources:\n            requests: {cpu: 100m}\n",
)


def hpa(max_replicas: int) -> str:
    return (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata:\n  name: web\n  namespace: demo\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
        f"  minReplicas: 2\n  maxReplicas: {max_replicas}\n  metrics:\n"
        "    - type: Resource\n      resource:\n        name: cpu\n"
        "        target: {type: Utilization, averageUtilization: 50}\n"
    )


PDB = (
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"
    "metadata:\n  name: web\n  namespace: demo\n"
    "spec:\n  minAvailable: 1\n  selector:\n    matchLabels: {app: web}\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    files: dict[str, str | None] = dict(LAYOUT)
    files["base/web/deployment.yaml"] = WITH_REQUESTS
    files["overlays/prod/web/kustomization.yaml"] = overlay_kustomization(
        "replicas.yaml", resources=("hpa.yaml", "pdb.yaml")
    )
    files["overlays/prod/web/hpa.yaml"] = hpa(10)
    files["overlays/prod/web/pdb.yaml"] = PDB
    write(root, files)
    commit(root, "initial layout with an HPA")
    return root


def test_hpa_change_gets_a_side_by_side_section_and_a_plot(repo: Path, tmp_path: Path) -> None:
    write(repo, {"overlays/prod/web/hpa.yaml": hpa(4)})
    status = git(repo, "status", "--porcelain")
    out = io.StringIO()
    plots = tmp_path / "plots"
    options = DiffOptions(base="HEAD", format="markdown", plot_dir=plots)
    assert diff_command(workspace_of(repo), options, out) == 0
    text = out.getvalue()
    assert "\n#### Behaviour\n" in text and "\n##### prod/web\n" in text
    assert_headings_nest(text)
    # 2 pods at 50 % of 100m is 100m; 3x is 300m = 6 pods' worth: base reaches 6, head stops
    # at its new maxReplicas 4 and stays saturated there.
    assert "| HPA | 2..10 at 50 % | 2..4 at 50 % |" in text
    assert "| step: peak replicas | 6 | 4 |" in text
    assert "| step: saturated at max | 0 s | 900 s |" in text
    assert "| drain: completes | 3/3 nodes | 3/3 nodes |" in text
    plot = plots / "prod-web-step.png"
    assert plot.read_bytes().startswith(b"\x89PNG") and f"Plot: `{plot}`" in text
    assert git(repo, "status", "--porcelain") == status  # nothing written into the repo


def test_json_and_text_carry_the_section(repo: Path) -> None:
    write(repo, {"overlays/prod/web/pdb.yaml": PDB.replace("minAvailable: 1", "minAvailable: 2")})
    out = io.StringIO()
    assert diff_command(workspace_of(repo), DiffOptions(base="HEAD", format="json"), out) == 0
    (section,) = json.loads(out.getvalue())["behaviour"]
    assert section["overlay"] == "prod/web"
    # minAvailable 2 of 2 replicas (the HPA minimum): on head neither node holding a pod can
    # be drained; the third node is empty.
    assert [d["completed"] for d in section["base"]["drain"]] == [True, True, True]
    assert [d["completed"] for d in section["head"]["drain"]] == [False, False, True]
    assert section["head"]["drain"][0]["blockedBy"] == ["web"]
    text = io.StringIO()
    diff_command(workspace_of(repo), DiffOptions(base="HEAD"), text)
    assert "Behaviour (simulated" in text.getvalue()
    assert "drain: completes" in text.getvalue() and "1/3 nodes" in text.getvalue()


def test_unrelated_change_has_no_section(repo: Path) -> None:
    write(repo, {"base/web/configmap.yaml": LAYOUT["base/web/configmap.yaml"].replace(
        "info", "debug")})  # fmt: skip
    out = io.StringIO()
    diff_command(workspace_of(repo), DiffOptions(base="HEAD", format="markdown"), out)
    assert "Behaviour" not in out.getvalue()


def test_touches_behaviour_watches_scaling_inputs() -> None:
    deployment: dict[str, Any] = {
        "kind": "Deployment",
        "metadata": {"name": "w"},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}},
        },
    }
    other: dict[str, Any] = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    assert not touches_behaviour([deployment, other], [deployment, dict(other, data={"a": "2"})])
    cheaper = json.loads(json.dumps(deployment).replace('"1"', '"500m"'))
    assert touches_behaviour([deployment], [cheaper])
    assert touches_behaviour([deployment], [dict(deployment, spec=dict(deployment["spec"],
        strategy={"type": "Recreate"}))])  # fmt: skip


def test_strategy_change_shows_the_rollout(repo: Path) -> None:
    strategy = (
        "  strategy:\n    type: RollingUpdate\n"
        "    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}\n"
    )
    deployment = WITH_REQUESTS.replace(
        "spec:\n  replicas: 1\n", "spec:\n  replicas: 1\n" + strategy
    )
    write(repo, {"base/web/deployment.yaml": deployment})
    out = io.StringIO()
    diff_command(workspace_of(repo), DiffOptions(base="HEAD", format="markdown"), out)
    # 2 replicas (the HPA minimum): the 25 % defaults surge one pod and keep both available
    # (2..3 pods); maxSurge 0 with maxUnavailable 1 runs one pod short instead (1..2 pods).
    row = "| rollout: available..total pods, time | web: 2..3 pods, 40 s | web: 1..2 pods, 40 s |"
    assert row in out.getvalue()


def assert_headings_nest(markdown: str) -> None:
    """The comment's headings, outside code fences, start at its title's level and never skip
    a level going deeper nor rise above the title (it once went from #### to ##)."""
    levels: list[int] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#+) ", line)):
            levels.append(len(match.group(1)))
    assert levels, "no heading"
    for previous, level in itertools.pairwise(levels):
        assert levels[0] < level <= previous + 1, levels
