"""Benchmark: `gitops validate DIR` vs kubernetes_validate.validate() over the same documents.

Target: ours >= 20x faster. Both are measured in this one run, interleaved, as whole processes
(startup and YAML parsing included); the median of N rounds is printed with the ratio. Ours is
timed with a warm schema cache (the normal case) and once with an empty one (first run on CI).

    $ .venv/bin/python tools/bench/bench_validate.py --rounds 3 --documents 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

TARGET_RATIO = 20.0
DOCUMENTS_PER_FILE = 50

# kubernetes_validate picks its schemas per document; this is the loop `kubernetes-validate FILE`
# runs, minus its printing.
_BASELINE = """
import pathlib, sys, yaml, kubernetes_validate
failures = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
        if doc:
            try:
                kubernetes_validate.validate(doc, "1.33", strict=True)
            except kubernetes_validate.ValidationError:
                failures += 1
sys.exit(1 if failures else 0)
"""

# Until `gitops validate` is wired into the CLI, the same library call through python -c.
_OURS_FALLBACK = """
import sys
from pathlib import Path
from typing import Any
from gitops.config import RepoConfig
from gitops.validate import format_text, run_validate
result = run_validate([sys.argv[1]], None, RepoConfig(kubernetes_version="1.33"), None)
sys.stdout.write(format_text(result))
sys.exit(0 if result.ok else 1)
"""


def service_documents(index: int) -> list[dict[str, Any]]:
    """One service's rendered objects, shaped like this repository's overlays."""
    name = f"svc-{index:04d}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "integration"}
    meta = {"name": name, "namespace": "integration", "labels": labels}
    container = {
        "name": "app",
        "image": f"registry.example.org/{name}:1.{index % 17}.{index % 5}",
        "ports": [{"name": "http", "containerPort": 8080 + index % 3, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "SERVICE", "value": name}],
        "resources": {
            "requests": {"cpu": f"{50 + index % 200}m", "memory": f"{64 + index % 256}Mi"},
            "limits": {"cpu": 1 + index % 2, "memory": "512Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 2 + index % 3,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 6 + index % 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta,
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        },
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {**meta, "name": f"{name}-config"},
        "data": {"LOG_FORMAT": "json", "FEATURE_X": str(index % 2 == 0).lower()},
    }
    return [deployment, service, hpa, pdb, config_map]


def write_documents(folder: Path, count: int) -> int:
    documents: list[dict[str, Any]] = []
    index = 0
    while len(documents) < count:
        documents += service_documents(index)
        index += 1
    for start in range(0, len(documents), DOCUMENTS_PER_FILE):
        chunk = documents[start : start + DOCUMENTS_PER_FILE]
        path = folder / f"rendered-{start // DOCUMENTS_PER_FILE:03d}.yaml"
        path.write_text(yaml.safe_dump_all(chunk, sort_keys=False), encoding="utf-8")
    return len(documents)


def cli_is_wired() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "gitops.cli", "validate", "--help"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"{argv[:4]} exited {completed.returncode}:\n{completed.stdout}{completed.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        folder = Path(tmp) / "rendered"
        folder.mkdir()
        count = write_documents(folder, args.documents)
        cache = Path(tmp) / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        if cli_is_wired():
            ours = [sys.executable, "-m", "gitops.cli", "validate", str(folder)]
        else:
            print("(gitops validate is not wired into the CLI yet: timing run_validate via -c)")
            ours = [sys.executable, "-c", _OURS_FALLBACK, str(folder)]
        baseline = [sys.executable, "-c", _BASELINE, str(folder)]
        print(f"{count} documents in {len(list(folder.iterdir()))} files")
        cold = timed(ours, env)  # fills the cache
        print(f"ours, empty schema cache: {cold:.2f}s")
        times: dict[str, list[float]] = {"ours": [], "kubernetes_validate": []}
        runs: dict[str, Callable[[], float]] = {
            "ours": lambda: timed(ours, env),
            "kubernetes_validate": lambda: timed(baseline, env),
        }
        for round_no in range(1, args.rounds + 1):
            for name, run in runs.items():
                times[name].append(run())
            print(
                f"round {round_no}: ours {times['ours'][-1]:.2f}s, "
                f"kubernetes_validate {times['kubernetes_validate'][-1]:.2f}s"
            )
    ours_median = statistics.median(times["ours"])
    base_median = statistics.median(times["kubernetes_validate"])
    ratio = base_median / ours_median
    print(
        f"median of {args.rounds}: ours {ours_median:.2f}s "
        f"({ours_median / count * 1e3:.2f} ms/doc), kubernetes_validate {base_median:.2f}s "
        f"({base_median / count * 1e3:.2f} ms/doc): {ratio:.1f}x faster "
        f"(target >= {TARGET_RATIO:g}x: {'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
