"""What ``gitops simulate`` does, for the thin CLI: load, run, format, plot.

>>> run_scenario(Path("examples/simulate/healthz-step.yaml"), "text", None, resolver)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitops import k8s_math
from gitops.config import DEFAULT_KUBERNETES_VERSION
from gitops.discovery import select_overlays
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, GitopsError
from gitops.simulate.drain import DrainReport, drain_nodes, workloads_from_objects
from gitops.simulate.engine import Timeline, simulate
from gitops.simulate.plot import write_drain_plot, write_plot, write_rollout_plot
from gitops.simulate.report import FORMATTERS
from gitops.simulate.rollout import deployment_rollout
from gitops.simulate.scenario import HPAResolver, load_scenario
from gitops.simulate.sources import objects_of_kind, rendered_objects
from gitops.workspace import Workspace


def run_scenario(
    path: Path,
    output_format: str,
    plot: Path | None,
    resolver: HPAResolver | None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
) -> tuple[str, Timeline]:
    """The formatted report of the scenario at ``path`` (and its plot, when asked for); the
    controller's feature gates are those of ``kubernetes_version`` (the repository's target)."""
    scenario = load_scenario(path, resolver, kubernetes_version)
    timeline = simulate(scenario)
    if plot is not None:
        write_plot(timeline, plot)
    return FORMATTERS[output_format](timeline), timeline


# Which options each form of ``gitops simulate`` reads (the CLI rejects the others).
OPTIONS = {
    "scenario": ("--format", "--plot"),
    "drain": ("--format", "--plot", "--env", "--service", "--nodes", "--zones", "--ready-seconds"),
    "rollout": ("--format", "--plot", "--env", "--service", "--ready-seconds"),
}


def check_options(form: str, given: Sequence[str]) -> None:
    """A GitopsError naming the first option in ``given`` that ``form`` does not read."""
    for option in given:
        if option not in OPTIONS[form]:
            what = "a scenario file" if form == "scenario" else f"simulate {form}"
            raise GitopsError(
                f"simulate: {option} does not apply to {what} (it takes {', '.join(OPTIONS[form])})"
            )


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
    plot: Path | None = None,
) -> tuple[str, int]:
    """Drain every node of a ``nodes``-node cluster holding the env's workloads; exit 1 when
    a drain cannot complete. Eight parameters: the workspace and ``gitops simulate drain``'s
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
    title = f"drain {env}: {len(workloads)} workloads on {nodes} nodes in {min(zones, nodes)} zones"
    if plot is not None:
        done = sum(1 for n in report.nodes if n.completed)
        write_drain_plot(report, plot, f"{title} ({done} of {len(report.nodes)} drains complete)")
    return format_drain(report, title, output_format, {"env": env, "zones": zones}), code


def format_drain(
    report: DrainReport, title: str, output_format: str, context: Mapping[str, object]
) -> str:
    """``simulate drain``'s report: JSON (``context`` adds env and zones), a markdown table, or
    a text table of at most :data:`TABLE_WIDTH` columns. "below full Ready" lists the workloads
    that dropped below their replicas during a drain, or says ``none``."""
    if output_format == "json":
        document = {
            "env": context.get("env"), "nodes": len(report.nodes), "zones": context.get("zones"),
            "completed": report.completed,
            "placement": {k: list(v) for k, v in report.placement.items()},
            "drains": [n.to_json() for n in report.nodes],
        }  # fmt: skip
        return json.dumps(document, indent=2) + "\n"
    header = ("node", "pods", "drained", "seconds", "waited on PDB", "blocked by",
              "below full Ready (min)")  # fmt: skip
    rows = [
        (
            (n.node,), (str(n.pods),), ("yes" if n.completed else "NO",), (f"{n.seconds:.0f}",),
            (f"{n.waited_on_pdb:.0f} s",), tuple(n.blocked_by) or ("-",),
            tuple(
                f"{k} {v}/{_replicas(report, k)}"
                for k, v in sorted(n.min_ready.items())
                if v < _replicas(report, k)
            ) or ("none",),
        )
        for n in report.nodes
    ]  # fmt: skip
    if output_format == "markdown":
        flat = [tuple(", ".join(cell) for cell in row) for row in rows]
        return _table(title, header, flat, output_format)
    return _wrapped_table(title, header, rows)


TABLE_WIDTH = 120


def _wrapped_table(
    title: str, header: tuple[str, ...], rows: Sequence[tuple[tuple[str, ...], ...]]
) -> str:
    """A text table no wider than :data:`TABLE_WIDTH`: a cell holds a list (workloads); a row
    whose lists do not fit on one line takes one line per item, the other cells blank."""
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], *(len(item) for item in cell))
    last = max(len(header[-1]), TABLE_WIDTH - 2 - sum(w + 2 for w in widths[:-1]))
    lines = [title, _line(header, widths[:-1])]
    for row in rows:
        fits = all(len(", ".join(cell)) <= (last if i == len(row) - 1 else widths[i])
                   for i, cell in enumerate(row))  # fmt: skip
        if fits:
            lines.append(_line(tuple(", ".join(cell) for cell in row), widths[:-1]))
            continue
        for index in range(max(len(cell) for cell in row)):
            cells = tuple(
                (cell[index] + ("," if index < len(cell) - 1 else "")) if index < len(cell) else ""
                for cell in row
            )
            lines.append(_line(cells, widths[:-1]))
    return "\n".join(lines) + "\n"


def _line(cells: tuple[str, ...], widths: Sequence[int]) -> str:
    padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True)]
    return ("  " + "  ".join([*padded, cells[-1]])).rstrip()


def _replicas(report: object, name: str) -> int:
    workloads = getattr(report, "workloads", ())
    return next((w.replicas for w in workloads if w.name == name), 0)


# Over six parameters: the docstring says why (one per option, no hidden state).
def run_rollout(
    workspace: Workspace,
    env: str | None,
    service: str | None,
    output_format: str,
    ready_seconds: float = 20.0,
    plot: Path | None = None,
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
    if plot is not None:
        below = [n for n, p in plans if p.min_available < p.replicas - p.unavailable]
        count = f"{len(plans)} Deployment{'' if len(plans) == 1 else 's'}"
        verdict = f"{', '.join(below)} below the floor" if below else "never below the floor"
        write_rollout_plot(plans, plot, f"rollout {env}: {count}, {verdict}")
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
