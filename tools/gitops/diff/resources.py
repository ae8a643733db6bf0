"""Resources: normalise and compare two sides' objects (Secrets redacted). The objects are the
Snapshots' (gitops.snapshot), parsed once with the strict loader; nothing here reads YAML."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from gitops.diff.secrets import (
    SecretKeyChanges,
    _is_secret,
    _keys_of,
    redact_secret,
    secret_value_hashes,
)
from gitops.model import ResourceKey
from gitops.yamlio import plain_safe

# kustomize's name suffix for generated ConfigMaps/Secrets: a 10-char hash in its own alphabet.
_GENERATED_SUFFIX = re.compile(r"-[bcdfghkmt2-9]{10}$")


@dataclass(frozen=True)
class ResourceChange:
    """One line of the diff: a resource added/removed/changed, or an overlay that failed to
    render on one side (``action == "render-error"``, ``key`` None)."""

    env: str
    service: str
    action: str  # "added" | "removed" | "changed" | "render-error"
    key: ResourceKey | None
    diff: str = ""  # unified diff of the normalised, redacted YAML
    secret: SecretKeyChanges | None = None
    side: str = ""  # render-error: "base" or "head"
    message: str = ""  # render-error: the one-line error

    @property
    def overlay(self) -> str:
        return f"{self.env}/{self.service}" if self.env else self.service

    def title(self) -> str:
        if self.key is None:
            return f"{self.overlay}: render error on {self.side}"
        return f"{self.overlay}: {self.action} {self.key.short()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "service": self.service,
            "action": self.action,
            "apiVersion": self.key.api_version if self.key else None,
            "kind": self.key.kind if self.key else None,
            "namespace": self.key.namespace if self.key else None,
            "name": self.key.name if self.key else None,
            "diff": self.diff,
            "secretKeys": self.secret.to_json() if self.secret else None,
            "side": self.side or None,
            "message": self.message or None,
        }


ResourceMap = dict[tuple[str, str, ResourceKey], dict[str, Any]]


class _NormalDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """A one-line string Kubernetes would read as something else unquoted (``y``, ``0o17``)
    is quoted, so the diff reads back as the objects it shows (gitops.yamlio.plain_safe)."""
    style = "'" if "\n" not in data and not plain_safe(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_NormalDumper.add_representer(str, _represent_str)


def normalise(body: dict[str, Any]) -> str:
    """Stable YAML: sorted keys, block style, no anchors, no line folding."""
    return yaml.dump(
        body,
        Dumper=_NormalDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )


def _unified(before: str, after: str, label: str, context: int) -> str:
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=f"base/{label}",
        tofile=f"head/{label}",
        n=context,
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def compare_resources(base: ResourceMap, head: ResourceMap, context: int) -> list[ResourceChange]:
    """Added, removed and changed resources between two maps (Secrets redacted)."""
    removed_keys = [k for k in base if k not in head]
    added_keys = [k for k in head if k not in base]
    pairs = [(k, k) for k in base if k in head]
    # A generated ConfigMap/Secret whose content changed also changed its hash suffix: pair it
    # with its predecessor so the reader sees one change, not an unrelated add and remove.
    by_stem = {(_stem(k)): k for k in removed_keys}
    for added in list(added_keys):
        predecessor = by_stem.pop(_stem(added), None)
        if predecessor is not None and predecessor in removed_keys:
            removed_keys.remove(predecessor)
            added_keys.remove(added)
            pairs.append((predecessor, added))
    changes = []
    for base_key, head_key in pairs:
        change = _changed(base[base_key], head_key, head[head_key], context)
        if change is not None:
            changes.append(change)
    for key in removed_keys:
        body = redact_secret(base[key])
        changes.append(
            _whole("removed", key, normalise(body), "", context, _keys_of(base[key], False))
        )
    for key in added_keys:
        body = redact_secret(head[key])
        changes.append(
            _whole("added", key, "", normalise(body), context, _keys_of(head[key], True))
        )
    return changes


def _stem(key: tuple[str, str, ResourceKey]) -> tuple[str, str, str, str, str, str]:
    env, service, rk = key
    return (env, service, rk.api_version, rk.kind, rk.namespace, _GENERATED_SUFFIX.sub("", rk.name))


def _whole(
    action: str,
    key: tuple[str, str, ResourceKey],
    before: str,
    after: str,
    context: int,
    secret: SecretKeyChanges | None,
) -> ResourceChange:
    env, service, rk = key
    label = f"{env}/{service}/{rk.kind}/{rk.name}" if env else f"{service}/{rk.kind}/{rk.name}"
    return ResourceChange(env, service, action, rk, _unified(before, after, label, context), secret)


def _changed(
    base_body: dict[str, Any],
    head_key: tuple[str, str, ResourceKey],
    head_body: dict[str, Any],
    context: int,
) -> ResourceChange | None:
    secret = None
    if _is_secret(base_body) or _is_secret(head_body):
        before_hashes, after_hashes = secret_value_hashes(base_body), secret_value_hashes(head_body)
        changed = {
            k
            for k in before_hashes.keys() & after_hashes.keys()
            if before_hashes[k] != after_hashes[k]
        }
        secret = SecretKeyChanges(
            added=tuple(
                sorted(k.split(".", 1)[1] for k in after_hashes.keys() - before_hashes.keys())
            ),
            removed=tuple(
                sorted(k.split(".", 1)[1] for k in before_hashes.keys() - after_hashes.keys())
            ),
            changed=tuple(sorted(k.split(".", 1)[1] for k in changed)),
        )
        before, after = (
            normalise(redact_secret(base_body)),
            normalise(redact_secret(head_body, changed)),
        )
    else:
        before, after = normalise(base_body), normalise(head_body)
    if before == after:
        return None
    # Reported under the head name; the diff shows a re-hashed generated name changing.
    return _whole("changed", head_key, before, after, context, secret)
