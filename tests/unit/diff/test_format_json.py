"""``gitops.diff.format_json``: the machine-readable report's fields."""

from __future__ import annotations

import json

from gitops.diff import format_json
from tests.unit.diff.results import sample_result


def test_json_report_carries_refs_changes_findings_and_summary() -> None:
    document = json.loads(format_json(sample_result()))
    assert document["base"] == {"ref": "merge-base(HEAD, main)", "sha": "0123456789abcdef0123"}
    assert document["head"] == {"ref": "working tree", "sha": None}
    assert document["rendered"] == {
        "base": ["dev/web", "prod/web"],
        "head": ["dev/web", "prod/web"],
    }
    first, secret, error = document["changes"]
    assert (first["kind"], first["name"], first["namespace"]) == ("Deployment", "web", "demo")
    assert secret["secretKeys"] == {"added": ["token"], "removed": [], "changed": []}
    assert (error["action"], error["kind"], error["side"], error["message"]) == (
        "render-error",
        None,
        "head",
        "boom",
    )
    assert [f["rule"] for f in document["findings"]["added"]] == ["pdb-blocks-drain"]
    assert document["findings"]["added"][0]["severity"] == "warning"
    assert [f["rule"] for f in document["findings"]["fixed"]] == ["render-failed"]
    assert [r["env"] for r in document["summary"]] == ["dev", "prod"]
    assert document["affected"] == [
        {"overlay": "prod/web", "reason": "overlays/prod/web/replicas.yaml changed"}
    ]
    assert document["argocdCompared"] is False
    assert document["notes"] == ["remote base not followed"]
