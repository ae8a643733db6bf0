"""Rules about scaling and voluntary disruptions: HorizontalPodAutoscalers and
PodDisruptionBudgets, checked against the workloads rendered in the same env and namespace.

All services of an env share one namespace on one cluster, so an HPA or a PDB of one service
is matched against the workloads of every service of that env. The arithmetic (replica floors,
``disruptionsAllowed``) lives in :mod:`gitops.k8s_math`.

    >>> report = run_check(repo, load_config(repo))  # repo = tests/fixtures/pdb-blocks-drain
    >>> [f.message for f in report.findings if f.rule == "pdb-blocks-drain"][2]
    'at 2 replicas (min-available-hpa minReplicas) minAvailable 2 leaves 0 disruptions: ...'
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from gitops import k8s_math
from gitops.apivalidation import hpa_problems
from gitops.errors import ConfigError
from gitops.k8s import (
    HPA_KIND,
    PDB_KIND,
    ReplicaFloor,
    pdb_selects,
    running_containers,
    scale_target_ref,
)
from gitops.k8s_math import InvalidValueError
from gitops.model import Resource, message_field
from gitops.policy.engine import (
    WORKLOAD_KINDS,
    CheckContext,
    Hit,
    Param,
    pod_labels,
    pod_spec,
    rule,
)

# Workloads whose replica count an HPA or a PDB budget reasons about.
REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")
PDB_REQUIRED_KINDS = ("Deployment", "StatefulSet")
DEFAULT_PDB_REQUIRED_ENVS = ("staging", "prod")
# What the HPA controller assumes when spec.metrics is empty.
DEFAULT_METRIC_RESOURCE = "cpu"
DEFAULT_METRIC_UTILIZATION = 80
# The kube-controller-manager field manager owns /spec/replicas once the HPA scaled.
HPA_FIELD_MANAGER = "kube-controller-manager"


# --- helpers -----------------------------------------------------------------------------


def _namespace(ctx: CheckContext, resource: Resource) -> str:
    return ctx.namespace_of(resource)


def _neighbours(ctx: CheckContext, resource: Resource, *kinds: str) -> list[Resource]:
    """Resources of ``kinds`` in the same env and namespace as ``resource`` (any service)."""
    return ctx.relations.neighbours(resource, *kinds)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _hpa_target(ctx: CheckContext, hpa: Resource) -> Resource | None:
    return ctx.relations.hpa_target(hpa)


def _managing_hpas(ctx: CheckContext, workload: Resource) -> list[Resource]:
    return ctx.relations.hpas_managing(workload)


def _replica_floor(ctx: CheckContext, workload: Resource) -> ReplicaFloor | None:
    """None when the relevant field holds something that is not a number."""
    return ctx.relations.replica_floor(workload)


def _pod_owners(ctx: CheckContext, pdb: Resource) -> list[Resource]:
    """Workloads (and bare Pods) in the PDB's env and namespace whose pods it selects."""
    return ctx.relations.pod_owners(pdb)


def _replicas(count: int) -> str:
    return f"{count} replica" if count == 1 else f"{count} replicas"


def _selector_text(selector: Any) -> str:
    if not isinstance(selector, dict):
        return repr(selector)
    parts = [f"{k}={v}" for k, v in _dict(selector.get("matchLabels")).items()]
    for expression in selector.get("matchExpressions") or []:
        if isinstance(expression, dict):
            values = ",".join(str(v) for v in expression.get("values") or [])
            parts.append(f"{expression.get('key')} {expression.get('operator')} ({values})")
    return "{" + ", ".join(parts) + "}"


# --- HPA rules ---------------------------------------------------------------------------


