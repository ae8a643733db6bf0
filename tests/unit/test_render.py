"""``gitops.render``: what a render gives back, the words of kustomize's errors, the files and
streams it ends in, and the cache's encoding of a traced render."""

from __future__ import annotations

from pathlib import Path

from gitops.config import load_config
from gitops.helm.source import ChartSource
from gitops.model import Overlay, Resource, ResourceKey
from gitops.render import (
    RenderedOverlay,
    join_manifests,
    relativize,
    resources_from_entry,
    traced_entry,
    write_manifests,
)
from gitops.runner import Command
from gitops.workspace import Workspace
from tests.conftest import FIXTURES

WEB = Overlay(0, "dev", "web", "overlays/dev/web")


def _plain(repo: Path) -> list[RenderedOverlay]:
    workspace = Workspace.open(repo, load_config(repo), use_cache=False)
    return workspace.render(workspace.layout().overlays, trace=False)


def test_join_manifests_names_each_overlay_and_is_deterministic() -> None:
    first = join_manifests(_plain(FIXTURES / "render-ok"))
    second = join_manifests(_plain(FIXTURES / "render-ok"))
    assert first == second
    assert first.count("# Source: overlays/") == 3
    failed = RenderedOverlay(WEB, None, "boom", 0.1)
    assert join_manifests([failed]) == ""


def test_write_manifests_layout(tmp_path: Path) -> None:
    written = write_manifests(_plain(FIXTURES / "render-ok"), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "dev/web.yaml",
        "dev/worker.yaml",
        "prod/web.yaml",
    ]
    assert "LOG_LEVEL: debug" in (tmp_path / "dev" / "web.yaml").read_text()


def test_relativize_words_a_timeout_and_strips_the_checkout(tmp_path: Path) -> None:
    command = Command(("kubectl", "kustomize", "overlays/dev/web"), cwd=tmp_path)
    timeout = relativize(f"{command.quoted()} timed out after 120s", tmp_path, command)
    assert timeout.startswith("kustomize timed out after 120s (kustomize.timeoutSeconds")
    message = f"{command.quoted()} exited 1: {tmp_path}/overlays/dev/web/x.yaml: bad"
    assert relativize(message, tmp_path, command) == "overlays/dev/web/x.yaml: bad"


def test_a_traced_render_round_trips_through_the_cache_entry() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {}}
    resource = Resource("dev", "web", ResourceKey.of(body), body, "base/a.yaml", ("p.yaml",))
    entry = traced_entry([resource], ["overlays/dev/web:3: document 1 is a string"])
    assert entry is not None
    other = Overlay(2, "prod", "web", "overlays/prod/web")
    decoded = resources_from_entry(other, entry)
    assert decoded is not None
    (back,), problems = decoded
    assert (back.body, back.source, back.patches) == (body, "base/a.yaml", ("p.yaml",))
    # The entry names no overlay: the one it is read for names the resources.
    assert (back.env, back.overlay_path) == ("prod", "overlays/prod/web")
    assert problems == ("overlays/dev/web:3: document 1 is a string",)


def test_bodies_json_would_change_are_not_encoded() -> None:
    for body in ({1: "int key"}, {"x": float("inf")}, {"x": b"bytes"}):
        resource = Resource("dev", "web", ResourceKey("v1", "A", "", "a"), body)  # type: ignore[arg-type]
        assert traced_entry([resource], []) is None
    assert resources_from_entry(WEB, {"manifest": "kind: A\n"}) is None


def test_a_missing_nested_input_is_named_with_the_kustomization_naming_it(tmp_path: Path) -> None:
    """kustomize words a missing secretGenerator env file or configurations: file as a failure
    to accumulate the base that reads it; the message names the file and the field."""
    base = tmp_path / "base" / "db"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(
        "secretGenerator:\n  - name: db\n    envs: [db.env]\nconfigurations: [names.yaml]\n"
    )
    command = Command(("kubectl", "kustomize", "overlays/dev/db"), cwd=tmp_path)
    kustomize_says = (
        f"{command.quoted()} exited 1: accumulating resources: accumulation err='accumulating "
        f"resources from '../../../base/db': '{base}' must resolve to a file': recursed "
        f"accumulation of path '{base}': loading KV pairs: env source files: [db.env]: "
        f"evalsymlink failure on '{base}/db.env' : lstat {base}/db.env: no such file or directory"
    )
    assert relativize(kustomize_says, tmp_path, command) == (
        "base/db/db.env does not exist: base/db/kustomization.yaml names it in "
        "secretGenerator 'db' envs"
    )
    configurations = kustomize_says.replace("loading KV pairs: env source files: [db.env]: ", "")
    configurations = configurations.replace("db.env", "names.yaml")
    assert relativize(configurations, tmp_path, command) == (
        "base/db/names.yaml does not exist: base/db/kustomization.yaml names it in configurations"
    )


CHART_UNIT = Overlay(
    2,
    "prod",
    "web",
    "charts/web",
    chart=ChartSource("prod-web", "charts/web", "web", "web", "", "", (), (), ""),
)


def test_a_chart_unit_is_named_with_its_application() -> None:
    """One chart folder may serve several Applications: its renders, errors and resources
    say which (Overlay.label, Overlay.key)."""
    assert (CHART_UNIT.label, CHART_UNIT.key) == (
        "charts/web (Argo CD Application prod-web)",
        "charts/web@prod-web",
    )
    assert (WEB.label, WEB.key) == ("overlays/dev/web", "overlays/dev/web")
    assert join_manifests([RenderedOverlay(CHART_UNIT, "kind: A\n", None, 0.1)]) == (
        "---\n# Source: charts/web (Argo CD Application prod-web)\nkind: A\n"
    )
    failed = RenderedOverlay(CHART_UNIT, None, "boom", 0.1)
    assert failed.failure_line() == "charts/web (Argo CD Application prod-web): boom"
    entry = traced_entry([Resource("prod", "web", ResourceKey("v1", "A", "", "a"), {})], [])
    assert entry is not None
    decoded = resources_from_entry(CHART_UNIT, entry)
    assert decoded is not None and decoded[0][0].overlay_path == "charts/web@prod-web"
