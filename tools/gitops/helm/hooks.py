"""Which rendered objects Argo CD applies in a sync: its hook rules, Helm's hook annotations
mapped the way Argo CD maps them (argo-cd gitops-engine/pkg/sync/hook and
gitops-engine/pkg/sync/sync_phase.go).

* ``argocd.argoproj.io/hook`` (comma-separated): Argo CD's own hook types; when it names any,
  ``helm.sh/hook`` is ignored (hook.Types). ``Skip`` alone: never applied (hook.Skip).
* ``helm.sh/hook`` (comma-separated; ``crd-install`` is not a hook, helm/hook.go IsHook):
  ``pre-install`` and ``pre-upgrade`` run as PreSync, ``post-install`` and ``post-upgrade``
  as PostSync (helm/type.go); every other Helm hook (``test``, ``pre-delete``,
  ``post-delete``, ``pre-rollback``, ``post-rollback``) maps to no type.
* A hook takes part in the phases its types name among PreSync, Sync, PostSync, SyncFail
  (syncPhases); a hook whose types name none of them (a Helm test, a delete hook) is never
  applied by a sync. Anything that is not a hook is applied in the Sync phase.

helm template prints hooks with the other objects (unless ``--no-hooks``); gitops checks
what Argo CD applies, so an object no sync phase applies is left out of the checks.

    >>> sync_phases({"metadata": {"annotations": {"helm.sh/hook": "pre-upgrade"}}})
    ('PreSync',)
    >>> applied_by_sync({"metadata": {"annotations": {"helm.sh/hook": "test"}}})
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ARGOCD_HOOK = "argocd.argoproj.io/hook"
HELM_HOOK = "helm.sh/hook"
# common.NewHookType: Argo CD's hook types.
_ARGOCD_TYPES = frozenset(
    {"PreSync", "Sync", "PostSync", "SyncFail", "PreDelete", "PostDelete", "Skip"}
)
# helm/type.go: the Helm hooks Argo CD maps, and to what.
_HELM_TYPES = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-upgrade": "PostSync",
    "post-install": "PostSync",
}
_SYNC_PHASES = ("PreSync", "Sync", "PostSync", "SyncFail")


def _annotation_csv(body: Mapping[str, Any], key: str) -> list[str] | None:
    """resource.GetAnnotationCSVs: the trimmed, comma-separated values; None when absent."""
    metadata = body.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if not isinstance(annotations, Mapping) or key not in annotations:
        return None
    return [part.strip() for part in str(annotations[key]).split(",") if part.strip()]


def hook_types(body: Mapping[str, Any]) -> list[str]:
    """hook.Types: Argo CD's types, else the Helm hooks' mapped types."""
    argocd = [t for t in _annotation_csv(body, ARGOCD_HOOK) or [] if t in _ARGOCD_TYPES]
    if argocd:
        return argocd
    return [_HELM_TYPES[t] for t in _annotation_csv(body, HELM_HOOK) or [] if t in _HELM_TYPES]


def is_hook(body: Mapping[str, Any]) -> bool:
    """hook.IsHook: an Argo CD hook annotation (unless it only skips), else a Helm hook
    annotation other than ``crd-install``."""
    if _annotation_csv(body, ARGOCD_HOOK) is not None:
        return not skipped(body)
    helm = _annotation_csv(body, HELM_HOOK)
    return helm is not None and helm != ["crd-install"]


def skipped(body: Mapping[str, Any]) -> bool:
    """hook.Skip: ``Skip`` is the object's only hook type."""
    types = hook_types(body)
    return "Skip" in types and len(types) == 1


def sync_phases(body: Mapping[str, Any]) -> tuple[str, ...]:
    """syncPhases: the sync phases that apply the object (none for a skipped object or a hook
    without a sync type), in phase order."""
    if skipped(body):
        return ()
    if is_hook(body):
        types = set(hook_types(body))
        return tuple(phase for phase in _SYNC_PHASES if phase in types)
    return ("Sync",)


def applied_by_sync(body: Mapping[str, Any]) -> bool:
    return bool(sync_phases(body))
