"""Label selectors, and the labels controllers add to the pods they create.

>>> selector_matches({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "x"})
True
>>> selector_matches(None, {"app": "web"})
False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A label's possible values on a controller's pods: a set, or None for "some value we cannot
# know" (a hash).
GeneratedLabels = Mapping[str, frozenset[str] | None]


def valid_label_selector(selector: Any) -> bool:
    """Whether ``selector`` has the shape of a LabelSelector (so it can be evaluated)."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if match_labels is not None and not isinstance(match_labels, dict):
        return False
    return expressions is None or (
        isinstance(expressions, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("key"), str)
            and isinstance(e.get("values"), list | None)
            for e in expressions
        )
    )


def generated_labels(doc: Mapping[str, Any]) -> dict[str, frozenset[str] | None]:
    """Labels the controller adds to the pods it creates, beyond the template's, so that a
    selector on them (a per-pod Service on ``statefulset.kubernetes.io/pod-name``) matches.
    From the controllers' code: pod-template-hash (Deployment's ReplicaSets),
    controller-revision-hash (StatefulSet, DaemonSet), the StatefulSet pod name and index, the
    Job's name and controller-uid labels."""
    kind = doc.get("kind")
    metadata = doc.get("metadata")
    name = str((metadata if isinstance(metadata, dict) else {}).get("name") or "")
    spec = doc.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    if kind == "Deployment":
        return {"pod-template-hash": None}
    if kind == "StatefulSet":
        try:
            count = int(spec.get("replicas", 1))
        except (TypeError, ValueError):
            count = 1
        ordinals = range(max(count, 0))
        return {
            "controller-revision-hash": None,
            "statefulset.kubernetes.io/pod-name": frozenset(f"{name}-{i}" for i in ordinals),
            "apps.kubernetes.io/pod-index": frozenset(str(i) for i in ordinals),
        }
    if kind == "DaemonSet":
        return {"controller-revision-hash": None, "pod-template-generation": None}
    if kind in ("Job", "CronJob"):
        job_name = frozenset({name}) if kind == "Job" else None
        return {
            "controller-uid": None,
            "batch.kubernetes.io/controller-uid": None,
            "job-name": job_name,
            "batch.kubernetes.io/job-name": job_name,
        }
    return {}


def selector_matches(
    selector: Any, labels: Mapping[str, str], generated: GeneratedLabels | None = None
) -> bool:
    """A Kubernetes LabelSelector (matchLabels + matchExpressions) against labels.

    policy/v1 semantics for PDBs: an empty selector ``{}`` matches everything; ``None`` (or a
    selector of the wrong shape) nothing. ``generated``: labels the pods' controller adds (see
    :func:`generated_labels`); a selector on one matches some of those pods.
    """
    if not valid_label_selector(selector):
        return False
    extra = {k: v for k, v in (generated or {}).items() if k not in labels}
    for key, value in (selector.get("matchLabels") or {}).items():
        if not _has_label(labels, extra, key, value):
            return False
    return all(_expression_holds(e, labels, extra) for e in selector.get("matchExpressions") or [])


def _has_label(labels: Mapping[str, str], extra: GeneratedLabels, key: Any, value: Any) -> bool:
    """``key=value`` on the pod: its own label, or one its controller adds (None: any value)."""
    if key in labels:
        return bool(labels[key] == value)
    if key in extra:
        values = extra[key]
        return values is None or value in values
    return False


def _expression_holds(
    expression: Mapping[str, Any], labels: Mapping[str, str], extra: GeneratedLabels
) -> bool:
    """One matchExpressions entry (an unknown operator does not exclude the pod)."""
    key: Any = expression.get("key")
    operator = expression.get("operator")
    values = expression.get("values") or []
    present = key in labels or key in extra
    if operator == "In":
        return any(_has_label(labels, extra, key, v) for v in values)
    if operator == "NotIn":
        return not (key in labels and labels[key] in values)
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return True


def pdb_selects(
    pdb_spec: Mapping[str, Any], labels: Mapping[str, str], generated: GeneratedLabels | None = None
) -> bool | None:
    """policy/v1 selection: ``{}`` selects every pod, an absent selector none.

    None when the selector is malformed (the schema check reports it).
    """
    selector = pdb_spec.get("selector")
    if selector is None:
        return False
    if not valid_label_selector(selector):
        return None
    return selector_matches(selector, labels, generated)
