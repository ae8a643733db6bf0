"""``gitops.diff.select``: which overlays a change affects, and so which are rendered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gitops.diff import format_json
from tests.unit.diff.scratch import changed, commit, diff, replicas_patch, write


def test_patch_change_renders_only_that_env(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(scratch_repo, {"overlays/staging/web/replicas.yaml": replicas_patch(4)})
    commit(scratch_repo, "staging: 4 replicas")
    untouched()
    result = diff(scratch_repo, base="HEAD~1", head="HEAD")
    assert result.rendered_base == result.rendered_head == ("staging/web",)
    assert [(a.name, a.reason) for a in result.affected] == [
        ("staging/web", "overlays/staging/web/replicas.yaml changed")
    ]
    assert changed(result) == [("changed", "staging/web", "Deployment/web")]
    assert "-  replicas: 2\n+  replicas: 4\n" in result.changes[0].diff
    assert result.changes[0].diff.startswith("--- base/staging/web/Deployment/web\n")
    document = json.loads(format_json(result))
    assert document["rendered"] == {"base": ["staging/web"], "head": ["staging/web"]}
    assert document["changes"][0]["kind"] == "Deployment"
