"""``gitops.policy.remote``: remote bases and components, pinned or not, found even when the
overlay does not render."""

from __future__ import annotations

from tests.conftest import FIXTURES
from tests.unit.policy.findings import check_findings


def test_remote_base_walks_bases_and_components_even_when_render_fails() -> None:
    findings = check_findings(FIXTURES / "remote-base-unpinned")
    assert [f.rule for f in findings if f.rule == "render-failed"] == ["render-failed"]
    remote = sorted(
        (f.env, f.service, f.source, f.message) for f in findings if f.rule == "remote-base"
    )
    assert remote == [
        (
            "dev",
            "web",
            "base/web/kustomization.yaml",
            "remote git@git.invalid:example-org/platform.git//base/queue is not pinned "
            "(no ?ref= or ?version=): pin it with ?ref=<tag or commit>",
        ),
        (
            "dev",
            "web",
            "base/web/kustomization.yaml",
            "remote https://git.invalid/example-org/platform//base/cache?ref=main is not pinned "
            "(ref=main is a branch or moving name, not a semver tag or commit SHA): pin it with "
            "?ref=<tag or commit>",
        ),
        (
            "dev",
            "web",
            "components/metrics/kustomization.yaml",
            "remote https://raw.invalid/example-org/metrics/master/servicemonitor.yaml is not "
            "pinned (the file URL names no tag or commit): pin it with ?ref=<tag or commit>",
        ),
    ]
