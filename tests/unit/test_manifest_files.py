"""``gitops.manifest_files``: the one rule for which files ``gitops validate`` reads as objects
(the folder cases run through validate in tests/fixtures/validate-non-manifest-files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.manifest_files import ManifestFiles, holds_objects, manifest_files


def test_files_a_kustomization_names_are_skipped_with_their_role(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [app/deployment.yaml]\n"
        "configurations: [app/config/name-ref.yaml]\n"
        "patchesStrategicMerge: [app/patch.yaml]\n"
        "openapi: {path: schema.json}\n"
        "secretGenerator: [{name: s, envs: [app/secret.env], files: [app/key.yaml]}]\n"
        "helmCharts: [{name: web, valuesFile: web-values.yaml}]\n"
        "patches:\n  - patch: |-\n      - op: remove\n        path: /spec\n"
    )
    rule = ManifestFiles()
    reasons = {
        name: rule.skip_reason(str(tmp_path / name), "")
        for name in (
            "app/deployment.yaml",
            "app/config/name-ref.yaml",
            "app/patch.yaml",
            "schema.json",
            "app/key.yaml",
            "web-values.yaml",
        )
    }
    assert reasons == {
        "app/deployment.yaml": None,
        "app/config/name-ref.yaml": "a kustomize transformer configuration",
        "app/patch.yaml": "a kustomize patch (validated as part of its kustomization's output)",
        "schema.json": "a kustomize OpenAPI schema",
        "app/key.yaml": "a Secret generator input",
        "web-values.yaml": "Helm values (used by helmCharts)",
    }
    # Four folders up is too far: the kustomization would not be allowed to read it anyway.
    assert rule.skip_reason(str(tmp_path / "a/b/c/d/name-ref.yaml"), "") is None


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("values-prod.yaml", "replicaCount: 3\n", "a Helm values or requirements file"),
        ("values.staging.yaml", "image: {tag: '1'}\n", "a Helm values or requirements file"),
        ("requirements.yaml", "dependencies: []\n", "a Helm values or requirements file"),
        ("values-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", None),
        ("deployment.yaml", "replicaCount: 3\n", None),  # not a Helm name: validated
    ],
)
def test_helm_files_outside_a_chart_are_skipped_only_without_objects(
    tmp_path: Path, name: str, text: str, reason: str | None
) -> None:
    assert ManifestFiles().skip_reason(str(tmp_path / name), text) == reason


def test_stdin_is_always_an_input_and_the_walk_skips_hidden_entries(tmp_path: Path) -> None:
    assert ManifestFiles().skip_reason("-", "replicaCount: 3\n") is None
    for name in ("a.yaml", "b.yml", "c.json", ".hidden.yaml", "d.txt", ".git/e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in manifest_files(tmp_path))
    assert found == ["a.yaml", "b.yml", "c.json"]
    assert holds_objects("x.json", '{"apiVersion": "v1", "kind": "List"}')
    assert not holds_objects("x.yaml", "  apiVersion: v1\nkind: x\n")  # nested: not an object
