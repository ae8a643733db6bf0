"""The "Behaviour" section of ``gitops diff``: standard scenarios on base and head, side by side.

When a change touches an HPA, a PDB, or a workload's replicas, strategy or CPU requests, the
overlay's two sides are simulated under the same standard scenarios:

* **step**: the base side's on-target load at minReplicas (minReplicas x request x target),
  stepped to 3x at one minute, back after 15 minutes, 40 minutes in all; head gets the same
  load (so a smaller request or a lower target shows up as more pods);
* **drain**: every node of a 3-node, 3-zone cluster drained in turn (see
  :mod:`gitops.simulate.drain`);
* **rollout**: each Deployment's rolling update at its steady-state replicas, pods Ready 20 s
  after creation (see :mod:`gitops.simulate.rollout`).

    >>> sections = behaviour_sections(objects_by_overlay, plot_dir=Path("plots"))
    >>> print(format_markdown(sections))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops import k8s_math
from gitops.k8s import pod_spec_of, spec_containers
from gitops.simulate.drain import DrainReport, drain_nodes, workloads_from_objects
from gitops.simulate.engine import Timeline, simulate
from gitops.simulate.replicas import ControllerSettings
from gitops.simulate.report import Summary, summarize
from gitops.simulate.rollout import RolloutPlan, deployment_rollout
from gitops.simulate.scenario import (
    LoadPoint,
    LoadProfile,
    PodTemplate,
    Scenario,
    ScenarioError,
    hpa_spec_from_manifest,
)
from gitops.simulate.sources import find_hpa

WATCHED_KINDS = ("HorizontalPodAutoscaler", "PodDisruptionBudget")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
STEP_FACTOR = 3
STEP_AT = 60.0
STEP_LENGTH = 900.0
STEP_DURATION = 2400.0

Objects = Sequence[Mapping[str, Any]]


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))


def _workload_facts(obj: Mapping[str, Any]) -> object:
    spec = obj.get("spec") or {}
    requests = [
        ((c.get("resources") or {}).get("requests") or {}).get("cpu")
        for c in spec_containers(pod_spec_of(obj))
    ]
    return spec.get("replicas"), spec.get("strategy"), spec.get("minReadySeconds"), requests


def touches_behaviour(base: Objects, head: Objects) -> bool:
    """Whether anything that feeds the HPA, the PDB or a rollout differs between the sides."""

    def watched(objects: Objects) -> dict[tuple[str, str], object]:
        out: dict[tuple[str, str], object] = {}
        for obj in objects:
            kind = obj.get("kind")
            if kind in WATCHED_KINDS:
                out[_key(obj)] = obj.get("spec")
            elif kind in WORKLOAD_KINDS:
                out[_key(obj)] = _workload_facts(obj)
        return out

    return watched(base) != watched(head)


@dataclass(frozen=True)
class Side:
    timeline: Timeline | None
    summary: Summary | None
    drain: DrainReport | None
    note: str = ""  # why the step was not simulated on this side
    rollouts: tuple[tuple[str, RolloutPlan | str], ...] = ()  # per Deployment: plan or problem


@dataclass(frozen=True)
class BehaviourSection:
    overlay: str
    base: Side
    head: Side
    plot: Path | None


def _step_scenario(
    hpa: Mapping[str, Any], request: int | None, load_from: tuple[int, int, int] | None, origin: str
) -> tuple[Scenario, tuple[int, int, int]]:
    spec, name = hpa_spec_from_manifest(hpa, origin)
    if request is None:
        raise ScenarioError(f"{origin}: the target's containers have no CPU request")
    target = next(
        (m.target for m in spec.metrics if m.name == "cpu" and m.target_type == "Utilization"),
        None,
    )
    if target is None:
        raise ScenarioError(f"{origin}: no CPU utilization target to load")
    basis = load_from or (max(1, spec.min_replicas), request, target)
    baseline = basis[0] * basis[1] * basis[2] // 100
    load = LoadProfile(
        "total",
        (
            LoadPoint(0, baseline),
            LoadPoint(STEP_AT, baseline * STEP_FACTOR),
            LoadPoint(STEP_AT + STEP_LENGTH, baseline),
        ),
    )
    scenario = Scenario(
        source=f"{origin}: step to {STEP_FACTOR}x",
        hpa=spec,
        hpa_name=name,
        start_replicas=max(1, spec.min_replicas),
        template=PodTemplate(cpu_request_milli=request),
        load=load,
        settings=ControllerSettings(),
        duration_seconds=STEP_DURATION,
    )
    return scenario, basis


def _rollouts(objects: Objects, origin: str) -> tuple[tuple[str, RolloutPlan | str], ...]:
    hpas = [o for o in objects if o.get("kind") == "HorizontalPodAutoscaler"]
    out: list[tuple[str, RolloutPlan | str]] = []
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        name = _key(obj)[1]
        try:
            replicas = k8s_math.min_replicas(obj, hpas)
            out.append((name, deployment_rollout(obj, replicas, 20.0, f"{origin} {name}")))
        except (ScenarioError, k8s_math.InvalidValueError) as exc:
            out.append((name, str(exc).rsplit(": ", 1)[-1]))
    return tuple(out)


def _side(
    objects: Objects, origin: str, load_from: tuple[int, int, int] | None
) -> tuple[Side, tuple[int, int, int] | None]:
    drain = drain_nodes(workloads_from_objects(objects), nodes=3, zones=3)
    rollouts = _rollouts(objects, origin)
    try:
        hpa, request, where = find_hpa(objects, origin, None)
        scenario, basis = _step_scenario(hpa, request, load_from, where)
    except (ScenarioError, k8s_math.InvalidValueError) as exc:
        note = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
        return Side(None, None, drain, note, rollouts), load_from
    timeline = simulate(scenario)
    return Side(timeline, summarize(timeline), drain, rollouts=rollouts), basis


def behaviour_sections(
    objects: Mapping[str, tuple[Objects, Objects]], plot_dir: Path | None = None
) -> list[BehaviourSection]:
    """One section per overlay (``env/service``) whose behaviour inputs changed."""
    sections: list[BehaviourSection] = []
    for overlay, (base_objects, head_objects) in objects.items():
        if not touches_behaviour(base_objects, head_objects):
            continue
        base, basis = _side(base_objects, f"base {overlay}", None)
        head, _ = _side(head_objects, f"head {overlay}", basis)
        plot = None
        if plot_dir is not None and (base.timeline or head.timeline):
            from gitops.simulate.plot import write_comparison_plot

            pairs = [(t, n) for t, n in ((base.timeline, "base"), (head.timeline, "head")) if t]
            plot = write_comparison_plot(
                [t for t, _ in pairs], [n for _, n in pairs],
                plot_dir / f"{overlay.replace('/', '-')}-step.png",
                f"{overlay}: step to {STEP_FACTOR}x the target load and back",
            )  # fmt: skip
        sections.append(BehaviourSection(overlay, base, head, plot))
    return sections


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f} s"


def _step_cell(side: Side, field: str) -> str:
    """One side's cell of a step-scenario row (``field``: bounds, peak, scale...)."""
    if side.summary is None or side.timeline is None:
        # Why there is no step scenario is said once, on the HPA row.
        return (side.note or "no HPA") if field == "bounds" else "-"
    s, hpa = side.summary, side.timeline.scenario.hpa
    return {
        "bounds": f"{hpa.min_replicas}..{hpa.max_replicas} at {s.target_utilization} %",
        "peak": f"{s.peak_replicas}",
        "scale": _seconds(s.time_to_scale),
        "max": _seconds(s.time_at_max),
        "settle": _seconds(s.time_to_settle),
        "saturated": _seconds(s.saturated),
    }[field]


