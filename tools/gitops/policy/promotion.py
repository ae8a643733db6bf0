"""Rules about the promotion order: a later env must not be weaker than an earlier one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gitops.model import Resource
from gitops.policy.engine import CheckContext, Hit, containers, rule

REGRESSION_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")
_REPLICATED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


@dataclass(frozen=True)
class _Strength:
    """What makes one env's copy of a workload resilient."""

    workload: Resource
    min_replicas: int | None  # None: not replicated (DaemonSet) or not interpretable
    min_from: str  # "HPA x minReplicas" or "replicas"
    hpa: str | None
    max_replicas: int | None
    pdb: str | None
    probes: dict[str, set[str]]  # container name -> {"livenessProbe", "readinessProbe"}


@rule(
    "env-regression",
    kinds=("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"),
    remediation=(
        "Give the later env at least what the earlier one has (replicas/minReplicas, maxReplicas, "
        "HPA, PDB, probes), or waive the finding with a reason."
    ),
)
def env_regression(ctx: CheckContext) -> Iterator[Hit]:
    """A later env in the promotion order is weaker than an earlier one for the same workload.

    Envs in gitops.yaml go weakest to strongest: what passed in staging with 2 replicas, a PDB
    and probes must not reach prod with 1 replica and none of them, or the first node drain or
    deadlock in prod is also the first time that configuration meets real traffic. Compared per
    workload present in both envs: minimum replicas (HPA minReplicas, else replicas), HPA
    maxReplicas, having an HPA, having a PDB, liveness and readiness probes per container. Each
    later env is compared with the strongest earlier env for each aspect. Without envs in
    gitops.yaml the order is assumed from common env names (dev/develop/development,
    test/qa/int/uat, stg/stage/staging/preprod, prod/prd/production/live, earliest first; the
    report's header says so): envs of one tier are not compared with each other, and an env
    with another name has no rank and is skipped."""
    config = ctx.config
    envs = [env for env in ctx.envs() if config.env_rank(env) is not None]
    strengths: dict[str, dict[tuple[str, str, str], _Strength]] = {
        env: {
            (w.service, w.kind, w.name): _strength(ctx, w)
            for w in ctx.of_kind(*REGRESSION_KINDS, env=env)
        }
        for env in envs
    }
    for env in envs:
        earlier_envs = [e for e in envs if config.comes_before(e, env)]
        for key, later in strengths[env].items():
            earlier = [(e, strengths[e][key]) for e in earlier_envs if key in strengths[e]]
            if earlier:
                yield from _regressions(env, later, earlier)


def _regressions(env: str, later: _Strength, earlier: list[tuple[str, _Strength]]) -> Iterator[Hit]:
    # Nearest earlier env first among equals: it is the one the change was promoted from.
    ordered = list(reversed(earlier))
    for check in (_min_replicas_lower, _autoscaling_weaker, _pdb_missing, _probes_missing):
        for message in check(env, later, ordered):
            yield Hit(message, later.workload)


def _min_replicas_lower(
    env: str, later: _Strength, ordered: list[tuple[str, _Strength]]
) -> Iterator[str]:
    if later.min_replicas is None:
        return
    candidates = [(e, s) for e, s in ordered if s.min_replicas is not None]
    if candidates:
        best_env, best = max(candidates, key=lambda c: c[1].min_replicas or 0)
        if best.min_replicas is not None and later.min_replicas < best.min_replicas:
            yield (
                f"minimum replicas {later.min_replicas} in {env} ({later.min_from}) is lower "
                f"than {best.min_replicas} in {best_env} ({best.min_from})"
            )


def _autoscaling_weaker(
    env: str, later: _Strength, ordered: list[tuple[str, _Strength]]
) -> Iterator[str]:
    with_hpa = [(e, s) for e, s in ordered if s.hpa is not None]
    if with_hpa and later.hpa is None:
        hpa_env, hpa = with_hpa[0]
        yield (
            f"no HorizontalPodAutoscaler in {env}, but {hpa_env} has {hpa.hpa} "
            f"(maxReplicas {hpa.max_replicas})"
        )
    elif later.max_replicas is not None:
        candidates = [(e, s) for e, s in with_hpa if s.max_replicas is not None]
        if candidates:
            best_env, best = max(candidates, key=lambda c: c[1].max_replicas or 0)
            if best.max_replicas is not None and later.max_replicas < best.max_replicas:
                yield (
                    f"HPA {later.hpa} maxReplicas {later.max_replicas} in {env} is lower than "
                    f"{best.max_replicas} in {best_env} ({best.hpa})"
                )


def _pdb_missing(env: str, later: _Strength, ordered: list[tuple[str, _Strength]]) -> Iterator[str]:
    with_pdb = [(e, s) for e, s in ordered if s.pdb is not None]
    if with_pdb and later.pdb is None:
        pdb_env, pdb = with_pdb[0]
        yield f"no PodDisruptionBudget covers the pods in {env}, but {pdb_env} has {pdb.pdb}"


def _probes_missing(
    env: str, later: _Strength, ordered: list[tuple[str, _Strength]]
) -> Iterator[str]:
    for container, probes in sorted(later.probes.items()):
        for probe in ("livenessProbe", "readinessProbe"):
            if probe in probes:
                continue
            having = [e for e, s in ordered if probe in s.probes.get(container, set())]
            if having:
                yield f"container {container}: no {probe} in {env}, but {having[0]} has one"


def _strength(ctx: CheckContext, workload: Resource) -> _Strength:
    """The workload's resilience, read through the relation index so that "its HPA", "its PDB"
    and "its minimum replicas" mean what they mean to the HPA and PDB rules (API group-aware
    targets, the Application's namespace, a malformed count read as "not interpretable")."""
    relations = ctx.relations
    hpas = relations.hpas_managing(workload)
    floor = relations.replica_floor(workload)
    hpa = floor.hpa if floor is not None and floor.hpa is not None else next(iter(hpas), None)
    pdb = next(iter(relations.pdbs_covering(workload)), None)
    min_replicas: int | None = None
    min_from = "replicas"
    if hpa is not None:
        min_replicas = floor.count if floor is not None else None
        min_from = f"HPA {hpa.name} minReplicas"
    elif workload.kind in _REPLICATED_KINDS and floor is not None:
        min_replicas = floor.count
    probes = {
        str(c.get("name", "")): {p for p in ("livenessProbe", "readinessProbe") if c.get(p)}
        for c in containers(workload)
    }
    return _Strength(
        workload=workload,
        min_replicas=min_replicas,
        min_from=min_from,
        hpa=hpa.name if hpa is not None else None,
        max_replicas=_int(hpa.spec.get("maxReplicas"), default=None) if hpa is not None else None,
        pdb=pdb.name if pdb is not None else None,
        probes=probes,
    )


def _int(value: Any, default: int | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default
