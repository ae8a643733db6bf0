"""Run a scenario sync by sync: the HPA decides, the ReplicaSet adds or removes pods, pods
start, become Ready and share the load, metrics-server samples them.

The controller is :mod:`gitops.simulate.hpa`; this module is the world around it, kept simple
and documented (docs/simulate.md):

* a new pod is Pending for ``startupSeconds``, then Running (``status.startTime`` is its
  creation, as the kubelet sets it on admission) and Ready ``readinessSeconds`` later;
* total CPU demand is shared evenly by the Ready pods; a pod that is not Ready uses
  ``startupCPU``; a pod has a CPU sample once it has run for one metrics window (with
  ``metric_resolution_seconds``, from the first metrics-server scrape after that);
* a scale-down deletes pods as the ReplicaSet controller ranks them (``getPodsToDelete`` /
  ``controller.ActivePods``): Pending before Running, not Ready before Ready, newest first.

    >>> timeline = simulate(scenario)
    >>> timeline.steps[-1].replicas
    3
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from gitops.simulate.hpa import HPAController, SyncResult
from gitops.simulate.replicas import (
    PENDING,
    RUNNING,
    SINGLE_CONTAINER,
    ContainerState,
    PodState,
)
from gitops.simulate.scenario import ExplicitPod, PodTemplate, Scenario


@dataclass(frozen=True)
class Step:
    """One sync of the timeline (the ``--format json`` entry)."""

    t: float
    replicas: int  # spec.replicas after the sync
    desired: int | None  # the metrics' proposal before stabilisation and limits
    ready: int  # Ready pods the sync saw
    utilization: int | None  # CPU percent the HPA computed (None: not computed)
    limited_by: str | None
    reason: str
    load: int | None  # demand in milli-CPU (total or per pod, as the scenario says)

    def to_json(self) -> dict[str, object]:
        return {
            "t": self.t,
            "replicas": self.replicas,
            "desired": self.desired,
            "ready": self.ready,
            "utilization": self.utilization,
            "limitedBy": self.limited_by,
            "reason": self.reason,
            "load": self.load,
        }


@dataclass(frozen=True)
class Timeline:
    scenario: Scenario
    steps: tuple[Step, ...]


@dataclass
class _Pod:
    name: str
    created: float
    running_at: float
    ready_at: float
    request: int | None
    explicit: ExplicitPod | None = None

    def rank(self, t: float) -> tuple[int, int, float]:
        """Deletion order (lower goes first): Pending, then not Ready, then newest."""
        if self.explicit is not None:
            pending = 0 if self.explicit.phase == PENDING else 1
            ready = 1 if self.explicit.ready else 0
        else:
            pending = 0 if t < self.running_at else 1
            ready = 1 if t >= self.ready_at else 0
        return (pending, ready, -self.created)


class _World:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.pods: list[_Pod] = []
        self.counter = 0
        self.created = 0  # pods the simulation has created (the replay index)
        # Samples whose pod is gone (not in the pod list): the HPA reads them every sync.
        self.samples = [
            _explicit_state(p, None, "") for p in scenario.explicit_pods if p.sample_only
        ]
        for pod in scenario.explicit_pods:
            if pod.sample_only:
                continue
            ready_at = pod.ready_time if pod.ready else float("inf")
            self.pods.append(
                _Pod(pod.name, pod.start_time or 0.0, float("-inf"), ready_at,
                     pod.cpu_request_milli, pod)
            )  # fmt: skip
        missing = scenario.start_replicas - len(
            [p for p in scenario.explicit_pods
             if p.phase not in ("Failed", "Succeeded") and not p.sample_only]
        )  # fmt: skip
        for _ in range(max(0, missing)):
            # Pods that were there before the scenario: Running and Ready for a long while.
            self._add(-3600.0, created=False)

    def _add(self, t: float, created: bool = True) -> None:
        template = self.scenario.template
        self.counter += 1
        startup = template.startup_seconds
        if created:
            replay = template.startup_replay
            startup = replay[self.created] if self.created < len(replay) else startup
            self.created += 1
        running = t + startup
        ready = running + template.readiness_seconds
        self.pods.append(_Pod(f"pod-{self.counter}", t, running, ready, template.cpu_request_milli))

    def scale_to(self, t: float, replicas: int) -> None:
        active = [
            p for p in self.pods
            if p.explicit is None or p.explicit.phase not in ("Failed", "Succeeded")
        ]  # fmt: skip
        active = [p for p in active if not (p.explicit is not None and p.explicit.deleting)]
        if replicas > len(active):
            for _ in range(replicas - len(active)):
                self._add(t)
        elif replicas < len(active):
            doomed = sorted(active, key=lambda p: p.rank(t))[: len(active) - replicas]
            gone = {id(p) for p in doomed}
            self.pods = [p for p in self.pods if id(p) not in gone]

    def observe(self, t: float) -> tuple[list[PodState], int, int | None]:
        """The pods as the HPA reads them at ``t``, the Ready count and the load."""
        scenario = self.scenario
        template = scenario.template
        load = scenario.load.at(t) if scenario.load is not None else None
        ready = [
            p for p in self.pods
            if (p.explicit is None and t >= p.ready_at)
            or (p.explicit is not None and p.explicit.phase == RUNNING and p.explicit.ready is True
                and not p.explicit.deleting)
        ]  # fmt: skip
        share: int | None = None
        if load is not None:
            if scenario.load is not None and scenario.load.mode == "perPod":
                share = load
            elif ready:
                share = load // len(ready)
        ready_ids = {id(p) for p in ready}
        states: list[PodState] = []
        for pod in self.pods:
            if pod.explicit is not None:
                states.append(
                    _explicit_state(
                        pod.explicit, share if id(pod) in ready_ids else None,
                        template.container_name,
                    )
                )  # fmt: skip
                continue
            if t < pod.running_at:
                states.append(
                    PodState(pod.name, phase=PENDING, ready=False, start_time=pod.created,
                             ready_transition_time=pod.created, cpu_request_milli=pod.request,
                             containers=_named(template, pod.request, None))
                )  # fmt: skip
                continue
            is_ready = t >= pod.ready_at
            usage = (share or 0) if is_ready else template.startup_cpu_milli
            sampled = first_sample(template, pod.running_at) <= t
            sample = usage if sampled else None
            states.append(
                PodState(
                    pod.name,
                    phase=RUNNING,
                    ready=is_ready,
                    ready_transition_time=pod.ready_at if is_ready else pod.running_at,
                    start_time=pod.created,
                    cpu_request_milli=pod.request,
                    cpu_usage_milli=sample,
                    metric_timestamp=t,
                    metric_window=template.metric_window_seconds,
                    containers=_named(template, pod.request, sample),
                )
            )
        return states + self.samples, len(ready), load


def _named(
    template: PodTemplate, request: int | None, usage: int | None
) -> tuple[ContainerState, ...]:
    """A new pod's one container when the HPA measures it by name (ContainerResource); else
    none, and the pod's totals stand for it (the cheaper form, at every sync)."""
    if template.container_name == SINGLE_CONTAINER:
        return ()
    return (ContainerState(template.container_name, request, usage),)


