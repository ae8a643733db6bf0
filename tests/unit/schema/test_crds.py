"""gitops.schema.crds: CRD manifests read into one entry per served version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.schema.crds import BUNDLED_SCHEMAS, crd_versions, read_crd_file
from gitops.schema.settings import SchemaError


def _crd(*versions: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": list(versions)},
    }


SCHEMA = {"openAPIV3Schema": {"type": "object"}}


def test_only_served_versions_count() -> None:
    body = _crd(
        {"name": "v1", "served": True, "schema": SCHEMA},
        {"name": "v0", "served": False},
    )
    (version,) = crd_versions(body, "crds/widget.yaml:1")
    assert (version.kind_id, version.source) == ("example.com/v1/Widget", "crds/widget.yaml:1")
    assert version.openapi == {"type": "object"}


def test_served_version_without_a_schema_is_an_error() -> None:
    with pytest.raises(SchemaError, match="served version 'v1' of Widget has no schema"):
        crd_versions(_crd({"name": "v1", "served": True}), "w.yaml:1")
    with pytest.raises(SchemaError, match=r"w\.yaml:1: CRD has no spec"):
        crd_versions({"kind": "CustomResourceDefinition"}, "w.yaml:1")


def test_files_name_their_documents_relative_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    path = tmp_path / "crds/widget.yaml"
    path.write_text(yaml.safe_dump(_crd({"name": "v1", "served": True, "schema": SCHEMA})))
    (version,) = read_crd_file(path, tmp_path)
    assert version.source == "crds/widget.yaml:1"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(SchemaError, match=r"crds/widget.yaml:1: expected an apiextensions"):
        read_crd_file(path, tmp_path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SchemaError, match=r"crds/widget.yaml: CRD file is not UTF-8 text"):
        read_crd_file(path, tmp_path)


def test_bundled_crds_load() -> None:
    kinds = {
        v.kind_id
        for path in sorted(BUNDLED_SCHEMAS.glob("*.yaml"))
        for v in read_crd_file(path, BUNDLED_SCHEMAS.parent)
    }
    assert {"argoproj.io/v1alpha1/Application", "monitoring.coreos.com/v1/ServiceMonitor"} <= kinds


def test_applicationset_template_spec_is_the_application_spec() -> None:
    # The two bundled CRDs repeat the Application spec; drift would validate them differently.
    def schema(name: str) -> dict[str, Any]:
        crd = yaml.safe_load((BUNDLED_SCHEMAS / name).read_text())
        root: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        return root

    application = schema("argoproj.io_applications.yaml")["properties"]["spec"]
    template = schema("argoproj.io_applicationsets.yaml")["properties"]["spec"]["properties"]
    assert template["template"]["properties"]["spec"] == application
