"""Secrets in a diff: values compared by hash, never printed."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"


REDACTED_CHANGED = "<redacted, value changed>"


_SECRET_FIELDS = ("data", "stringData")


@dataclass(frozen=True)
class SecretKeyChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
        }

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(keys)}"
            for label, keys in (
                ("keys added", self.added),
                ("keys removed", self.removed),
                ("values changed", self.changed),
            )
            if keys
        ]
        return "; ".join(parts)


def _is_secret(body: dict[str, Any]) -> bool:
    return body.get("kind") == "Secret" and str(body.get("apiVersion", "")) == "v1"


def secret_value_hashes(body: dict[str, Any]) -> dict[str, str]:
    """``"data.KEY"`` / ``"stringData.KEY"`` -> sha256 of the decoded value. Hashes are only ever
    compared, never printed: an unsalted hash of a short password is as good as the password."""
    hashes: dict[str, str] = {}
    for section in _SECRET_FIELDS:
        values = body.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            raw = str(value if value is not None else "").encode()
            if section == "data":
                with contextlib.suppress(ValueError):
                    raw = base64.b64decode(raw, validate=True)
            hashes[f"{section}.{key}"] = hashlib.sha256(raw).hexdigest()
    return hashes


def redact_secret(body: dict[str, Any], changed: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of a Secret whose values are placeholders; the ``changed`` keys read differently so
    the unified diff still shows which value changed."""
    if not _is_secret(body):
        return body
    changed = set(changed)
    redacted = copy.deepcopy(body)
    for section in _SECRET_FIELDS:
        values = redacted.get(section)
        if isinstance(values, dict):
            for key in values:
                values[key] = REDACTED_CHANGED if f"{section}.{key}" in changed else REDACTED
    annotations = (redacted.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for name in list(annotations):
            if name == "kubectl.kubernetes.io/last-applied-configuration":
                annotations[name] = REDACTED
    return redacted


def _keys_of(body: dict[str, Any], added: bool) -> SecretKeyChanges | None:
    if not _is_secret(body):
        return None
    keys = tuple(sorted(k.split(".", 1)[1] for k in secret_value_hashes(body)))
    return SecretKeyChanges(added=keys) if added else SecretKeyChanges(removed=keys)
