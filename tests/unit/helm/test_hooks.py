"""``gitops.helm.hooks``: Argo CD's hook rules (gitops-engine pkg/sync/hook, sync_phase.go)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.helm.hooks import applied_by_sync, hook_types, is_hook, sync_phases


def _object(**annotations: str) -> dict[str, Any]:
    keys = {"helm": "helm.sh/hook", "argocd": "argocd.argoproj.io/hook"}
    return {"metadata": {"annotations": {keys[k]: v for k, v in annotations.items()}}}


@pytest.mark.parametrize(
    ("annotations", "phases"),
    [
        ({}, ("Sync",)),  # not a hook: applied in the Sync phase
        ({"helm": "pre-install"}, ("PreSync",)),
        ({"helm": "pre-upgrade, post-upgrade"}, ("PreSync", "PostSync")),
        ({"helm": "post-install"}, ("PostSync",)),
        ({"helm": "test"}, ()),  # a Helm test: a hook of no sync phase, never applied
        ({"helm": "pre-delete"}, ()),
        ({"helm": "post-rollback"}, ()),
        ({"helm": "crd-install"}, ("Sync",)),  # not a hook (helm/hook.go IsHook)
        ({"argocd": "Skip"}, ()),
        ({"argocd": "Skip,PreSync"}, ("PreSync",)),  # Skip alone skips
        ({"argocd": "Sync", "helm": "test"}, ("Sync",)),  # Argo CD's own annotation wins
        ({"argocd": "PostDelete"}, ()),
        ({"argocd": "NoSuchPhase", "helm": "post-install"}, ("PostSync",)),
    ],
)
def test_phases_follow_argo_cds_mapping(
    annotations: dict[str, str], phases: tuple[str, ...]
) -> None:
    body = _object(**annotations)
    assert sync_phases(body) == phases
    assert applied_by_sync(body) == bool(phases)


def test_hook_types_and_what_counts_as_a_hook() -> None:
    assert hook_types(_object(helm="pre-install,test")) == ["PreSync"]
    assert is_hook(_object(helm="test"))
    assert not is_hook(_object(argocd="Skip"))  # hook.IsHook: a skipped object is no hook
    assert not is_hook({"kind": "ConfigMap"})
    assert sync_phases({"metadata": "not a mapping"}) == ("Sync",)
