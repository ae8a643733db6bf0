"""Fixtures of the unit tests: a scratch git repo (see :mod:`tests.unit.diff.scratch`) and a
guard that its user state (status, stash, worktree list) is the same after a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops.schema import SchemaValidator
from tests.unit.diff.scratch import LAYOUT, commit, git, user_state, write


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, dict(LAYOUT))
    commit(repo, "initial layout")
    return repo


@pytest.fixture
def untouched(scratch_repo: Path) -> Iterator[Callable[[], None]]:
    """Call it after the changes a test makes; at teardown the user state must be identical."""
    snapshot: list[tuple[str, str, str]] = []

    def take() -> None:
        snapshot.append(user_state(scratch_repo))

    yield take
    if snapshot:  # empty only for a test skipped before it ran anything
        assert user_state(scratch_repo) == snapshot[0]


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> SchemaValidator:
    return SchemaValidator("1.33", cache_dir=tmp_path_factory.mktemp("schema-cache"))
