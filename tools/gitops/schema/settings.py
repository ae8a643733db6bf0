"""The ``schemas:`` section of gitops.yaml (extra CRD folders, kinds not to validate) and the
error raised when the schemas themselves cannot be used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops.config import reject_unknown_keys
from gitops.errors import ConfigError, GitopsError

DEFAULT_CRD_DIRS = ("crds",)
_SCHEMAS_KEYS = frozenset({"crdDirs", "skipKinds"})
# "<group>/<version>/<Kind>" or, for the core group, "v1/<Kind>": the apiVersion plus the kind.
_KIND_ID = re.compile(r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?v[0-9]+[a-z0-9]*/[A-Z][A-Za-z0-9]*$")


class SchemaError(GitopsError):
    """The schemas themselves cannot be used (unknown Kubernetes version, malformed CRD)."""


@dataclass(frozen=True)
class SchemaSettings:
    """The ``schemas:`` section of gitops.yaml, validated."""

    crd_dirs: tuple[str, ...] = DEFAULT_CRD_DIRS
    crd_dirs_explicit: bool = False  # a folder the user named must exist; the default may not
    skip_kinds: frozenset[str] = frozenset()


def parse_schema_settings(raw: Mapping[str, Any]) -> SchemaSettings:
    """Validate ``schemas: {crdDirs: [...], skipKinds: [...]}``; a mistake is a ConfigError."""
    where = "gitops.yaml: schemas"
    reject_unknown_keys(raw, _SCHEMAS_KEYS, where)
    crd_dirs = raw.get("crdDirs")
    if crd_dirs is not None and not (
        isinstance(crd_dirs, list)
        and all(isinstance(d, str) and d and not d.startswith("/") for d in crd_dirs)
    ):
        raise ConfigError(f"{where}.crdDirs must be a list of repo-relative folders")
    skip = raw.get("skipKinds", [])
    if not isinstance(skip, list) or not all(isinstance(k, str) for k in skip):
        raise ConfigError(f'{where}.skipKinds must be a list like ["example.com/v1/Widget"]')
    bad = [k for k in skip if not _KIND_ID.match(k)]
    if bad:
        raise ConfigError(
            f"{where}.skipKinds: {bad[0]!r} is not <apiVersion>/<Kind> "
            '(e.g. "example.com/v1/Widget", "v1/ConfigMap")'
        )
    dirs = tuple(d.rstrip("/") for d in crd_dirs) if crd_dirs is not None else DEFAULT_CRD_DIRS
    return SchemaSettings(
        crd_dirs=dirs,
        crd_dirs_explicit=crd_dirs is not None,
        skip_kinds=frozenset(skip),
    )
