"""gitops.schema.builtin: the kubernetes-validate package's folders and file names."""

from __future__ import annotations

import pytest

from gitops.schema.builtin import (
    available_kubernetes_versions,
    builtin_schema_file,
    find_schema_package,
)
from gitops.schema.settings import SchemaError


@pytest.mark.parametrize(
    ("api_version", "kind", "filename"),
    [
        ("rbac.authorization.k8s.io/v1", "Role", "role-rbac-v1.json"),
        ("v1", "ConfigMap", "configmap-v1.json"),
        # Only the first label of the group: a lookalike group maps to the same file, which
        # is why the validator also checks the file's group-version-kind list.
        ("apps.example.com/v1", "Deployment", "deployment-apps-v1.json"),
    ],
)
def test_file_naming(api_version: str, kind: str, filename: str) -> None:
    assert builtin_schema_file(api_version, kind) == filename


def test_available_versions_are_sorted_numerically() -> None:
    versions = available_kubernetes_versions()
    assert "1.33" in versions
    minors = [int(v.split(".")[1]) for v in versions]
    assert minors == sorted(minors)


def test_package_of_one_version() -> None:
    package = find_schema_package("1.33")
    assert package.kubernetes_version == "1.33"
    assert (package.directory / "_definitions.json").is_file()
    assert package.package_version not in ("", "unknown")


def test_unknown_kubernetes_version_names_the_available_ones() -> None:
    with pytest.raises(SchemaError) as caught:
        find_schema_package("1.99")
    message = str(caught.value)
    assert message.startswith("no schemas for Kubernetes 1.99 in kubernetes-validate ")
    assert "available: " in message and "1.33" in message


def test_malformed_version_is_rejected() -> None:
    with pytest.raises(SchemaError, match=r'must look like "1.33", got \'v1.33\''):
        find_schema_package("v1.33")