def _rows(section: BehaviourSection) -> list[tuple[str, str, str]]:
    def drain(side: Side, field: str) -> str:
        if side.drain is None:
            return "-"
        nodes = side.drain.nodes
        if field == "completes":
            done = sum(1 for n in nodes if n.completed)
            return f"{done}/{len(nodes)} nodes"
        if field == "waited":
            return _seconds(sum(n.waited_on_pdb for n in nodes))
        replicas = {w.name: w.replicas for w in side.drain.workloads}
        dips = sorted(
            {f"{name} {ready}/{replicas.get(name, 0)}" for n in nodes
             for name, ready in n.min_ready.items() if ready < replicas.get(name, 0)}
        )  # fmt: skip
        return ", ".join(dips) or "none"

    rows = [
        ("HPA", "bounds"), ("step: peak replicas", "peak"), ("step: time to scale", "scale"),
        ("step: time at max", "max"), ("step: time to settle", "settle"),
        ("step: saturated at max", "saturated"),
    ]  # fmt: skip

    def rollout(side: Side) -> str:
        parts = []
        for name, plan in side.rollouts:
            if isinstance(plan, str):
                parts.append(f"{name}: {plan}")
            else:
                parts.append(
                    f"{name}: {plan.min_available}..{plan.max_total} pods, "
                    f"{plan.duration:.0f} s"
                    + (" (Recreate)" if plan.strategy == "Recreate" else "")
                )
        return ", ".join(parts) or "-"

    simulated = section.base.summary is not None or section.head.summary is not None
    out = [
        (label, _step_cell(section.base, f), _step_cell(section.head, f))
        for label, f in rows
        if simulated or f == "bounds"  # neither side has an HPA: no step rows at all
    ]
    out += [
        ("drain: completes", drain(section.base, "completes"), drain(section.head, "completes")),
        ("drain: waited on PDBs", drain(section.base, "waited"), drain(section.head, "waited")),
        ("drain: below full Ready", drain(section.base, "dips"), drain(section.head, "dips")),
        ("rollout: available..total pods, time", rollout(section.base), rollout(section.head)),
    ]
    return out


