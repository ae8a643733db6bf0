"""Ready pods counted from a stream of watch events, the way the disruption controller
counts ``currentHealthy``: Ready, and not being deleted.

Pure: events are (type, pod-as-dict) pairs, so the unit tests feed it by hand; the drain test
feeds it from ``kubernetes.watch.Watch`` on a thread (:class:`ReadyPodWatcher` in kube.py).

    >>> tracker = ReadyPodTracker()
    >>> tracker.apply("ADDED", pod_dict)
    >>> tracker.ready_count, tracker.minimum_seen
    (2, 2)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    """Condition Ready=True, and no deletionTimestamp (a terminating pod protects nothing)."""
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def restart_counts(pod: Mapping[str, Any]) -> dict[str, int]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return {str(s.get("name")): int(s.get("restartCount") or 0) for s in statuses}


@dataclass
class ReadyPodTracker:
    """Track pods by name; record the Ready count after every event, and its minimum."""

    clock: Callable[[], float] = time.monotonic
    pods: dict[str, bool] = field(default_factory=dict)
    history: list[tuple[float, int, str]] = field(default_factory=list)
    minimum_seen: int | None = None

    @property
    def ready_count(self) -> int:
        return sum(self.pods.values())

    def apply(self, event_type: str, pod: Mapping[str, Any]) -> None:
        name = str((pod.get("metadata") or {}).get("name"))
        if event_type == "DELETED":
            self.pods.pop(name, None)
        elif event_type in ("ADDED", "MODIFIED"):
            self.pods[name] = is_pod_ready(pod)
        else:  # BOOKMARK, ERROR: no pod state change
            return
        count = self.ready_count
        self.history.append((self.clock(), count, f"{event_type} {name}"))
        if self.minimum_seen is None or count < self.minimum_seen:
            self.minimum_seen = count

    def seed(self, pods: list[Mapping[str, Any]]) -> None:
        """The initial list, as one observation: applying it pod by pod would record
        partial counts that never existed in the cluster."""
        self.pods = {str((p.get("metadata") or {}).get("name")): is_pod_ready(p) for p in pods}
        count = self.ready_count
        self.history.append((self.clock(), count, f"LIST {len(pods)} pods"))
        if self.minimum_seen is None or count < self.minimum_seen:
            self.minimum_seen = count

    def below(self, floor: int) -> list[tuple[float, int, str]]:
        """Every recorded moment the count was under ``floor`` (empty when the budget held)."""
        return [entry for entry in self.history if entry[1] < floor]
