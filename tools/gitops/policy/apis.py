"""Rules about API versions: the target Kubernetes version no longer serves, or deprecates,
an apiVersion a manifest uses. The lifecycles are data (``gitops/data/api-lifecycles.yaml``,
with their sources), not code.

    >>> [f.message for f in run_check(repo, config).findings if f.rule == "api-removed"][0]
    'policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25 (target 1.33): use ...'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gitops import yamlio
from gitops.model import Resource, Severity
from gitops.policy.engine import CheckContext, Hit, Param, rule

LIFECYCLES_FILE = "api-lifecycles.yaml"


@dataclass(frozen=True)
class ApiLifecycle:
    api_version: str
    kind: str
    deprecated_in: int | None  # minor version; None when never announced separately
    removed_in: int | None  # minor version; None when deprecated without a removal date
    replacement: str

    @property
    def text(self) -> str:
        return f"{self.api_version} {self.kind}"


def parse_lifecycles(data: Any, where: str) -> tuple[ApiLifecycle, ...]:
    """The lifecycles of an ``api-lifecycles.yaml`` document (one entry per apiVersion x kind)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("apis"), list):
        raise ValueError(f"{where}: expected a mapping with an apis: list")
    if not data.get("sources"):
        raise ValueError(f"{where}: expected sources: naming where the versions come from")
    found: list[ApiLifecycle] = []
    for index, entry in enumerate(data["apis"]):
        try:
            found += [
                ApiLifecycle(
                    str(version),
                    str(kind),
                    _minor(entry["deprecated"]),
                    _minor(entry["removed"]),
                    str(entry["replacement"]),
                )
                for version in entry["apiVersions"]
                for kind in entry["kinds"]
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: apis[{index}]: {error!r}") from None
    return tuple(found)


def _minor(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a minor version number or null, got {value!r}")
    return value


@cache
def api_lifecycles() -> tuple[ApiLifecycle, ...]:
    """The packaged lifecycle table."""
    text = resources.files("gitops").joinpath("data", LIFECYCLES_FILE).read_text(encoding="utf-8")
    return parse_lifecycles(yamlio.safe_load(text), f"gitops/data/{LIFECYCLES_FILE}")


@cache
def _lifecycle_by_key() -> dict[tuple[str, str], ApiLifecycle]:
    return {(a.api_version, a.kind): a for a in api_lifecycles()}


def _all_resources(ctx: CheckContext) -> list[Resource]:
    return [*ctx.resources, *ctx.argocd_resources]


@rule(
    "api-removed",
    remediation=(
        "Move the manifest to the replacement API version named in the finding before upgrading "
        "the cluster."
    ),
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
def api_removed(ctx: CheckContext) -> Iterator[Hit]:
    """A resource uses an apiVersion the target Kubernetes version no longer serves.

    The API server answers "no matches for kind" and Argo CD fails the whole sync, usually on
    the day the cluster is upgraded, not the day the manifest was written. The target is
    ``kubernetesVersion`` in gitops.yaml; the message names the replacement."""
    target = ctx.config.minor_version
    for resource in _all_resources(ctx):
        entry = _lifecycle_by_key().get((resource.key.api_version, resource.kind))
        if entry is None or entry.removed_in is None or entry.removed_in > target:
            continue
        yield Hit(
            f"{entry.text} was removed in Kubernetes 1.{entry.removed_in} "
            f"(target 1.{target}): use {entry.replacement}",
            resource,
        )


@rule(
    "api-deprecated",
    Severity.WARNING,
    remediation=(
        "Move the manifest to the replacement API version named in the finding while both are "
        "served."
    ),
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
def api_deprecated(ctx: CheckContext) -> Iterator[Hit]:
    """A resource uses an apiVersion that the target Kubernetes version deprecates but serves.

    Every apply prints a deprecation warning today and fails after the upgrade that removes it;
    migrating now is a one-line change, migrating during a cluster upgrade is an incident."""
    target = ctx.config.minor_version
    for resource in _all_resources(ctx):
        entry = _lifecycle_by_key().get((resource.key.api_version, resource.kind))
        if entry is None or entry.deprecated_in is None or entry.deprecated_in > target:
            continue
        if entry.removed_in is not None and entry.removed_in <= target:
            continue  # api-removed reports it
        removal = (
            f", removed in 1.{entry.removed_in}"
            if entry.removed_in is not None
            else ", no removal scheduled"
        )
        yield Hit(
            f"{entry.text} is deprecated since Kubernetes 1.{entry.deprecated_in}{removal} "
            f"(target 1.{target}): use {entry.replacement}",
            resource,
        )
