"""``gitops.diff.findings``: the check findings a change adds and fixes, wherever they land, and
the changed overlay that caused each."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.diff import format_json, format_markdown, format_text
from gitops.diff.compare import Causes
from gitops.model import Finding
from tests.conftest import REPO_ROOT
from tests.unit.diff.scratch import changed, commit, diff, git, overlay_kustomization, write


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
    assert broken.changes[0].message.startswith(
        "resource 'missing.yaml' listed in overlays/dev/web/kustomization.yaml does not exist"
    )
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


# The Service healthz deleted by a patch of overlays/prod/healthz (nothing else changes): the
# Ingress of prod/shared, untouched, loses its /health backend.
REMOVE_HEALTHZ_SERVICE = """\
patches:
  - target: {kind: Service, name: healthz}
    patch: |
      $patch: delete
      apiVersion: v1
      kind: Service
      metadata:
        name: healthz
"""
MANIFEST_PARTS = ("gitops.yaml", "base", "components", "overlays", "argocd", "policy")


@pytest.fixture
def this_repo(tmp_path: Path) -> Path:
    """This repository's manifests, committed in a scratch git repository."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for part in MANIFEST_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part)
        else:
            shutil.copy(source, repo / part)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "this repository")
    return repo


def test_a_finding_the_change_causes_in_another_overlay_is_added(this_repo: Path) -> None:
    kustomization = this_repo / "overlays/prod/healthz/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + REMOVE_HEALTHZ_SERVICE)
    result = diff(this_repo, base="HEAD")
    assert [(c.action, c.overlay, c.key.short() if c.key else "") for c in result.changes] == [
        ("removed", "prod/healthz", "Service/healthz")
    ]
    assert "prod/shared" in result.checked and "dev/healthz" in result.checked
    (backend,) = [f for f in result.findings_added if f.rule == "ingress-backend-unknown"]
    assert (backend.env, backend.service, backend.resource) == (
        "prod",
        "shared",
        "networking.k8s.io/v1/Ingress/integration/integration-services",
    )
    assert "backend Service healthz does not exist" in backend.message
    assert result.causes(backend) == ("prod/healthz",)
    assert result.findings_fixed == ()
    document = json.loads(format_json(result))
    (added,) = [f for f in document["findings"]["added"] if f["rule"] == "ingress-backend-unknown"]
    assert (added["overlay"], added["causedBy"]) == ("prod/shared", ["prod/healthz"])
    text = format_text(result)
    assert (
        "  error ingress-backend-unknown prod/shared Ingress/integration-services: rule "
        "api.example.com path /health: backend Service healthz does not exist"
    ) in text
    assert text.count("(caused by prod/healthz)") == 1
    markdown = format_markdown(result)
    assert "| prod | shared | 0 | 0 | 0 | 0 | 1 | 0 |" in markdown
    assert re.search(
        r"- `ingress-backend-unknown` error prod/shared Ingress/integration-services: .*"
        r"backend Service healthz does not exist.* \(caused by prod/healthz\)",
        markdown,
    )


def test_causes_name_the_changed_overlay_of_the_same_namespace_then_env_then_service() -> None:
    namespaces = {
        "prod/web": frozenset({"shop"}),
        "prod/api": frozenset({"shop"}),
        "prod/batch": frozenset({"jobs"}),
    }
    causes = Causes(("prod/web", "dev/batch"), False, False, namespaces)

    def finding(env: str, service: str) -> Finding:
        return Finding(env, service, "r", "", "m")

    assert causes.cause_of(finding("prod", "web")) == ("prod/web",)  # its own overlay
    assert causes.cause_of(finding("prod", "api")) == ("prod/web",)  # same namespace
    assert causes.cause_of(finding("prod", "batch")) == ("prod/web",)  # same env
    assert causes.cause_of(finding("staging", "batch")) == ("dev/batch",)  # same service
    argocd = Causes(("prod/web",), True, False, namespaces)
    assert argocd.cause_of(finding("", "argocd")) == ("argocd",)
    assert Causes(("prod/web",), False, True, {}).cause_of(finding("dev", "x")) == ("gitops.yaml",)


def test_a_duplicate_key_the_change_writes_is_an_added_finding(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    text = overlay_kustomization("replicas.yaml") + "resources:\n  - ../../../base/web\n"
    write(scratch_repo, {"overlays/prod/web/kustomization.yaml": text})
    untouched()
    result = diff(scratch_repo, base="HEAD")
    (added,) = [f for f in result.findings_added if f.rule == "kustomization-duplicate-key"]
    assert (added.env, added.service, added.source) == (
        "prod",
        "web",
        "overlays/prod/web/kustomization.yaml",
    )
    assert "duplicate key 'resources' at lines 3 and 7" in added.message
    assert result.causes(added) == ("prod/web",)
