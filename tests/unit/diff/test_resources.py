"""``gitops.diff.resources``: normalise objects and compare two sides."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from gitops.diff.resources import ResourceMap, compare_resources, normalise
from gitops.diff.secrets import REDACTED_CHANGED
from gitops.model import ResourceKey
from gitops.yamlio import read_documents
from tests.conftest import FIXTURES
from tests.unit.diff.scratch import LAYOUT, commit, diff, write


def parse_manifest(env: str, service: str, manifest: str) -> ResourceMap:
    """The objects of a stream as a Snapshot holds them (the strict loader), keyed for diff."""
    documents = read_documents(manifest, f"{env}/{service}").documents
    return {(env, service, ResourceKey.of(d.body)): d.body for d in documents}


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config-5g8h2m9b7k, namespace: demo}
data: {LEVEL: info}
---
# kustomize may print an empty document; it is not a resource
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec: {replicas: 2}
"""


def test_parse_keys_each_document_by_env_service_and_resource() -> None:
    resources = parse_manifest("prod", "web", MANIFEST)
    assert list(resources) == [
        ("prod", "web", ResourceKey("v1", "ConfigMap", "demo", "app-config-5g8h2m9b7k")),
        ("prod", "web", ResourceKey("apps/v1", "Deployment", "demo", "web")),
    ]
    # A document without metadata still gets a key instead of failing the whole diff.
    assert ResourceKey.of({"kind": "List", "metadata": "oops"}) == ResourceKey("", "List", "", "")


def test_normalise_is_independent_of_key_order_and_never_folds() -> None:
    long = "x" * 300
    assert normalise({"b": 1, "a": {"d": [1], "c": long}}) == normalise(
        {"a": {"c": long, "d": [1]}, "b": 1}
    )
    assert f"c: {long}\n" in normalise({"a": {"c": long}})
    shared = {"k": "v"}
    assert "&" not in normalise({"x": shared, "y": shared})  # no YAML anchors in a diff


def test_compare_reports_added_removed_and_changed_with_a_unified_diff() -> None:
    base = parse_manifest("prod", "web", MANIFEST)
    head = parse_manifest("prod", "web", MANIFEST.replace("replicas: 2", "replicas: 3"))
    head.update(parse_manifest("prod", "web", "kind: Service\napiVersion: v1\nmetadata: {name: s}"))
    changes = compare_resources(base, head, context=0)
    assert [(c.action, c.title()) for c in changes] == [
        ("changed", "prod/web: changed Deployment/web"),
        ("added", "prod/web: added Service/s"),
    ]
    assert changes[0].diff == (
        "--- base/prod/web/Deployment/web\n+++ head/prod/web/Deployment/web\n"
        "@@ -7 +7 @@\n-  replicas: 2\n+  replicas: 3\n"
    )
    assert compare_resources(base, base, context=3) == []


def test_a_rehashed_generated_config_map_is_one_change_not_an_add_and_a_remove() -> None:
    base = parse_manifest("prod", "web", MANIFEST)
    head = parse_manifest(
        "prod", "web", MANIFEST.replace("5g8h2m9b7k", "tk2c4f8d9h").replace("info", "debug")
    )
    changes = compare_resources(base, head, context=1)
    assert [c.action for c in changes] == ["changed"]
    assert changes[0].key is not None and changes[0].key.name == "app-config-tk2c4f8d9h"
    assert "-  LEVEL: info\n+  LEVEL: debug\n" in changes[0].diff


def test_a_changed_secret_value_is_named_not_shown() -> None:
    def secret(value: str) -> str:
        encoded = base64.b64encode(value.encode()).decode()
        return f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\ndata: {{pw: {encoded}}}\n"

    [change] = compare_resources(
        parse_manifest("dev", "db", secret("old-value")),
        parse_manifest("dev", "db", secret("new-value")),
        context=3,
    )
    assert change.secret is not None and change.secret.changed == ("pw",)
    assert f"+  pw: {REDACTED_CHANGED}" in change.diff
    assert base64.b64encode(b"new-value").decode() not in change.diff
    assert change.to_json()["secretKeys"] == {"added": [], "removed": [], "changed": ["pw"]}


def test_a_diff_reads_and_shows_values_as_kubernetes_does(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    """A ConfigMap value kustomize prints bare (`op: =`, `merge: <<`) used to make diff report
    "unparseable output"; the diff now compares the objects check reads and quotes a value
    that would read as another type unquoted."""
    oddities = (FIXTURES / "yaml-oddities" / "base" / "api" / "settings.yaml").read_text()
    write(
        scratch_repo,
        {
            "base/web/configmap.yaml": oddities.replace("api-settings", "web"),
            "base/web/kustomization.yaml": LAYOUT["base/web/kustomization.yaml"],
        },
    )
    commit(scratch_repo, "odd settings")
    write(
        scratch_repo,
        {
            "base/web/configmap.yaml": oddities.replace("api-settings", "web").replace(
                'flag: "y"', 'flag: "n"'
            )
        },
    )
    untouched()
    result = diff(scratch_repo, base="HEAD")
    assert [c.action for c in result.changes] == ["changed"] * 3
    change = result.changes[0]
    assert "-  flag: 'y'\n+  flag: 'n'\n   merge: '<<'\n" in change.diff
    assert not [c for c in result.changes if c.action == "render-error"]
    (settings,) = [o for o in result.objects["dev/web"][1] if o["kind"] == "ConfigMap"]
    assert settings["data"]["op"] == "=" and settings["data"]["merge"] == "<<"
