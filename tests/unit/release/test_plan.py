"""Planning release edits on the release-edits fixture, rendered with the real kustomize:
which image, which file, from what to what, and every refusal (exit 2) before anything is
written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import pytest
import yaml

from gitops.config import load_config
from gitops.discovery import SelectionError
from gitops.errors import EXIT_PROBLEMS, EXIT_USAGE
from gitops.release.plan import (
    OverlayRenderError,
    check_order,
    plan_promote,
    plan_set_image,
    plan_set_images,
)
from gitops.release.refs import ImagePin, ReleaseError, Version
from gitops.workspace import Workspace
from tests.conftest import FIXTURES


class ImageChoice(TypedDict, total=False):
    """How ``gitops release set-image`` names the image to pin (``--image``/``--container``)."""

    image: str
    container: str


REPO = FIXTURES / "release-edits"
CONFIG = load_config(REPO)
WORKSPACE = Workspace.open(REPO, CONFIG)
DIGEST = "sha256:3f2b1c0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"


def _written(plan_files: dict[str, tuple[str, str]], rel: str) -> dict[str, object]:
    data = yaml.safe_load(plan_files[rel][1])
    assert isinstance(data, dict)
    return data


def test_set_image_of_a_one_image_overlay_needs_no_image_name() -> None:
    plan = plan_set_image(WORKSPACE, "staging", "web", Version("1.2.0"))
    assert [c.line() for c in plan.changes] == ["staging/web: ghcr.io/acme/web 1.1.0 -> 1.2.0"]
    rel = "overlays/staging/web/kustomization.yaml"
    assert list(plan.files) == [rel]
    assert _written(plan.files, rel)["images"] == [{"name": "ghcr.io/acme/web", "newTag": "1.2.0"}]


def test_set_image_by_container_name_finds_the_sidecar_image() -> None:
    plan = plan_set_image(
        WORKSPACE, "staging", "api", Version("v1.32.1", DIGEST), container="proxy"
    )
    assert [c.line() for c in plan.changes] == [
        f"staging/api: envoyproxy/envoy v1.31.0 -> v1.32.1@{DIGEST}"
    ]


def test_set_image_through_new_name_edits_the_entry_and_keeps_the_mirror() -> None:
    plan = plan_set_image(
        WORKSPACE, "prod", "web", Version("1.1.0"), image="mirror.acme.internal/acme/web:1.0.1"
    )
    [change] = plan.changes
    assert change.image == "ghcr.io/acme/web"
    assert _written(plan.files, "overlays/prod/web/kustomization.yaml")["images"] == [
        {
            "name": "ghcr.io/acme/web",
            "newName": "mirror.acme.internal/acme/web",
            "newTag": "1.1.0",
        }
    ]


def test_set_image_of_a_base_pinned_image_adds_the_images_block() -> None:
    plan = plan_set_image(WORKSPACE, "prod", "api", Version("1.2.1"), image="ghcr.io/acme/api")
    [change] = plan.changes
    assert (change.old, change.new) == ((Version("1.0.0"),), Version("1.2.1"))
    written = _written(plan.files, "overlays/prod/api/kustomization.yaml")
    assert written["images"] == [{"name": "ghcr.io/acme/api", "newTag": "1.2.1"}]


def test_set_image_to_what_already_runs_changes_nothing() -> None:
    plan = plan_set_image(WORKSPACE, "staging", "web", Version("1.1.0"))
    assert plan.changes == () and plan.files == {}
    assert plan.notes == ("staging/web: ghcr.io/acme/web already runs 1.1.0; nothing to change",)


def test_set_images_edits_one_file_and_notes_an_image_already_there() -> None:
    pins = [
        ImagePin(Version("1.2.0"), image="ghcr.io/acme/api"),  # what staging runs
        ImagePin(Version("v1.32.1", DIGEST), container="proxy"),
    ]
    plan = plan_set_images(WORKSPACE, "staging", "api", pins)
    assert [c.line() for c in plan.changes] == [
        f"staging/api: envoyproxy/envoy v1.31.0 -> v1.32.1@{DIGEST}"
    ]
    assert plan.notes == ("staging/api: ghcr.io/acme/api already runs 1.2.0; nothing to change",)
    rel = "overlays/staging/api/kustomization.yaml"
    assert list(plan.files) == [rel]
    assert _written(plan.files, rel)["images"] == [
        {"name": "ghcr.io/acme/api", "newTag": "1.2.0"},
        {"name": "envoyproxy/envoy", "newTag": "v1.32.1", "digest": DIGEST},
    ]
    assert plan.commit_message().splitlines()[0] == "chore(staging): set api image to " + (
        f"v1.32.1@{DIGEST}"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"image": "ghcr.io/acme/web"},
            "overlays/staging/api: no container of the rendered overlay uses image "
            "'ghcr.io/acme/web' (images used: envoyproxy/envoy, ghcr.io/acme/api)",
        ),
        (
            {"container": "sidecar"},
            "overlays/staging/api: no container named 'sidecar' in the rendered overlay "
            "(containers: api, migrate, proxy)",
        ),
        (
            {},
            "overlays/staging/api: the overlay uses 2 images (envoyproxy/envoy, "
            "ghcr.io/acme/api); name one with --image or --container",
        ),
    ],
)
def test_set_image_refuses_an_image_the_overlay_does_not_run(
    kwargs: ImageChoice, message: str
) -> None:
    with pytest.raises(ReleaseError) as caught:
        plan_set_image(WORKSPACE, "staging", "api", Version("9.9.9"), **kwargs)
    assert str(caught.value) == message
    assert caught.value.exit_code == EXIT_USAGE


def test_set_image_refuses_latest_and_unknown_envs() -> None:
    with pytest.raises(ReleaseError, match='tag "latest" is mutable'):
        plan_set_image(WORKSPACE, "staging", "web", Version("latest"))
    with pytest.raises(SelectionError, match="unknown env 'qa'"):
        plan_set_image(WORKSPACE, "qa", "web", Version("1.0.0"))


def test_an_overlay_that_does_not_render_stops_the_edit_with_exit_1(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("release-edits")
    (repo / "overlays/staging/web/kustomization.yaml").write_text(
        "resources:\n  - ../../../base/missing\n", encoding="utf-8"
    )
    with pytest.raises(OverlayRenderError, match=r"^overlays/staging/web: ") as caught:
        plan_set_image(Workspace.open(repo, load_config(repo)), "staging", "web", Version("1.2.0"))
    assert caught.value.exit_code == EXIT_PROBLEMS


# --- promotion order ------------------------------------------------------------------------


ENVS = ("dev", "staging", "prod")


def test_one_step_along_the_envs_is_allowed() -> None:
    assert check_order(ENVS, "dev", "staging", force=False) is None
    assert check_order(ENVS, "staging", "prod", force=False) is None


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        (
            "dev",
            "prod",
            "promoting dev -> prod skips staging (gitops.yaml envs: dev -> staging -> prod)",
        ),
        (
            "prod",
            "staging",
            "staging comes before prod in gitops.yaml envs (dev -> staging -> prod): a rollback",
        ),
    ],
)
def test_skipping_or_going_backwards_needs_force_and_says_why(
    source: str, target: str, why: str
) -> None:
    with pytest.raises(ReleaseError) as caught:
        check_order(ENVS, source, target, force=False)
    assert str(caught.value) == f"{why}; pass --force to do it anyway"
    assert check_order(ENVS, source, target, force=True) == f"forced: {why}"


def test_same_or_unknown_env_is_refused_even_with_force() -> None:
    with pytest.raises(ReleaseError, match="--from and --to are both 'dev'"):
        check_order(ENVS, "dev", "dev", force=True)
    with pytest.raises(ReleaseError, match="unknown env 'qa'"):
        check_order(ENVS, "qa", "prod", force=True)


# --- promote --------------------------------------------------------------------------------


def test_promote_copies_tags_and_digests_of_every_differing_image() -> None:
    plan = plan_promote(WORKSPACE, "dev", "staging", services=["api"])
    assert [c.line() for c in plan.changes] == [
        f"staging/api: envoyproxy/envoy v1.31.0 -> v1.32.1@{DIGEST}",
        "staging/api: ghcr.io/acme/api 1.2.0 -> 1.3.0-rc.1",
    ]
    written = _written(plan.files, "overlays/staging/api/kustomization.yaml")
    assert written["images"] == [
        {"name": "ghcr.io/acme/api", "newTag": "1.3.0-rc.1"},
        {"name": "envoyproxy/envoy", "newTag": "v1.32.1", "digest": DIGEST},
    ]


def test_promote_all_creates_a_missing_block_and_keeps_new_name() -> None:
    plan = plan_promote(WORKSPACE, "staging", "prod")
    assert [c.line() for c in plan.changes] == [
        "prod/api: ghcr.io/acme/api 1.0.0 -> 1.2.0",
        "prod/web: ghcr.io/acme/web 1.0.1 -> 1.1.0",
    ]
    assert sorted(plan.files) == [
        "overlays/prod/api/kustomization.yaml",
        "overlays/prod/web/kustomization.yaml",
    ]
    assert _written(plan.files, "overlays/prod/api/kustomization.yaml")["images"] == [
        {"name": "ghcr.io/acme/api", "newTag": "1.2.0"}
    ]
    web = _written(plan.files, "overlays/prod/web/kustomization.yaml")["images"]
    assert web == [
        {"name": "ghcr.io/acme/web", "newName": "mirror.acme.internal/acme/web", "newTag": "1.1.0"}
    ]
    assert plan.commit_message().splitlines()[0] == "chore(prod): promote api, web from staging"


def test_promote_of_equal_envs_changes_nothing(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("release-edits")
    staging = repo / "overlays/staging/web/kustomization.yaml"
    (repo / "overlays/prod/web/kustomization.yaml").write_bytes(staging.read_bytes())
    plan = plan_promote(
        Workspace.open(repo, load_config(repo)), "staging", "prod", services=["web"]
    )
    assert plan.changes == () and plan.files == {}
    assert plan.notes == ("prod already runs the images of staging for web; nothing to change",)


def test_promote_refuses_a_service_missing_in_one_env(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("release-edits")
    (repo / "overlays/dev/cart").mkdir()
    (repo / "overlays/dev/cart/kustomization.yaml").write_text(
        "resources:\n  - ../../../base/web\n", encoding="utf-8"
    )
    with pytest.raises(ReleaseError) as caught:
        plan_promote(Workspace.open(repo, load_config(repo)), "dev", "staging", services=["cart"])
    assert str(caught.value) == (
        "no overlay overlays/staging/cart: cannot promote cart "
        "(services in both dev and staging: api, web)"
    )


def test_promote_refuses_an_untagged_source_image(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("release-edits")
    deployment = repo / "base/web/deployment.yaml"
    for path in (deployment, repo / "base/web/cronjob.yaml"):
        path.write_text(
            path.read_text().replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web"),
            encoding="utf-8",
        )
    (repo / "overlays/dev/web/kustomization.yaml").write_text(
        "resources:\n  - ../../../base/web\n", encoding="utf-8"
    )
    with pytest.raises(ReleaseError, match=r"dev/web: ghcr\.io/acme/web: no tag and no digest"):
        plan_promote(Workspace.open(repo, load_config(repo)), "dev", "staging", services=["web"])


def test_promote_out_of_order_needs_force_and_notes_it() -> None:
    with pytest.raises(ReleaseError, match="a rollback; pass --force"):
        plan_promote(WORKSPACE, "prod", "staging", services=["web"])
    plan = plan_promote(WORKSPACE, "prod", "staging", services=["web"], force=True)
    assert [c.line() for c in plan.changes] == ["staging/web: ghcr.io/acme/web 1.1.0 -> 1.0.1"]
    assert plan.notes[0].startswith("forced: staging comes before prod")


def test_promote_reads_rendered_streams_with_the_one_loader() -> None:
    """tests/fixtures/yaml-oddities renders `op: =` and `merge: <<`: promote used to stop with
    an internal ConstructorError reading them."""
    oddities = FIXTURES / "yaml-oddities"
    plan = plan_promote(Workspace.open(oddities, load_config(oddities)), "dev", "prod")
    assert [c.line() for c in plan.changes] == ["prod/api: ghcr.io/acme/api 1.0.0 -> 1.1.0"]
