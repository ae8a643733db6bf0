"""This repository's releases as ``gitops status`` reads them: every image of ours is pinned
per env, and no env runs a newer version of it than an env before it."""

from __future__ import annotations

from gitops.config import RepoConfig
from gitops.release.status import image_status
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT

OURS = ("ghcr.io/example-org/healthz", "ghcr.io/example-org/kpis-api")


def test_our_images_are_versioned_in_every_env_and_promoted_in_order(
    repo_config: RepoConfig,
) -> None:
    rows = {row.image: row for row in image_status(Workspace.open(REPO_ROOT, repo_config))}
    for image in OURS:
        row = rows[image]
        assert all(row.versions[env] for env in repo_config.envs), row
        assert row.out_of_order == (), f"{image}: {row.status()}"


def test_airbyte_is_pinned_once_in_the_base_so_every_env_runs_the_same(
    repo_config: RepoConfig,
) -> None:
    rows = [
        r for r in image_status(Workspace.open(REPO_ROOT, repo_config)) if r.service == "airbyte"
    ]
    assert rows and all(not r.differs for r in rows), [r.status() for r in rows if r.differs]
