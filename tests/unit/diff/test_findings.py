"""``gitops.diff.findings``: the check findings a change adds and fixes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops.diff import format_markdown
from tests.unit.diff.scratch import changed, commit, diff, overlay_kustomization, write


def test_render_failure_is_a_change_and_its_fix_a_fixed_finding(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "overlays/dev/web/kustomization.yaml": overlay_kustomization(
                "replicas.yaml", resources=("missing.yaml",)
            )
        },
    )
    commit(scratch_repo, "break dev")
    write(
        scratch_repo,
        {"overlays/dev/web/kustomization.yaml": overlay_kustomization("replicas.yaml")},
    )
    commit(scratch_repo, "fix dev")
    untouched()
    broken = diff(scratch_repo, base="HEAD~2", head="HEAD~1")
    assert changed(broken) == [("render-error", "dev/web", "head")]
    assert broken.changes[0].message.startswith("resource 'missing.yaml' listed in its kust")
    assert [f.rule for f in broken.findings_added] == ["render-failed"]
    assert broken.findings_fixed == ()
    fixed = diff(scratch_repo, base="HEAD~1", head="HEAD")
    assert [(f.rule, f.env, f.service) for f in fixed.findings_fixed] == [
        ("render-failed", "dev", "web")
    ]
    assert fixed.findings_added == ()
    markdown = format_markdown(fixed)
    assert "#### Findings fixed by this change" in markdown
    assert "Render error on **base**" in markdown


def test_drain_blocking_pdb_is_reported_as_added(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "overlays/prod/web/kustomization.yaml": overlay_kustomization(
                "replicas.yaml", resources=("pdb.yaml",)
            ),
            "overlays/prod/web/pdb.yaml": (
                "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
                "spec:\n  minAvailable: 3\n  selector:\n    matchLabels: {app: web}\n"
            ),
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    assert ("pdb-blocks-drain", "prod", "web") in {
        (f.rule, f.env, f.service) for f in result.findings_added
    }
    assert all(f.rule != "pdb-blocks-drain" for f in result.findings_fixed)
