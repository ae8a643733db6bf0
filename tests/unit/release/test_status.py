"""``gitops status`` on the release-edits fixture: images per env as git declares them, which
env is ahead of which."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.config import load_config
from gitops.release.status import format_json, format_text, image_status, version_key
from gitops.workspace import Workspace
from tests.conftest import FIXTURES

REPO = FIXTURES / "release-edits"
ENVS = ["dev", "staging", "prod"]
DIGEST = "sha256:3f2b1c0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"


def test_table_of_every_image_per_env() -> None:
    rows = image_status(Workspace.open(REPO, load_config(REPO)))
    assert format_text(rows, ENVS) == (
        "SERVICE  IMAGE             DEV                            STAGING  PROD     STATUS\n"
        "api      envoyproxy/envoy  v1.32.1@sha256:3f2b1c0a9e8d *  v1.31.0  v1.31.0  "
        "dev ahead of staging and prod\n"
        "api      ghcr.io/acme/api  1.3.0-rc.1 *                   1.2.0    1.0.0    "
        "dev ahead of staging, staging ahead of prod\n"
        "web      ghcr.io/acme/web  latest *                       1.1.0    1.0.1    "
        "dev ahead of staging, staging ahead of prod\n"
        "\n"
        "3 of 3 image(s) differ between envs; * marks the env ahead\n"
        "Versions as declared in git (the rendered overlays), not read from the clusters.\n"
    )


def test_json_has_full_digests_and_the_ahead_env() -> None:
    document = json.loads(format_json(image_status(Workspace.open(REPO, load_config(REPO))), ENVS))
    assert document["envs"] == ENVS
    envoy = document["images"][0]
    assert envoy == {
        "service": "api",
        "image": "envoyproxy/envoy",
        "versions": {"dev": f"v1.32.1@{DIGEST}", "staging": "v1.31.0", "prod": "v1.31.0"},
        "differs": True,
        "ahead": "dev",
        "behind": ["staging", "prod"],
        "ranking": [["dev"], ["staging", "prod"]],
        "outOfOrder": [],
    }


def test_a_hotfix_that_skipped_the_order_is_reported(fixture_repo: Callable[[str], Path]) -> None:
    repo = fixture_repo("release-edits")
    prod = repo / "overlays/prod/web/kustomization.yaml"
    prod.write_text(prod.read_text().replace("newTag: 1.0.1", "newTag: 1.1.1"), encoding="utf-8")
    rows = {(r.service, r.image): r for r in image_status(Workspace.open(repo, load_config(repo)))}
    web = rows[("web", "ghcr.io/acme/web")]
    # "latest" is no version: the leftmost env that differs is taken as ahead.
    assert (web.ahead, web.behind) == ("dev", ("staging", "prod"))
    dev = repo / "overlays/dev/web/kustomization.yaml"
    dev.write_text(dev.read_text().replace("newTag: latest", "newTag: 1.2.0"), encoding="utf-8")
    rows = {(r.service, r.image): r for r in image_status(Workspace.open(repo, load_config(repo)))}
    web = rows[("web", "ghcr.io/acme/web")]
    assert (web.ahead, web.behind, web.out_of_order) == (
        "dev",
        ("prod", "staging"),  # from ahead to behind
        ("prod > staging",),
    )
    assert web.ranking == (("dev",), ("prod",), ("staging",))
    assert web.status() == (
        "dev ahead of prod, prod ahead of staging (out of order: prod > staging)"
    )


def test_images_the_same_in_every_env_read_same_and_can_be_hidden(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("release-edits")
    dev = repo / "overlays/dev/api/kustomization.yaml"
    staging = repo / "overlays/staging/api/kustomization.yaml"
    dev.write_bytes(staging.read_bytes().replace(b'"1.2.0"', b'"1.0.0"'))
    (repo / "overlays/dev/api/replicas.yaml").write_bytes(
        (repo / "overlays/staging/api/replicas.yaml").read_bytes()
    )
    staging.write_bytes(dev.read_bytes())
    rows = image_status(Workspace.open(repo, load_config(repo)))
    every = format_text(rows, ENVS)
    assert "api      envoyproxy/envoy  v1.31.0   v1.31.0  v1.31.0  same\n" in every
    assert "api      ghcr.io/acme/api  1.0.0     1.0.0    1.0.0    same\n" in every
    differing = format_text(rows, ENVS, only_differing=True)
    assert "api" not in differing
    assert "1 of 3 image(s) differ between envs; * marks the env ahead\n" in differing


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.0", "1.0.1"),
        ("1.9.0", "1.10.0"),
        ("1.3.0-rc.1", "1.3.0"),
        ("1.3.0-rc.2", "1.3.0-rc.10"),
        ("1.3.0-alpha", "1.3.0-beta"),
        ("v1.31.0", "v1.32.1@" + DIGEST),
    ],
)
def test_version_order_follows_semver(lower: str, higher: str) -> None:
    low, high = version_key(lower), version_key(higher)
    assert low is not None and high is not None and low < high


def test_tags_that_are_no_versions_have_no_order() -> None:
    assert version_key("latest") is None
    assert version_key("@" + DIGEST) is None
    assert version_key("main-4f2a9c1") is None


def test_status_reads_rendered_streams_with_the_one_loader(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tests/fixtures/yaml-oddities renders `op: =` and `merge: <<` (issue: status stopped with
    an internal ConstructorError, exit 2): status reads what check reads."""
    from gitops.cli import main

    assert main(["status", "--repo", str(FIXTURES / "yaml-oddities")]) == 0
    out, err = capsys.readouterr()
    assert "api      ghcr.io/acme/api  1.1.0 *  1.0.0  dev ahead of prod" in out
    assert err == ""


def test_envs_that_agree_lead_together_and_are_all_marked(
    fixture_repo: Callable[[str], Path],
) -> None:
    repo = fixture_repo("release-edits")
    staging = repo / "overlays/staging/web/kustomization.yaml"
    staging.write_text(staging.read_text().replace("1.1.0", "1.2.0"), encoding="utf-8")
    dev = repo / "overlays/dev/web/kustomization.yaml"
    dev.write_text(dev.read_text().replace("newTag: latest", "newTag: 1.2.0"), encoding="utf-8")
    rows = image_status(Workspace.open(repo, load_config(repo)))
    [web] = [r for r in rows if r.image == "ghcr.io/acme/web"]
    assert web.status() == "dev and staging ahead of prod"
    [line] = [line for line in format_text(rows, ENVS).splitlines() if line.startswith("web")]
    assert " ".join(line.split()) == (
        "web ghcr.io/acme/web 1.2.0 * 1.2.0 * 1.0.1 dev and staging ahead of prod"
    )


def test_one_env_is_one_column_and_compares_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    from gitops.cli import main

    assert main(["status", "--repo", str(REPO), "--env", "prod"]) == 0
    assert capsys.readouterr().out == (
        "SERVICE  IMAGE             PROD\n"
        "api      envoyproxy/envoy  v1.31.0\n"
        "api      ghcr.io/acme/api  1.0.0\n"
        "web      ghcr.io/acme/web  1.0.1\n"
        "\n"
        "3 image(s) in prod\n"
        "Versions as declared in git (the rendered overlays), not read from the clusters.\n"
    )
    assert main(["status", "--repo", str(REPO), "--env", "qa"]) == 2
    assert (
        capsys.readouterr().err
        == "error: unknown env 'qa': gitops.yaml envs are dev, staging, prod\n"
    )
