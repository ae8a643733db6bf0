"""What a failed e2e test leaves in e2e-artifacts/ for CI to upload: events, pod
descriptions and logs (current and previous container), HPA/PDB/Application state.

Plain kubectl commands (the client may be what broke), one file per command, in a folder per
test. Pure planning here; conftest.py runs the plan and never lets a dump failure hide the
test's own failure.

    >>> [d.filename for d in dump_plan(kubectl, env, ["integration"], pods)][:2]
    ['events-all-namespaces.txt', 'nodes.txt']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops.runner import Command

ARTIFACTS_DIR_NAME = "e2e-artifacts"


@dataclass(frozen=True)
class Dump:
    filename: str
    command: Command


def artifact_dir(root: Path, nodeid: str) -> Path:
    """``tests/e2e/test_pdb.py::test_drain[x]`` -> ``<root>/test_pdb.py__test_drain_x_``."""
    name = nodeid.split("/")[-1].replace("::", "__")
    return root / re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def dump_plan(
    kubectl: str,
    env: Mapping[str, str],
    namespaces: Iterable[str],
    pods: Iterable[tuple[str, str]],
) -> list[Dump]:
    """``pods`` are (namespace, name) pairs; logs are taken for all their containers."""

    def cmd(*args: str) -> Command:
        # ok_codes: `logs --previous` of a container that never restarted exits 1; keep going.
        return Command((kubectl, *args), timeout=60, env=env, ok_codes=frozenset({0, 1}))

    plan = [
        Dump(
            "events-all-namespaces.txt",
            cmd("get", "events", "--all-namespaces", "--sort-by=.lastTimestamp", "-o", "wide"),
        ),
        Dump("nodes.txt", cmd("describe", "nodes")),
        Dump("pods-all-namespaces.txt", cmd("get", "pods", "--all-namespaces", "-o", "wide")),
    ]
    for namespace in namespaces:
        plan += [
            Dump(f"{namespace}-describe-pods.txt", cmd("describe", "pods", "-n", namespace)),
            Dump(
                f"{namespace}-workloads.yaml",
                cmd(
                    "get",
                    "deployments,replicasets,jobs,hpa,pdb,services,endpointslices",
                    "-n",
                    namespace,
                    "-o",
                    "yaml",
                ),
            ),
        ]
    for namespace, pod in pods:
        for previous in (False, True):
            suffix = "-previous" if previous else ""
            args = ["logs", "-n", namespace, pod, "--all-containers", "--timestamps"]
            plan.append(
                Dump(
                    f"logs-{namespace}-{pod}{suffix}.txt",
                    cmd(*args, *(["--previous"] if previous else [])),
                )
            )
    return plan


ARGOCD_EXTRA = (
    "applications.argoproj.io",
    "applicationsets.argoproj.io",
    "appprojects.argoproj.io",
)


def argocd_plan(kubectl: str, env: Mapping[str, str]) -> list[Dump]:
    return [
        Dump(
            "argocd-objects.yaml",
            Command(
                (kubectl, "get", ",".join(ARGOCD_EXTRA), "-n", "argocd", "-o", "yaml"),
                timeout=60,
                env=env,
                ok_codes=frozenset({0, 1}),
            ),
        )
    ]
