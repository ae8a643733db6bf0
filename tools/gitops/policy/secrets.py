"""Rules about secret material rendered from git."""

from __future__ import annotations

from collections.abc import Iterator

from gitops.model import Resource
from gitops.policy.engine import CheckContext, Hit, rule


@rule(
    "secret-plaintext",
    kinds=("Secret",),
    remediation=(
        "Delete the Secret from git and reference it from a secret store (ExternalSecret, "
        "SealedSecret, CSI driver); rotate the exposed values."
    ),
)
def secret_plaintext(ctx: CheckContext, resource: Resource) -> Iterator[Hit]:
    """A Secret with ``data`` or ``stringData`` is rendered from git.

    base64 is an encoding, not encryption: whoever can read the repository (and every fork,
    CI log and laptop clone) has the credential forever, and rotating it means rewriting
    history. Secrets are referenced (ExternalSecret, SealedSecret, CSI driver, created out of
    band), never rendered. The finding names the keys, never the values."""
    if resource.key.api_version != "v1":
        return
    parts = []
    for field_name in ("data", "stringData"):
        value = resource.body.get(field_name)
        if isinstance(value, dict) and value:
            parts.append(f"{field_name} keys: {', '.join(sorted(str(k) for k in value))}")
    if parts:
        yield Hit(
            f"Secret carries secret material in git ({'; '.join(parts)}): reference it "
            "from a secret store (ExternalSecret/SealedSecret) instead of rendering it",
            resource,
        )
