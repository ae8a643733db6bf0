"""The shared kustomization walker and the one definition of a remote entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.inputs import InputResolver
from gitops.kustomization import classify, is_remote, walk


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


def test_classify_prefers_what_exists_on_disk(tmp_path: Path) -> None:
    # "config.d/patch.yaml" looks like a host name followed by a path; on disk it is a file.
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d/patch.yaml").write_text("{}\n")
    assert classify(tmp_path, "config.d/patch.yaml") == "file"
    assert classify(tmp_path, "config.d") == "dir"
    assert classify(tmp_path, "example.com/org/repo//deploy") == "remote"
    assert classify(tmp_path, "gone.yaml") == "missing"
    assert classify(tmp_path, "bad\0name") == "missing"


def test_input_sets_decide_remote_like_the_walker(tmp_path: Path) -> None:
    """Change detection (gitops.inputs) and the walker share one definition of remote: a local
    dotted folder is an input, git::/host URLs are remote (the old regex of inputs.py missed
    both forms)."""
    overlay = tmp_path / "overlays/dev/web"
    (overlay / "config.d").mkdir(parents=True)
    (overlay / "config.d/patch.yaml").write_text("{}\n")
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- git::https://example.com/org/repo.git\n"
        "- example.com/org/repo//deploy\n"
        "patches:\n- path: config.d/patch.yaml\n"
    )
    inputs = InputResolver(tmp_path).overlay_inputs("overlays/dev/web")
    assert inputs.remote == {
        "git::https://example.com/org/repo.git",
        "example.com/org/repo//deploy",
    }
    assert inputs.files == {
        "overlays/dev/web/kustomization.yaml",
        "overlays/dev/web/config.d/patch.yaml",
    }
    assert inputs.touched_by(["overlays/dev/web/config.d/patch.yaml"]) == [
        "overlays/dev/web/config.d/patch.yaml"
    ]