def first_sample(template: PodTemplate, running_at: float) -> float:
    """When a pod running from ``running_at`` first has a CPU sample: one metrics window
    later, or at the first metrics-server scrape after that when scrapes are modelled."""
    ready = running_at + template.metric_window_seconds
    resolution = template.metric_resolution_seconds
    if resolution <= 0:
        return ready
    scrapes = math.ceil((ready - template.metric_phase_seconds) / resolution - 1e-9)
    return template.metric_phase_seconds + scrapes * resolution


def _explicit_state(pod: ExplicitPod, share: int | None, measured: str) -> PodState:
    """An explicit pod as the HPA reads it; with a load, ``share`` is the usage of its measured
    container (``measured``, else its first) and the others use nothing."""
    usage = pod.cpu_usage_milli
    containers = pod.containers
    if share is not None and usage is not None:
        usage = share
        if containers:
            target = measured if any(c.name == measured for c in containers) else containers[0].name
            containers = tuple(
                dataclasses.replace(c, cpu_usage_milli=share if c.name == target else 0)
                for c in containers
            )
    return PodState(
        pod.name,
        phase=pod.phase,
        ready=pod.ready,
        ready_transition_time=pod.ready_time,
        start_time=pod.start_time,
        deleting=pod.deleting,
        cpu_request_milli=pod.cpu_request_milli,
        cpu_usage_milli=usage,
        metric_timestamp=pod.metric_timestamp,
        metric_window=pod.metric_window,
        metrics=pod.metrics,
        containers=containers,
        pod_requests=pod.pod_requests,
        sample_only=pod.sample_only,
    )


def simulate(scenario: Scenario) -> Timeline:
    """Every sync from t = 0 to ``durationSeconds``, one ``sync_period`` apart."""
    controller = HPAController(scenario.hpa, scenario.settings)
    world = _World(scenario)
    replicas = scenario.start_replicas
    period = scenario.settings.sync_period
    steps: list[Step] = []
    for index in range(scenario.syncs):
        t = index * period
        pods, ready, load = world.observe(t)
        status_replicas = len(
            [p for p in pods if not p.deleting and p.phase != "Failed" and not p.sample_only]
        )
        result: SyncResult = controller.sync(
            t, replicas, status_replicas, pods, scenario.metric_values
        )
        if result.replicas != replicas:
            world.scale_to(t, result.replicas)
            replicas = result.replicas
        steps.append(
            Step(t, replicas, result.proposal, ready, result.utilization, result.limited_by,
                 result.reason if result.error is None else f"{result.reason}: {result.error}",
                 load)
        )  # fmt: skip
    return Timeline(scenario, tuple(steps))


def replica_series(timeline: Timeline) -> Sequence[tuple[float, int]]:
    """(t, replicas) pairs: what :mod:`gitops.simulate.compare` matches a recording against."""
    return [(s.t, s.replicas) for s in timeline.steps]
