"""Waivers: owned and expiring exceptions, from policy/waivers.yaml or a resource annotation.

What the waivers fixture reports (a file waiver applied, an expired one, an unused one, an
annotation waiver with and without its reason) is in tests/fixtures/waivers/expected.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.check import run_check
from gitops.config import load_config
from gitops.errors import ConfigError
from gitops.workspace import Workspace
from tests.conftest import FIXTURES

REPO = FIXTURES / "waivers"
TODAY = dt.date(2026, 11, 28)


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
        run_check(Workspace.open(repo, load_config(repo)), today=TODAY)
    assert str(excinfo.value).startswith(expected)