@rule(
    "hpa-target-missing",
    kinds=(HPA_KIND,),
    remediation=(
        "Make scaleTargetRef's apiVersion group, kind and name match a workload rendered in the "
        "HPA's env and namespace."
    ),
)
def hpa_target_missing(ctx: CheckContext) -> Iterator[Hit]:
    """An HPA's scaleTargetRef names no workload rendered in the same env and namespace.

    The HPA then reports ScalingActive=False (FailedGetScale) and scales nothing: the service
    runs at whatever replica count it last had, however high the load. Usually a renamed
    Deployment or a kind/apiVersion typo. The API group and kind must match, the version in
    apiVersion may differ.
    """
    for hpa in ctx.of_kind(HPA_KIND):
        ref = scale_target_ref(hpa)
        if ref is None or _hpa_target(ctx, hpa) is not None:
            continue
        namespace = _namespace(ctx, hpa) or "(none)"
        named = f'{ref.get("apiVersion", "")} {ref["kind"]} "{ref["name"]}"'.strip()
        hint = ""
        if "apiVersion" not in ref:
            named = f'{ref["kind"]} "{ref["name"]}" (no apiVersion: the core group, v1)'
        same_name = [
            r for r in ctx.in_env(hpa.env) if r.name == ref["name"] and r.kind in WORKLOAD_KINDS
        ]
        if same_name:
            found = same_name[0]
            hint = (
                f' (found {found.key.api_version} {found.kind} "{found.name}" in namespace '
                f"{_namespace(ctx, found) or '(none)'})"
            )
        yield Hit(
            f"scaleTargetRef {named} names no workload rendered in env {hpa.env}, namespace "
            f"{namespace}{hint}: the HPA scales nothing",
            hpa,
        )


def _has_request(container: dict[str, Any], resource_name: str, defaults: set[str]) -> bool:
    """requests[R] as the pod will have it: set, defaulted from limits[R] by the API server,
    or filled in by a LimitRange of the namespace (``defaults``)."""
    resources = _dict(container.get("resources"))
    return (
        resource_name in _dict(resources.get("requests"))
        or resource_name in _dict(resources.get("limits"))
        or resource_name in defaults
    )


def _limit_range_defaults(ctx: CheckContext, workload: Resource) -> set[str]:
    """Resources a LimitRange in the namespace gives every container a request for."""
    names: set[str] = set()
    for limit_range in _neighbours(ctx, workload, "LimitRange"):
        for item in _list(limit_range.spec.get("limits")):
            if isinstance(item, dict) and item.get("type") == "Container":
                # defaultRequest, and default (limits) which defaults the request too.
                names.update(_dict(item.get("defaultRequest")))
                names.update(_dict(item.get("default")))
    return names


def _utilization_metrics(hpa: Resource) -> list[tuple[str, str | None, str]]:
    """(resource, container or None, description) of every Utilization metric the HPA uses,
    including the implicit default (cpu 80%) when spec.metrics is empty."""
    metrics = hpa.spec.get("metrics")
    if not metrics:
        return [
            (
                DEFAULT_METRIC_RESOURCE,
                None,
                f"no metrics (default: {DEFAULT_METRIC_RESOURCE} "
                f"{DEFAULT_METRIC_UTILIZATION}% Utilization)",
            )
        ]
    found: list[tuple[str, str | None, str]] = []
    if not isinstance(metrics, list):
        return found
    for index, metric in enumerate(metrics):
        if not isinstance(metric, dict):
            continue
        kind = metric.get("type")
        if kind == "Resource":
            source = _dict(metric.get("resource"))
            container = None
        elif kind == "ContainerResource":
            source = _dict(metric.get("containerResource"))
            container = source.get("container")
            if not isinstance(container, str):
                continue
        else:
            continue
        target = _dict(source.get("target"))
        name = source.get("name")
        if target.get("type") != "Utilization" or not isinstance(name, str):
            continue
        utilization = target.get("averageUtilization")
        where = f"container {container} " if container else ""
        found.append(
            (name, container, f"metrics[{index}] ({where}{name} {utilization}% Utilization)")
        )
    return found


