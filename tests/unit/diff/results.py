"""A hand-built ``DiffResult`` for the format and result tests: no git, no kustomize."""

from __future__ import annotations

from gitops.diff.resources import ResourceChange
from gitops.diff.result import DiffResult
from gitops.diff.secrets import SecretKeyChanges
from gitops.diff.select import AffectedOverlay, SideRef
from gitops.model import Finding, ResourceKey, Severity

BASE = SideRef("merge-base(HEAD, main)", "0123456789abcdef0123")
HEAD = SideRef("working tree", None)
DEPLOYMENT = ResourceKey("apps/v1", "Deployment", "demo", "web")
SECRET = ResourceKey("v1", "Secret", "demo", "db")
REPLICAS_DIFF = (
    "--- base/prod/web/Deployment/web\n+++ head/prod/web/Deployment/web\n"
    "@@ -5 +5 @@\n-  replicas: 2\n+  replicas: 3\n"
)


def sample_result() -> DiffResult:
    """prod/web changed, a Secret's keys changed, dev/web failed to render on head; one finding
    added in prod and one fixed in dev."""
    return DiffResult(
        base=BASE,
        head=HEAD,
        rendered_base=("dev/web", "prod/web"),
        rendered_head=("dev/web", "prod/web"),
        changes=(
            ResourceChange("prod", "web", "changed", DEPLOYMENT, REPLICAS_DIFF),
            ResourceChange(
                "prod", "web", "changed", SECRET, "", SecretKeyChanges(added=("token",))
            ),
            ResourceChange("dev", "web", "render-error", None, side="head", message="boom"),
        ),
        findings_added=(
            Finding("prod", "web", "pdb-blocks-drain", "policy/v1/PodDisruptionBudget/demo/web",
                    "blocks every drain", Severity.WARNING),
        ),
        findings_fixed=(Finding("dev", "web", "render-failed", "", "fixed now"),),
        affected=(AffectedOverlay("prod/web", "overlays/prod/web/replicas.yaml changed"),),
        notes=("remote base not followed",),
        overlay_order=("dev/web", "staging/web", "prod/web"),
        checked=("dev/web", "staging/web", "prod/web"),
    )  # fmt: skip


def empty_result() -> DiffResult:
    return DiffResult(BASE, HEAD, (), (), (), (), (), overlay_order=("dev/web",))
