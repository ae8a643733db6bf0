"""Waivers: owned and expiring exceptions, from policy/waivers.yaml or a resource annotation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.check import run_check
from gitops.config import load_config
from gitops.errors import ConfigError
from tests.conftest import FIXTURES

REPO = FIXTURES / "waivers"
TODAY = dt.date(2026, 11, 28)


def _by_rule(rule: str, repo: Path = REPO) -> tuple[list[str], list[str]]:
    report = run_check(repo, load_config(repo), today=TODAY)
    kept = [f"{f.resource.split('/')[-1]}: {f.message}" for f in report.findings if f.rule == rule]
    waived = [
        f"{f.resource.split('/')[-1]}: {reason}" for f, reason in report.waived if f.rule == rule
    ]
    return kept, waived


def test_file_waiver_excuses_matching_findings_until_it_expires() -> None:
    kept, waived = _by_rule("image-tag-mutable")
    assert (
        "web: policy/waivers.yaml#1 (team-shop): the web image is promoted by digest in the "
        "release pipeline" in waived
    )
    # the expired waiver (#2) no longer excuses api
    assert any(line.startswith("api: ") for line in kept)


def test_annotation_waiver_needs_a_reason() -> None:
    kept, waived = _by_rule("image-tag-mutable")
    assert "worker: annotation: vendor ships only latest, pinned by digest at deploy" in waived
    batch = [line for line in kept if line.startswith("batch: ")]
    assert len(batch) == 1
    assert batch[0].endswith(
        "(waiver annotation gitops.io/waive ignored: gitops.io/waive-reason is missing)"
    )


def test_expired_waiver_is_an_error_and_unused_one_a_warning() -> None:
    report = run_check(REPO, load_config(REPO), today=TODAY)
    own = {(f.rule, str(f.severity)): f for f in report.findings if f.rule.startswith("waiver-")}
    expired = own[("waiver-expired", "error")]
    assert expired.message == (
        "waiver for image-tag-mutable (team-shop) expired on 2001-01-01: migration to "
        "versioned tags is tracked in SHOP-42"
    )
    assert expired.source == "policy/waivers.yaml"
    unused = own[("waiver-unused", "warning")]
    assert unused.message == (
        "policy/waivers.yaml#3: waiver for pdb-overlap (service=web) matches no finding: delete it"
    )
    assert report.exit_code == 1


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "- rule: image-tag-mutable\n  owner: me\n  expires: 2999-01-01\n",
            "policy/waivers.yaml#1: waiver is missing reason",
        ),
        (
            "- rule: image-tag-mutable\n  reason: r\n  expires: 2999-01-01\n",
            "policy/waivers.yaml#1: waiver is missing owner",
        ),
        (
            "- rule: no-such-rule\n  reason: r\n  owner: me\n  expires: 2999-01-01\n",
            "policy/waivers.yaml#1: unknown rule 'no-such-rule'",
        ),
        (
            "- rule: image-tag-mutable\n  reason: r\n  owner: me\n  expires: soon\n",
            "policy/waivers.yaml#1: expires must be a date (YYYY-MM-DD)",
        ),
        (
            "- rule: image-tag-mutable\n  reason: r\n  owner: me\n  expires: 2999-01-01\n"
            "  match: {team: x}\n",
            "policy/waivers.yaml#1: match may only use env, kind, name, service",
        ),
    ],
)
def test_invalid_waivers_are_rejected(
    fixture_repo: Callable[[str], Path], entry: str, expected: str
) -> None:
    repo = fixture_repo("waivers")
    (repo / "policy" / "waivers.yaml").write_text("waivers:\n" + entry)
    with pytest.raises(ConfigError) as excinfo:
        run_check(repo, load_config(repo), today=TODAY)
    assert str(excinfo.value).startswith(expected)