def format_markdown(sections: Sequence[BehaviourSection]) -> str:
    """The Behaviour section of ``gitops diff --format markdown``: a level-4 heading beside
    the comment's Findings and Resources (under its level-3 title), one level 5 per overlay."""
    if not sections:
        return ""
    lines = [
        "#### Behaviour",
        "",
        f"Simulated (`gitops simulate`): a step to {STEP_FACTOR}x the base side's target load "
        "and back, and a drain of each node of a 3-node, 3-zone cluster.",
    ]
    for section in sections:
        lines += ["", f"##### {section.overlay}", "", "| | base | head |", "|---|---|---|"]
        lines += [f"| {label} | {b} | {h} |" for label, b, h in _rows(section)]
        if section.plot is not None:
            lines += ["", f"Plot: `{section.plot}`"]
    return "\n".join(lines) + "\n"


def format_text(sections: Sequence[BehaviourSection]) -> str:
    if not sections:
        return ""
    lines = ["", f"Behaviour (simulated: step to {STEP_FACTOR}x target load and back; node drains)"]
    for section in sections:
        rows = [("", "base", "head"), *_rows(section)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines.append(f"  {section.overlay}")
        lines += ["    " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in rows]  # fmt: skip
        if section.plot is not None:
            lines.append(f"    plot: {section.plot}")
    return "\n".join(lines) + "\n"


def to_json(sections: Sequence[BehaviourSection]) -> list[dict[str, object]]:
    def side(s: Side) -> dict[str, object]:
        return {
            "step": s.summary.to_json() if s.summary else None,
            "note": s.note or None,
            "drain": [n.to_json() for n in s.drain.nodes] if s.drain else None,
            "rollouts": [
                {"deployment": name, "problem": plan}
                if isinstance(plan, str)
                else {
                    "deployment": name,
                    "minAvailable": plan.min_available,
                    "maxPods": plan.max_total,
                    "seconds": plan.duration,
                }
                for name, plan in s.rollouts
            ],
        }

    return [
        {"overlay": s.overlay, "base": side(s.base), "head": side(s.head),
         "plot": str(s.plot) if s.plot else None}
        for s in sections
    ]  # fmt: skip
