"""Rules about API versions: the target Kubernetes version no longer serves, or deprecates,
an apiVersion a manifest uses. The lifecycles are data (``gitops/data/api-lifecycles.yaml``,
with their sources, read by :mod:`gitops.k8s.apis`), not code.

    >>> [f.message for f in run_check(repo, config).findings if f.rule == "api-removed"][0]
    'policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25 (target 1.33): use ...'
"""

from __future__ import annotations

from collections.abc import Iterator

from gitops.k8s.apis import lifecycle
from gitops.model import Resource, Severity
from gitops.policy.engine import CheckContext, Hit, Param, rule


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
        entry = lifecycle(resource.key.api_version, resource.kind)
        if entry is None or not entry.removed_at(target):
            continue
        yield Hit(entry.removal_message(target), resource)


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
        entry = lifecycle(resource.key.api_version, resource.kind)
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
            f"(target 1.{target}): use {entry.replacement_at(target)}",
            resource,
        )
