"""The shared kustomization walker and the one definition of a remote entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.kustomization import is_remote, walk


@pytest.mark.parametrize(
    ("entry", "remote"),
    [
        ("https://github.com/org/repo//deploy?ref=v1.0.0", True),
        ("git@github.com:org/repo.git//deploy", True),
        ("git::https://example.com/org/repo.git", True),
        ("example.com/org/repo//deploy", True),  # any host with a dot, not only github/gitlab
        ("some/dir?ref=main", True),
        ("../../base/web", False),
        ("deployment.yaml", False),
    ],
)
def test_is_remote(entry: str, remote: bool) -> None:
    assert is_remote(entry) is remote


def test_walk_visits_each_local_directory_once_and_sorts_entries(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base/kustomization.yaml").write_text(
        "resources:\n- deploy.yaml\n- github.com/org/shared//x?ref=main\n"
    )
    (tmp_path / "base/deploy.yaml").write_text("{}\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "Kustomization").write_text(
        "resources:\n- ../base\n- ../base\n- gone.yaml\n- 42\n"
        "components:\n- https://example.com/c.git\n"
    )
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken/kustomization.yaml").write_text("resources: [\n")
    visited = list(walk(overlay))
    assert [v.path.name for v in visited] == ["Kustomization", "kustomization.yaml"]
    top, base = visited
    assert top.remote == ("https://example.com/c.git",)
    assert top.missing == ("gone.yaml",)
    assert base.remote == ("github.com/org/shared//x?ref=main",)
    assert list(walk(tmp_path / "broken")) == []  # unreadable: the render reports it
