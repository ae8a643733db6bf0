"""CRD manifests: ours bundled in ``gitops/schemas/`` and the repository's, read into one entry
per served version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.schema.settings import SchemaError
from gitops.yamlio import YamlError, load_documents

# Our CRDs (ServiceMonitor, Argo CD), next to this package.
BUNDLED_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class CrdVersion:
    kind_id: str
    source: str  # where the CRD came from, for duplicate-definition messages
    openapi: dict[str, Any]
    # The whole CustomResourceDefinition, as the upstream validator is taught it.
    crd: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def read_crd_file(path: Path, root: Path | None) -> list[CrdVersion]:
    shown = _display_path(path, root)
    try:
        documents = load_documents(path.read_text(encoding="utf-8"), shown)
    except OSError as exc:
        raise SchemaError(f"{shown}: cannot read CRD file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{shown}: CRD file is not UTF-8 text (byte offset {exc.start})") from exc
    except YamlError as exc:
        raise SchemaError(f"CRD file: {exc.problems[0]}") from exc
    crds = []
    for document in documents:
        where = f"{shown}:{document.line}"
        body = document.body
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if kind != "CustomResourceDefinition" or api_version != "apiextensions.k8s.io/v1":
            raise SchemaError(
                f"{where}: expected an apiextensions.k8s.io/v1 CustomResourceDefinition, "
                f"got {api_version}/{kind}"
            )
        crds += crd_versions(body, where)
    return crds


def crd_versions(body: Mapping[str, Any], where: str) -> list[CrdVersion]:
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: CRD has no spec")
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind") if isinstance(spec.get("names"), dict) else None
    versions = spec.get("versions")
    if not isinstance(group, str) or not isinstance(kind, str) or not isinstance(versions, list):
        raise SchemaError(f"{where}: CRD needs spec.group, spec.names.kind and spec.versions")
    found = []
    for version in versions:
        if not isinstance(version, dict) or not version.get("served", False):
            continue  # unserved versions cannot be applied, so there is nothing to validate
        name = version.get("name")
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(name, str) or not isinstance(schema, dict):
            raise SchemaError(
                f"{where}: served version {name!r} of {kind} has no schema.openAPIV3Schema"
            )
        found.append(CrdVersion(f"{group}/{name}/{kind}", where, schema, body))
    return found


def _display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
