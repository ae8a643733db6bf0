"""``gitops.policy.secrets``: plaintext Secrets in the repo, reported by key, never by value."""

from __future__ import annotations

from tests.conftest import FIXTURES
from tests.unit.policy.findings import check_findings


def test_secret_plaintext_names_keys_never_values() -> None:
    findings = [
        f for f in check_findings(FIXTURES / "secret-plaintext") if f.rule == "secret-plaintext"
    ]
    assert sorted((f.resource, f.message, f.source) for f in findings) == [
        (
            "v1/Secret/demo/web-api-key",
            "Secret carries secret material in git (stringData keys: API_KEY): reference it "
            "from a secret store (ExternalSecret/SealedSecret) instead of rendering it",
            "overlays/dev/web/secrets.yaml",
        ),
        (
            "v1/Secret/demo/web-db-b2k295b95t",
            "Secret carries secret material in git (data keys: DB_PASSWORD, DB_USER): "
            "reference it from a secret store (ExternalSecret/SealedSecret) instead of "
            "rendering it",
            "overlays/dev/web/kustomization.yaml",
        ),
    ]
    assert not any("do-not-print-me" in f.message for f in findings)
