"""What ``gitops simulate`` does, for the thin CLI: load, run, format, plot.

>>> run_scenario(Path("examples/simulate/healthz-step.yaml"), "text", None, resolver)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from gitops import k8s_math
from gitops.discovery import select_overlays
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, GitopsError
from gitops.simulate.drain import drain_nodes, workloads_from_objects
from gitops.simulate.engine import Timeline, simulate
from gitops.simulate.plot import write_plot
from gitops.simulate.report import FORMATTERS
from gitops.simulate.rollout import deployment_rollout
from gitops.simulate.scenario import HPAResolver, load_scenario
from gitops.simulate.sources import objects_of_kind, rendered_objects
from gitops.workspace import Workspace


def run_scenario(
    path: Path, output_format: str, plot: Path | None, resolver: HPAResolver | None
) -> tuple[str, Timeline]:
    """The formatted report of the scenario at ``path`` (and its plot, when asked for)."""
    scenario = load_scenario(path, resolver)
    timeline = simulate(scenario)
    if plot is not None:
        write_plot(timeline, plot)
    return FORMATTERS[output_format](timeline), timeline


def _overlays(workspace: Workspace, env: str | None, service: str | None) -> list[str]:
    if env is None:
        raise GitopsError("simulate drain/rollout: --env is required")
    overlays = select_overlays(workspace.layout(), workspace.config, env, service)
    return sorted({o.service for o in overlays})


# Over six parameters: the docstring says why (one per option, no hidden state).
def run_drain(  # noqa: PLR0913
    workspace: Workspace,
    env: str | None,
    service: str | None,
    nodes: int,
    zones: int,
    output_format: str,
    ready_seconds: float = 20.0,
) -> tuple[str, int]:
    """Drain every node of a ``nodes``-node cluster holding the env's workloads; exit 1 when
    a drain cannot complete. Seven parameters: the workspace and ``gitops simulate drain``'s
    options, one each."""
    if nodes < 1 or zones < 1:
        raise GitopsError("simulate drain: --nodes and --zones must be at least 1")
    if ready_seconds < 0:
        raise GitopsError("simulate drain: --ready-seconds must not be negative")
    workloads = []
    for name in _overlays(workspace, env, service):
        objects, _origin = rendered_objects(workspace, str(env), name)
        workloads += workloads_from_objects(objects)
    report = drain_nodes(workloads, nodes, zones, ready_seconds)
    code = EXIT_OK if report.completed else EXIT_PROBLEMS
    if output_format == "json":
        document = {
            "env": env, "nodes": nodes, "zones": zones, "completed": report.completed,
            "placement": {k: list(v) for k, v in report.placement.items()},
            "drains": [n.to_json() for n in report.nodes],
        }  # fmt: skip
        return json.dumps(document, indent=2) + "\n", code
    header = ("node", "pods", "drained", "seconds", "waited on PDB", "below full Ready (min)",
              "blocked by")  # fmt: skip
    rows = [
        (
            n.node, str(n.pods), "yes" if n.completed else "NO", f"{n.seconds:.0f}",
            f"{n.waited_on_pdb:.0f} s",
            ", ".join(
                f"{k} {v}/{_replicas(report, k)}"
                for k, v in sorted(n.min_ready.items())
                if v < _replicas(report, k)
            ) or "all",
            ", ".join(n.blocked_by) or "-",
        )
        for n in report.nodes
    ]  # fmt: skip
    title = f"drain {env}: {len(workloads)} workloads on {nodes} nodes in {min(zones, nodes)} zones"
    return _table(title, header, rows, output_format), code


def _replicas(report: object, name: str) -> int:
    workloads = getattr(report, "workloads", ())
    return next((w.replicas for w in workloads if w.name == name), 0)


def run_rollout(
    workspace: Workspace,
    env: str | None,
    service: str | None,
    output_format: str,
    ready_seconds: float = 20.0,
) -> tuple[str, int]:
    """The rolling-update timeline of every Deployment of the env (or one service)."""
    plans = []
    for name in _overlays(workspace, env, service):
        objects, origin = rendered_objects(workspace, str(env), name)
        hpas = objects_of_kind(objects, "HorizontalPodAutoscaler")
        for deployment in objects_of_kind(objects, "Deployment"):
            replicas = k8s_math.min_replicas(deployment, hpas)
            deployment_name = str((deployment.get("metadata") or {}).get("name"))
            where = f"{origin} (Deployment {deployment_name})"
            plans.append(
                (deployment_name, deployment_rollout(deployment, replicas, ready_seconds, where))
            )
    if output_format == "json":
        document = [
            {"deployment": n, "strategy": p.strategy, "replicas": p.replicas, "surge": p.surge,
             "unavailable": p.unavailable, "seconds": p.duration,
             "steps": [s.to_json() for s in p.steps]}
            for n, p in plans
        ]  # fmt: skip
        return json.dumps(document, indent=2) + "\n", EXIT_OK
    header = (
        "deployment",
        "replicas",
        "surge",
        "unavailable",
        "min available",
        "max pods",
        "seconds",
        "timeline (old/new/available)",
    )
    rows = [
        (n if p.strategy == "RollingUpdate" else f"{n} (Recreate)", str(p.replicas),
         f"+{p.surge}", f"-{p.unavailable}", str(p.min_available),
         str(p.max_total), f"{p.duration:.0f}",
         " ".join(f"{s.old}/{s.new}/{s.available}" for s in p.steps))
        for n, p in plans
    ]  # fmt: skip
    return _table(f"rollout {env}", header, rows, output_format), EXIT_OK


def _table(
    title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], output_format: str
) -> str:
    if output_format == "markdown":
        lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines) + "\n"
