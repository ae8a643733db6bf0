"""``gitops.diff.secrets``: a Secret's keys are reported, its values never."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops.diff.secrets import (
    REDACTED,
    REDACTED_CHANGED,
    SecretKeyChanges,
    redact_secret,
    secret_value_hashes,
)
from tests.unit.diff.scratch import (
    LAYOUT,
    NEW_SECRET_VALUE,
    OLD_SECRET_VALUE,
    all_formats,
    diff,
    secret_yaml,
    write,
)


def test_secret_values_never_appear_in_any_format(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "base/web/secret.yaml": secret_yaml(NEW_SECRET_VALUE).replace(
                "  password:", "  token: dG9rZW4tdmFsdWUtMTIz\n  password:"
            )
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    secrets = [c for c in result.changes if c.key and c.key.kind == "Secret"]
    assert len(secrets) == 3
    assert secrets[0].secret is not None
    assert (secrets[0].secret.changed, secrets[0].secret.added) == (("password",), ("token",))
    assert "+  password: <redacted, value changed>" in secrets[0].diff
    forbidden = [OLD_SECRET_VALUE, NEW_SECRET_VALUE, "token-value-123"]
    forbidden += [base64.b64encode(v.encode()).decode() for v in forbidden]
    for name, output in all_formats(result).items():
        assert "password" in output, name  # the key is reported...
        for value in forbidden:
            assert value not in output, (name, value)  # ...never the value


def test_secret_removed_lists_its_keys_without_values(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "base/web/kustomization.yaml": LAYOUT["base/web/kustomization.yaml"].replace(
                "  - secret.yaml\n", ""
            )
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    removed = [c for c in result.changes if c.action == "removed"]
    assert [c.secret.removed for c in removed if c.secret] == [("password",)] * 3
    for output in all_formats(result).values():
        assert base64.b64encode(OLD_SECRET_VALUE.encode()).decode() not in output


def _secret_body(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data": 1}'},
        },
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        "stringData": {"plain": "visible-in-yaml"},
    }


def test_value_hashes_compare_decoded_values_across_data_and_string_data() -> None:
    """``data`` is base64 and ``stringData`` plain: the same value hashes the same in both, so
    moving a value between them is not a change of value."""
    body = _secret_body(password="p")
    hashes = secret_value_hashes(body)
    assert set(hashes) == {"data.password", "stringData.plain"}
    moved = {"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "p"}}
    assert secret_value_hashes(moved)["stringData.password"] == hashes["data.password"]
    assert (
        secret_value_hashes(_secret_body(password="q"))["data.password"] != hashes["data.password"]
    )
    assert "p" not in hashes.values()


def test_redact_replaces_every_value_and_marks_the_changed_ones() -> None:
    body = _secret_body(password="hunter2", user="admin")
    redacted = redact_secret(body, changed=["data.password"])
    assert redacted["data"] == {"password": REDACTED_CHANGED, "user": REDACTED}
    assert redacted["stringData"] == {"plain": REDACTED}
    annotations = redacted["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/last-applied-configuration"] == REDACTED
    # A copy: the caller's body (hashed afterwards) keeps its values.
    assert body["stringData"] == {"plain": "visible-in-yaml"}
    # Only core v1 Secrets carry secret values; anything else passes through as is.
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"password": "x"}}
    assert redact_secret(config_map) is config_map


def test_key_changes_describe_themselves_without_values() -> None:
    changes = SecretKeyChanges(added=("token",), changed=("password",))
    assert changes.describe() == "keys added: token; values changed: password"
    assert changes.to_json() == {"added": ["token"], "removed": [], "changed": ["password"]}
    assert SecretKeyChanges().describe() == ""
