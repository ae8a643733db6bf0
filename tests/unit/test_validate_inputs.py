"""validate on folders as people keep them: CRDs next to their resources, List kinds,
kustomization/Helm/patch files, non-UTF-8 files; one bad file never hides the others."""

from __future__ import annotations

from pathlib import Path

from gitops.config import RepoConfig
from gitops.validate import format_text, run_validate
from tests.conftest import FIXTURES

CONFIG = RepoConfig(kubernetes_version="1.33")
MIXED = FIXTURES / "validate-mixed-folder"
# Its folders (the fixture root also holds its expected.yaml, not a manifest).
MIXED_INPUTS = [str(MIXED / name) for name in ("app", "setup", "chart")]


def test_crd_in_the_same_input_validates_its_resources() -> None:
    result = run_validate(MIXED_INPUTS, None, CONFIG, None, validator=None, repo=MIXED)
    widgets = {d.name: d.messages for d in result.documents if d.kind == "Widget"}
    assert widgets == {
        "good": (),
        "bad": ("spec.colour: unknown field", "spec.size: 0 is less than the minimum of 1"),
    }


def test_list_kinds_are_validated_item_by_item() -> None:
    result = run_validate([str(MIXED / "app")], None, CONFIG, None, repo=MIXED)
    items = {(d.kind, d.name): d.messages for d in result.documents if d.kind != "Widget"}
    assert items == {
        ("ConfigMap", "one"): (),
        ("ConfigMap", "two"): ("items[1]: data.b: expected string, got integer 2",),
        ("Service", "web"): (),
    }


def test_kustomization_helm_and_patch_files_are_skipped_with_a_note() -> None:
    result = run_validate(MIXED_INPUTS, None, CONFIG, None, repo=MIXED)
    assert [n.removeprefix(str(MIXED) + "/") for n in result.notes] == [
        "app/kustomization.yaml: a kustomization file, not a Kubernetes object, skipped",
        "app/replicas-patch.yaml: a kustomize patch (validated as part of its kustomization's "
        "output), skipped",
        "chart/Chart.yaml: a Helm chart file, skipped",
        "chart/templates/configmap.yaml: a Helm template (gitops check renders its chart with "
        "helm), skipped",
    ]
    assert not any("metadata" in m for d in result.documents for m in d.messages)
    assert format_text(result).splitlines()[-1] == (
        "6 documents, 2 invalid, 4 file(s) skipped (Kubernetes 1.33)"
    )


def test_a_non_utf8_file_is_reported_and_the_others_still_validated(tmp_path: Path) -> None:
    (tmp_path / "a-latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\n# caf\xe9\n")
    (tmp_path / "b.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: 1}\n"
    )
    result = run_validate([str(tmp_path)], None, CONFIG, None)
    assert result.file_errors == (
        f"{tmp_path}/a-latin1.yaml: not UTF-8 text (byte 0xe9 at offset 36), "
        "expected UTF-8 YAML or JSON",
    )
    assert [(d.name, d.messages) for d in result.documents] == [
        ("b", ("data.x: expected string, got integer 1",))
    ]
    assert format_text(result).splitlines()[-1] == (
        "1 documents, 1 invalid, 1 unreadable or unparseable input(s) (Kubernetes 1.33)"
    )


def test_list_items_that_are_not_objects_and_patches_named_from_a_parent_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [list.yaml]\npatches:\n  - path: patches/web.yaml\n"
    )
    (tmp_path / "patches").mkdir()
    (tmp_path / "patches" / "web.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n"
    )
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n  - just a string\n"
        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
    )
    result = run_validate([str(tmp_path)], None, CONFIG, None)
    assert [n.removeprefix(str(tmp_path) + "/") for n in result.notes] == [
        "kustomization.yaml: a kustomization file, not a Kubernetes object, skipped",
        "patches/web.yaml: a kustomize patch (validated as part of its kustomization's output), "
        "skipped",
    ]
    assert [(d.kind, d.messages) for d in result.documents] == [
        ("List", ("items[0]: expected a mapping (a Kubernetes object)",)),
        ("ConfigMap", ()),
    ]
