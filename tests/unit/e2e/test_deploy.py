"""The e2e kustomization, rendered with the repo's real kustomize settings (pinned kubectl,
gitops.yaml buildOptions), over the real dev overlays."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypedDict

import pytest

from gitops.config import load_config
from gitops.kustomize import find_kustomize
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT
from tests.e2e.harness.deploy import (
    COMPONENT_DIR,
    Document,
    Renderer,
    argo_hooks,
    container_images,
    find,
    find_one,
    images_by_app,
    is_test_only,
    kustomization_text,
    managed_namespace_labels,
    overlay_paths,
    partition_test_only,
    render_kustomization,
)
from tests.e2e.harness.images import LocalImage


class Rendered(TypedDict):
    """The dev overlays rendered plain and through the e2e kustomization."""

    plain: list[Document]
    stack: list[Document]
    overlay_images: dict[str, tuple[str, str]]  # {app: (image name, tag)}
    untouched: bool  # the real overlays' files are byte for byte the same afterwards


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    config = load_config(REPO_ROOT)
    kustomize = find_kustomize(config)
    renderer = Renderer(REPO_ROOT, config, kustomize)
    plain = render_kustomization(renderer, overlay_paths())
    overlay_images = images_by_app(plain, ["healthz", "kpis-api"])
    local = {
        app: LocalImage(app, REPO_ROOT / "apps" / app, "e2e-0123456789ab")
        for app in ("healthz", "kpis-api")
    }
    before = _tree_digest(REPO_ROOT / "overlays")
    stack = render_kustomization(
        renderer,
        overlay_paths(),
        [COMPONENT_DIR],
        {overlay_images[app][0]: image for app, image in local.items()},
    )
    after = _tree_digest(REPO_ROOT / "overlays")
    return {
        "plain": plain,
        "stack": stack,
        "overlay_images": overlay_images,
        "untouched": before == after,
    }


def test_overlay_images_are_read_from_the_rendered_overlays(rendered: Rendered) -> None:
    names = {app: name for app, (name, _tag) in rendered["overlay_images"].items()}
    assert names == {
        "healthz": "ghcr.io/example-org/healthz",
        "kpis-api": "ghcr.io/example-org/kpis-api",
    }
    assert all(tag for _name, tag in rendered["overlay_images"].values())


def test_every_image_is_swapped_to_the_local_tag(rendered: Rendered) -> None:
    images = container_images(rendered["stack"])
    ours = [i for i in images if "postgres" not in i]
    assert ours and set(ours) == {
        "e2e.local/healthz:e2e-0123456789ab",
        "e2e.local/kpis-api:e2e-0123456789ab",
    }
    assert not any(i.endswith(":latest") or ":" not in i.rsplit("/", 1)[-1] for i in images)
    # the migrate Job moves with the Deployment
    job = find_one(rendered["stack"], "Job", "kpis-api-migrate")
    assert container_images([job]) == ["e2e.local/kpis-api:e2e-0123456789ab"]


def test_postgres_secret_and_load_generator_are_added_as_test_only(rendered: Rendered) -> None:
    stack = rendered["stack"]
    secret = find_one(stack, "Secret", "kpis-db-credentials")
    assert {"KPIS_PG_HOST", "KPIS_PG_DB", "KPIS_PG_USER", "KPIS_PG_PASSWORD"} <= set(
        secret["stringData"]
    )
    db = find_one(stack, "Deployment", "kpis-db")
    host = secret["stringData"]["KPIS_PG_HOST"]
    assert (
        find_one(stack, "Service", host)["spec"]["selector"]
        == db["spec"]["selector"]["matchLabels"]
    )
    load = find_one(stack, "Deployment", "healthz-load")
    assert load["spec"]["replicas"] == 0
    prerequisites, workloads = partition_test_only(stack)
    assert {d["metadata"]["name"] for d in prerequisites} >= {
        "kpis-db",
        "kpis-db-credentials",
        "healthz-load",
    }
    assert not any(is_test_only(d) for d in rendered["plain"])
    assert all(d["metadata"].get("namespace") == "integration" for d in stack)
    # the test-only pods are not healthz's: its Service, PDB and HPA do not count them
    assert load["spec"]["template"]["metadata"]["labels"]["app"] != "healthz"
    # what is not test-only is exactly what the real overlays render
    assert {d["metadata"]["name"] for d in workloads} == {
        d["metadata"]["name"] for d in rendered["plain"]
    }


def test_hpa_scale_down_window_is_shortened_only_in_the_e2e_render(rendered: Rendered) -> None:
    hpa = find_one(rendered["stack"], "HorizontalPodAutoscaler", "healthz-hpa")
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 30
    plain = find_one(rendered["plain"], "HorizontalPodAutoscaler", "healthz-hpa")
    assert "behavior" not in plain["spec"]
    # the rest of the HPA is the overlay's
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        plain["spec"]["minReplicas"],
        plain["spec"]["maxReplicas"],
    )


def test_real_overlay_files_are_untouched(rendered: Rendered) -> None:
    assert rendered["untouched"]


def test_presync_hook_is_found(rendered: Rendered) -> None:
    assert [h["metadata"]["name"] for h in argo_hooks(rendered["stack"])] == ["kpis-api-migrate"]


def test_pod_security_labels_come_from_the_applicationset() -> None:
    argo = Workspace.open(REPO_ROOT, load_config(REPO_ROOT)).argocd()
    assert argo is not None and argo.error is None
    labels = managed_namespace_labels(list(argo.objects))
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_kustomization_text_uses_relative_paths(tmp_path: Path) -> None:
    image = LocalImage("healthz", tmp_path, "e2e-1")
    text = kustomization_text(
        tmp_path / "k",
        tmp_path / "repo",
        ["overlays/dev/healthz"],
        [tmp_path / "repo" / "tests" / "e2e" / "component"],
        {"ghcr.io/example-org/healthz": image},
    )
    assert "- ../repo/overlays/dev/healthz" in text
    assert "- ../repo/tests/e2e/component" in text
    assert "newName: e2e.local/healthz" in text and "newTag: e2e-1" in text
    assert str(tmp_path) not in text


def test_images_by_app_reports_a_missing_app() -> None:
    from tests.e2e.harness.deploy import RenderError

    with pytest.raises(RenderError, match="kpis-api"):
        images_by_app(
            [
                {
                    "kind": "Deployment",
                    "spec": {
                        "template": {"spec": {"containers": [{"image": "ghcr.io/x/healthz:1"}]}}
                    },
                }
            ],
            ["healthz", "kpis-api"],
        )


def test_find_helpers() -> None:
    documents = [
        {"kind": "Service", "metadata": {"name": "a"}},
        {"kind": "Service", "metadata": {"name": "b"}},
    ]
    assert len(find(documents, "Service")) == 2
    with pytest.raises(LookupError, match="exactly one Service/c"):
        find_one(documents, "Service", "c")