@rule(
    "hpa-missing-requests",
    kinds=(HPA_KIND,),
    remediation=(
        "Add a request for the metric's resource to every container the HPA sums (app containers "
        "and sidecars), or a LimitRange default."
    ),
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
def hpa_missing_requests(ctx: CheckContext) -> Iterator[Hit]:
    """An HPA scales on resource Utilization but a target container has no request for it.

    Utilization is usage divided by requests: without requests[R] on every container (or on
    the named container of a ContainerResource metric) the HPA cannot compute it, reports
    ScalingActive=False / FailedGetResourceMetric ("missing request for cpu in container X")
    and never scales, in either direction. An HPA without metrics defaults to cpu 80%
    Utilization and needs cpu requests too. Requests defaulted from limits or from a
    LimitRange of the namespace count; so do restartable (sidecar) init containers, which the
    HPA sums as well.
    """
    for hpa in ctx.of_kind(HPA_KIND):
        target = _hpa_target(ctx, hpa)
        if target is None or target.kind not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(target)
        containers = running_containers(spec)  # what the HPA sums: app containers + sidecars
        pod_requests = _dict(_dict(spec.get("resources")).get("requests"))
        defaults = _limit_range_defaults(ctx, target)
        for resource_name, container_name, described in _utilization_metrics(hpa):
            # Pod-level requests (PodLevelResources, beta and on from 1.34) replace the
            # per-container sum for Resource metrics.
            if (
                container_name is None
                and ctx.config.minor_version >= 34
                and resource_name in pod_requests
            ):
                continue
            if container_name is not None:
                named = [c for c in containers if c.get("name") == container_name]
                if not named:
                    declared = ", ".join(str(c.get("name")) for c in containers) or "none"
                    yield Hit(
                        f"{described}: {target.kind}/{target.name} has no container "
                        f"{container_name} (containers: {declared}): the HPA cannot compute "
                        "the metric and never scales",
                        hpa,
                    )
                    continue
                checked = named
            else:
                checked = containers
            missing = [
                str(c.get("name")) for c in checked if not _has_request(c, resource_name, defaults)
            ]
            if missing:
                noun = "container" if len(missing) == 1 else "containers"
                yield Hit(
                    f"{described}: {noun} {', '.join(missing)} of {target.kind}/{target.name} "
                    f"{'has' if len(missing) == 1 else 'have'} no resources.requests."
                    f"{resource_name}: the HPA cannot compute utilization and never scales "
                    "(ScalingActive=False, FailedGetResourceMetric)",
                    hpa,
                )


def _int_field(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@rule(
    "hpa-bounds",
    kinds=(HPA_KIND,),
    remediation=(
        "Keep 1 <= minReplicas <= maxReplicas and behavior values inside the API's ranges "
        "(minReplicas 0 needs the HPAScaleToZero gate and an Object or External metric)."
    ),
)
def hpa_bounds(ctx: CheckContext, hpa: Resource) -> Iterator[Hit]:
    """An HPA's replica bounds or scaling behavior are outside what the API server accepts.

    minReplicas < 1 (0 needs the alpha HPAScaleToZero gate, set in gitops.yaml featureGates,
    and an Object or External metric), maxReplicas < 1 or below minReplicas, an unknown metric
    type, and behavior values outside the validated ranges (stabilizationWindowSeconds
    0..3600, at least one policy, policy value > 0, periodSeconds 1..1800, selectPolicy
    Max/Min/Disabled) are rejected at sync: Argo CD shows the app as failed and the previous
    HPA (or none) stays in charge. ``gitops validate`` applies the same rules
    (gitops.apivalidation). minReplicas == maxReplicas is deliberately NOT reported: the API
    accepts it, it is a legitimate way to pin a service (e.g. during an incident), and this
    rule only reports what the API rejects so it can stay an error. When the upstream validator
    judges (gitops.upstream), the API server's own verdicts are ``schema-api`` findings and this
    rule reports nothing.
    """
    if ctx.api_judged_upstream:
        return  # the API server's own verdict is a schema-api finding
    for problem in hpa_problems(hpa.spec, ctx.config.gates()):
        yield Hit(f"{problem}: the API server rejects this HPA", hpa, field=message_field(problem))


def _ignores_replicas(entry: dict[str, Any], workload: Resource, namespace: str) -> bool:
    """Whether one ignoreDifferences entry covers /spec/replicas of the workload (Argo CD
    matches group and kind as globs, name and namespace exactly when set)."""
    group = str(entry.get("group") or "")
    if not fnmatch.fnmatchcase(workload.key.group, group):
        return False
    if not fnmatch.fnmatchcase(workload.kind, str(entry.get("kind") or "")):
        return False
    if entry.get("name") and entry.get("name") != workload.name:
        return False
    if entry.get("namespace") and entry.get("namespace") != namespace:
        return False
    pointers = [str(p).rstrip("/") for p in _list(entry.get("jsonPointers"))]
    if any(p in ("/spec/replicas", "/spec") for p in pointers):
        return True
    expressions = [str(e).replace(" ", "") for e in _list(entry.get("jqPathExpressions"))]
    if any(e in (".spec.replicas", ".spec") for e in expressions):
        return True
    return HPA_FIELD_MANAGER in _list(entry.get("managedFieldsManagers"))


@rule(
    "hpa-replicas-conflict",
    kinds=("Deployment", "StatefulSet", "ReplicaSet"),
    remediation=(
        "Remove spec.replicas from the workload, or add /spec/replicas to the Application's "
        "ignoreDifferences (with RespectIgnoreDifferences)."
    ),
)
def hpa_replicas_conflict(ctx: CheckContext) -> Iterator[Hit]:
    """A workload managed by an HPA sets spec.replicas and Argo CD does not ignore that field.

    Every sync (and every self-heal) writes spec.replicas back: the replica count jumps to the
    value in Git in the middle of a load peak, then the HPA scales it up again; with
    ServerSideApply the two field managers fight. Omit spec.replicas for HPA-managed workloads
    (this repo's convention), or ignore /spec/replicas in the Application's ignoreDifferences
    AND set the RespectIgnoreDifferences=true sync option (without it the ignore only hides
    the diff, sync still applies the value).
    """
    for hpa in ctx.of_kind(HPA_KIND):
        workload = _hpa_target(ctx, hpa)
        replicas = _int_field(workload.spec.get("replicas")) if workload is not None else None
        if workload is None or replicas is None:
            continue
        prefix = (
            f"spec.replicas {replicas} is set although HPA {hpa.name} manages this "
            f"{workload.kind}: "
        )
        advice = "remove spec.replicas (or ignore /spec/replicas in the Application)"
        app = ctx.application_for(workload)
        if app is None:
            yield Hit(
                prefix + f"no Argo CD Application deploys {workload.overlay_path} to ignore "
                f"it, so every sync resets the replica count; {advice}",
                workload,
            )
            continue
        entries = [e for e in _list(app.spec.get("ignoreDifferences")) if isinstance(e, dict)]
        namespace = _namespace(ctx, workload)
        if not any(_ignores_replicas(e, workload, namespace) for e in entries):
            yield Hit(
                prefix + f"Application {app.name} does not ignore /spec/replicas, so every "
                f"sync resets the replica count; {advice}",
                workload,
            )
            continue
        sync_options = _list(_dict(app.spec.get("syncPolicy")).get("syncOptions"))
        if "RespectIgnoreDifferences=true" not in sync_options:
            yield Hit(
                prefix + f"Application {app.name} ignores /spec/replicas in the diff but lacks "
                "syncOption RespectIgnoreDifferences=true, so every sync still resets the "
                "replica count",
                workload,
            )


# --- PDB rules ---------------------------------------------------------------------------


def _pdb_required_envs(ctx: CheckContext) -> tuple[str, ...]:
    configured = ctx.config.policy.get("pdbRequiredEnvs", DEFAULT_PDB_REQUIRED_ENVS)
    if not isinstance(configured, list | tuple) or not all(isinstance(e, str) for e in configured):
        raise ConfigError(
            f"gitops.yaml: policy.pdbRequiredEnvs must be a list of env names, got {configured!r}"
        )
    return tuple(configured)


@rule(
    "pdb-missing",
    kinds=PDB_REQUIRED_KINDS,
    remediation=(
        "Add a PodDisruptionBudget (maxUnavailable: 1 is a good default) selecting the workload's "
        "pod labels."
    ),
    params=(Param("policy.pdbRequiredEnvs", "the envs that need a PDB (default staging, prod)"),),
)
def pdb_missing(ctx: CheckContext) -> Iterator[Hit]:
    """A Deployment or StatefulSet with at least 2 replicas in staging or prod has no PDB.

    Without a budget a node drain (cluster upgrade, autoscaler scale-in) may evict every
    replica at once: the "highly available" service goes down during routine maintenance.
    Counted at the workload's minimum (HPA minReplicas, else spec.replicas); single-replica
    workloads are exempt (with one pod no budget keeps the service up through a drain). The
    envs are configurable in gitops.yaml as ``policy: {pdbRequiredEnvs: [staging, prod]}``
    (the default).
    """
    required = _pdb_required_envs(ctx)
    for env in ctx.envs():
        if env not in required:
            continue
        for workload in ctx.of_kind(*PDB_REQUIRED_KINDS, env=env):
            floor = _replica_floor(ctx, workload)
            if floor is None or floor.count < 2:
                continue
            # Template labels only: a budget on a controller-added label (one StatefulSet pod's
            # name) does not cover the workload.
            labels = pod_labels(workload)
            if any(pdb_selects(p.spec, labels) for p in _neighbours(ctx, workload, PDB_KIND)):
                continue
            yield Hit(
                f"runs at least {floor.count} replicas ({floor.reason}) in {env} but no "
                "PodDisruptionBudget selects its pods: a node drain may evict all of them at "
                "once",
                workload,
            )


@rule(
    "pdb-blocks-drain",
    kinds=(PDB_KIND,),
    remediation=(
        "Raise the workload's minimum replicas above the budget, or use maxUnavailable: 1 instead "
        "of minAvailable."
    ),
)
def pdb_blocks_drain(ctx: CheckContext) -> Iterator[Hit]:
    """A PodDisruptionBudget allows 0 disruptions at its workloads' minimum replica count.

    Every eviction then gets HTTP 429 and ``kubectl drain`` retries forever: node upgrades
    and scale-ins hang until someone deletes the budget by hand. Typical causes: minAvailable
    >= replicas (e.g. minAvailable 1 with one replica), maxUnavailable 0 or "0%", minAvailable
    "100%", or a budget with neither field set. Computed like the disruption controller with
    every pod healthy at the HPA minReplicas (else spec.replicas). Also a budget using
    maxUnavailable or a percentage over pods of a DaemonSet, Job or bare Pod: the controller
    cannot count their expected pods and allows 0 disruptions.
    """
    for pdb in ctx.of_kind(PDB_KIND):
        unscalable = _unscalable_owners(ctx, pdb)
        if unscalable:
            yield Hit(unscalable, pdb)
            continue
        owners = [o for o in _pod_owners(ctx, pdb) if o.kind in REPLICATED_KINDS]
        floors = [f for o in owners if (f := _replica_floor(ctx, o)) is not None]
        if not floors or len(floors) != len(owners):
            continue
        total = sum(f.count for f in floors)
        if total <= 0:
            continue
        try:
            expected = k8s_math.expected_pods(pdb.spec, total, total)
            allowed = k8s_math.disruptions_allowed(pdb.spec, total, expected)
            budget = k8s_math.budget_text(pdb.spec)
        except InvalidValueError:
            continue
        if allowed > 0:
            continue
        if len(floors) == 1:
            at = f"at {_replicas(total)} ({floors[0].reason})"
        else:
            parts = "; ".join(
                f"{f.workload.kind}/{f.workload.name} {f.count} ({f.reason})" for f in floors
            )
            at = f"at {_replicas(total)} ({parts})"
        yield Hit(
            f"{at} {budget} leaves 0 disruptions: kubectl drain would wait forever",
            pdb,
        )


def _unscalable_owners(ctx: CheckContext, pdb: Resource) -> str | None:
    """Why the disruption controller allows 0 disruptions for the PDB's non-scalable pods.

    With maxUnavailable or a percentage minAvailable the controller needs the expected pod
    count from each pod's controller's scale subresource (Deployment, ReplicaSet, StatefulSet);
    for DaemonSet, Job or bare pods it finds none and fails safe to 0 (pkg/controller/
    disruption, getExpectedPodCount). Only an integer minAvailable works for them."""
    min_available = pdb.spec.get("minAvailable")
    percent = isinstance(min_available, str) and min_available.endswith("%")
    if pdb.spec.get("maxUnavailable") is None and not percent:
        return None
    owners = [o for o in _pod_owners(ctx, pdb) if o.kind not in REPLICATED_KINDS]
    if not owners:
        return None
    named = ", ".join(f"{o.kind}/{o.name}" for o in owners)
    budget = (
        f"maxUnavailable {pdb.spec.get('maxUnavailable')}"
        if pdb.spec.get("maxUnavailable") is not None
        else f"minAvailable {min_available}"
    )
    return (
        f"selects pods of {named}, which have no scale subresource: with {budget} the "
        "disruption controller cannot count the expected pods and allows 0 disruptions "
        "(use an integer minAvailable for such pods)"
    )


@rule(
    "pdb-selector-unmatched",
    kinds=(PDB_KIND,),
    remediation=(
        "Make the PDB's selector match the pod template labels of the workload it protects."
    ),
)
def pdb_selector_unmatched(ctx: CheckContext) -> Iterator[Hit]:
    """A PodDisruptionBudget's selector matches no pod template in its env and namespace.

    The budget protects nothing: the drain it was written for evicts every replica at once,
    and nobody notices until the outage. Usually a label renamed in the Deployment but not in
    the PDB. policy/v1: an empty selector ``{}`` selects every pod of the namespace, an absent
    selector selects none.
    """
    for pdb in ctx.of_kind(PDB_KIND):
        selector = pdb.spec.get("selector")
        if selector is not None and pdb_selects(pdb.spec, {}) is None:
            continue  # malformed: the schema check reports it
        if _pod_owners(ctx, pdb):
            continue
        namespace = _namespace(ctx, pdb) or "(none)"
        if selector is None:
            yield Hit(
                "has no spec.selector: a policy/v1 PodDisruptionBudget without a selector "
                "selects no pods (use a matchLabels selector, or {} for every pod of the "
                "namespace)",
                pdb,
            )
            continue
        yield Hit(
            f"selector {_selector_text(selector)} matches no pod template in env {pdb.env}, "
            f"namespace {namespace}: the budget protects nothing",
            pdb,
        )


@rule(
    "pdb-overlap",
    kinds=(PDB_KIND,),
    remediation=(
        "Keep one PodDisruptionBudget per workload: narrow one selector or delete the duplicate."
    ),
)
def pdb_overlap(ctx: CheckContext) -> Iterator[Hit]:
    """Two PodDisruptionBudgets in the same env and namespace select the same workload's pods.

    The eviction API refuses pods covered by more than one budget with HTTP 500 ("This pod
    has more than one PodDisruptionBudget, which the eviction subresource does not
    support"), which ``kubectl drain`` does not retry: the drain fails on those pods. Reported
    once per pair, on the later budget.
    """
    for env in ctx.envs():
        pdbs = ctx.of_kind(PDB_KIND, env=env)
        owners = {id(pdb): _pod_owners(ctx, pdb) for pdb in pdbs}
        for later_index, later in enumerate(pdbs):
            for earlier in pdbs[:later_index]:
                # The same budget rendered by two services is one object on the cluster.
                if earlier.key == later.key or _namespace(ctx, earlier) != _namespace(ctx, later):
                    continue
                earlier_keys = {o.key for o in owners[id(earlier)]}
                shared = [o for o in owners[id(later)] if o.key in earlier_keys]
                if not shared:
                    continue
                names = ", ".join(f"{o.kind}/{o.name}" for o in shared)
                yield Hit(
                    f"selects the pods of {names} like PodDisruptionBudget/{earlier.name} "
                    f"(service {earlier.service}) does: evicting them fails with HTTP 500 "
                    '"more than one PodDisruptionBudget" and kubectl drain stops',
                    later,
                )
