"""Built-in schemas from the kubernetes-validate package: which Kubernetes versions it has, the
folder of one version, and its file naming."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from gitops.schema.settings import SchemaError


@dataclass(frozen=True)
class SchemaPackage:
    """One Kubernetes version's folder of the kubernetes-validate package."""

    directory: Path
    package_version: str
    kubernetes_version: str


def available_kubernetes_versions() -> list[str]:
    """Minor versions ("1.33") with strict schemas in the installed kubernetes-validate."""
    root = _package_root() / "kubernetes-json-schema"
    found = []
    for entry in root.iterdir() if root.is_dir() else ():
        match = re.fullmatch(r"v1\.(\d+)\.0-local-strict", entry.name)
        if match:
            found.append(int(match.group(1)))
    return [f"1.{minor}" for minor in sorted(found)]


def find_schema_package(kubernetes_version: str) -> SchemaPackage:
    """The strict schema folder for exactly ``kubernetes_version``: an older or newer version's
    schemas would silently accept or reject fields the target cluster treats otherwise."""
    if not re.fullmatch(r"1\.\d+", kubernetes_version):
        raise SchemaError(f'Kubernetes version must look like "1.33", got {kubernetes_version!r}')
    directory = _package_root() / "kubernetes-json-schema" / f"v{kubernetes_version}.0-local-strict"
    if not (directory / "_definitions.json").is_file():
        raise SchemaError(
            f"no schemas for Kubernetes {kubernetes_version} in kubernetes-validate "
            f"{_package_version()}; available: {', '.join(available_kubernetes_versions())}"
        )
    return SchemaPackage(directory, _package_version(), kubernetes_version)


def _package_root() -> Path:
    # find_spec locates the package without importing it: its __init__ imports jsonschema,
    # referencing and packaging, ~100 ms we do not need on the fast path.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError("the kubernetes-validate package is not installed (pip install it)")
    return Path(next(iter(spec.submodule_search_locations)))


def _package_version() -> str:
    # importlib.metadata costs ~60 ms of imports; the package keeps its version in version.py.
    text = (_package_root() / "version.py").read_text(encoding="utf-8")
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return match.group(1) if match else "unknown"


def builtin_schema_file(api_version: str, kind: str) -> str:
    """kubernetes-validate's file naming: ``<kind>-<first label of the group>-<version>.json``
    (``rbac.authorization.k8s.io/v1`` Role -> ``role-rbac-v1.json``; core ``v1`` -> ``<kind>-v1``).
    """
    group, _, version = api_version.rpartition("/")
    prefix = f"{group.split('.', 1)[0]}-" if group else ""
    return f"{kind.lower()}-{prefix}{version}.json"
