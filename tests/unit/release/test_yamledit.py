"""The images: edit keeps every other byte: checked line by line on the fixture kustomizations
and on the layouts people write (flow lists, no final newline, CRLF, offset-0 lists)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from gitops.release.refs import Version
from gitops.release.yamledit import EditError, _first_line_outside, set_image_entry
from tests.conftest import FIXTURES

OVERLAYS = FIXTURES / "release-edits" / "overlays"
DIGEST = "sha256:" + "ab" * 32


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two texts, byte for byte (endings included)."""
    removed: list[str] = []
    added: list[str] = []
    old_lines = before.splitlines(keepends=True)
    new_lines = after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += old_lines[i1:i2]
            added += new_lines[j1:j2]
    return removed, added


def test_new_tag_keeps_comments_quotes_and_every_other_line() -> None:
    before = _read(OVERLAYS / "staging" / "api" / "kustomization.yaml")
    after = set_image_entry(before, "k.yaml", "ghcr.io/acme/api", Version("1.3.0"))
    removed, added = _changed_lines(before, after)
    assert removed == ['    newTag: "1.2.0"  # quoted on purpose: the edit must keep the quotes\n']
    assert added == ['    newTag: "1.3.0"  # quoted on purpose: the edit must keep the quotes\n']
    assert "  # The API release staging verifies;" in after


def test_digest_pinning_adds_the_digest_next_to_the_tag() -> None:
    before = _read(OVERLAYS / "staging" / "api" / "kustomization.yaml")
    after = set_image_entry(before, "k.yaml", "envoyproxy/envoy", Version("v1.32.1", DIGEST))
    removed, added = _changed_lines(before, after)
    assert removed == ["    newTag: v1.31.0\n"]
    assert added == ["    newTag: v1.32.1\n", f"    digest: {DIGEST}\n"]
    entry = yaml.safe_load(after)["images"][1]
    assert entry == {"name": "envoyproxy/envoy", "newTag": "v1.32.1", "digest": DIGEST}


def test_digest_only_drops_the_tag_and_a_tag_only_drops_the_digest() -> None:
    before = _read(OVERLAYS / "dev" / "api" / "kustomization.yaml")
    digest_only = set_image_entry(before, "k.yaml", "ghcr.io/acme/api", Version(None, DIGEST))
    assert yaml.safe_load(digest_only)["images"][0] == {
        "name": "ghcr.io/acme/api",
        "digest": DIGEST,
    }
    tag_only = set_image_entry(before, "k.yaml", "envoyproxy/envoy", Version("v1.33.0"))
    removed, added = _changed_lines(before, tag_only)
    assert removed[0] == "    newTag: v1.32.1\n" and removed[1].startswith("    digest: sha256:")
    assert added == ["    newTag: v1.33.0\n"]


def test_missing_images_block_is_created_after_resources_before_the_next_comment() -> None:
    before = _read(OVERLAYS / "prod" / "api" / "kustomization.yaml")
    after = set_image_entry(before, "k.yaml", "ghcr.io/acme/api", Version("1.2.0"))
    removed, added = _changed_lines(before, after)
    assert removed == []
    # The file lists with the dash at column 0; the new block follows its style.
    assert added == ["images:\n", "- name: ghcr.io/acme/api\n", "  newTag: 1.2.0\n"]
    assert after.index("images:") < after.index("# Three replicas: one per zone.")
    assert yaml.safe_load(after)["patches"] == [{"path": "replicas.yaml"}]


def test_new_entry_is_appended_in_the_blocks_own_indentation() -> None:
    before = _read(OVERLAYS / "prod" / "web" / "kustomization.yaml")
    after = set_image_entry(before, "k.yaml", "busybox", Version("1.37"))
    removed, added = _changed_lines(before, after)
    assert removed == []
    assert added == ["  - name: busybox\n", "    newTag: '1.37'\n"]  # quoted: 1.37 is a float


def test_new_name_and_unknown_keys_of_the_entry_are_kept() -> None:
    before = _read(OVERLAYS / "prod" / "web" / "kustomization.yaml")
    after = set_image_entry(before, "k.yaml", "ghcr.io/acme/web", Version("1.1.0"))
    assert _changed_lines(before, after) == (["    newTag: 1.0.1\n"], ["    newTag: 1.1.0\n"])


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (
            "resources: [../b]\nimages: [{name: web, newTag: '1'}]  # flow\n",
            "resources: [../b]\nimages: [{name: web, newTag: '2'}]  # flow\n",
        ),
        (
            "resources:\n  - ../b\nimages:\n  - name: web\n    newTag: '1'",
            "resources:\n  - ../b\nimages:\n  - name: web\n    newTag: '2'\n",
        ),
        (
            'resources:\r\n  - ../b\r\nimages:\r\n  - name: web\r\n    newTag: "1"\r\n',
            'resources:\r\n  - ../b\r\nimages:\r\n  - name: web\r\n    newTag: "2"\r\n',
        ),
        (
            "resources:\n- ../b\nimages:\n- name: web   # the app\n  newTag: '1'\n- name: x\n"
            "  newTag: y\n",
            "resources:\n- ../b\nimages:\n- name: web   # the app\n  newTag: '2'\n- name: x\n"
            "  newTag: y\n",
        ),
        (
            "images:\n  - name: web\n    newTag: '1'\n  # the sidecar\n  - name: x\n"
            "    newTag: y\n",
            "images:\n  - name: web\n    newTag: '2'\n  # the sidecar\n  - name: x\n"
            "    newTag: y\n",
        ),
        (
            "resources:\n  - ../b\nimages:\npatches:\n  - path: p.yaml\n",
            "resources:\n  - ../b\nimages:\n  - name: web\n    newTag: '2'\npatches:\n"
            "  - path: p.yaml\n",
        ),
        (
            "resources:\n- ../b\nimages: []\n",
            "resources:\n- ../b\nimages:\n- name: web\n  newTag: '2'\n",
        ),
        (
            "---\n# top\nimages:  # pinned\n    -   name: web\n        newTag: '1'\n",
            "---\n# top\nimages:  # pinned\n    -   name: web\n        newTag: '2'\n",
        ),
    ],
    ids=[
        "flow-list",
        "no-final-newline",
        "crlf",
        "dash-at-column-0",
        "comment-between-entries",
        "empty-images-key",
        "empty-flow-list",
        "document-start-and-wide-indent",
    ],
)
def test_layouts(before: str, expected: str) -> None:
    assert set_image_entry(before, "k.yaml", "web", Version("2")) == expected


def test_images_that_is_not_a_list_is_refused_naming_the_file() -> None:
    with pytest.raises(EditError, match=r"^overlays/dev/web/kustomization.yaml: images must"):
        set_image_entry(
            "images: {name: web}\n", "overlays/dev/web/kustomization.yaml", "web", Version("2")
        )


def test_invalid_yaml_is_refused_naming_the_file() -> None:
    with pytest.raises(EditError, match=r"^k.yaml: invalid YAML"):
        set_image_entry("images: [\n", "k.yaml", "web", Version("2"))


def test_an_entry_ending_like_the_one_before_it_is_appended() -> None:
    """Two images pinned to one tag: the new entry's last line equals the previous entry's.
    A line diff aligned them and blamed an untouched line ("without reformatting line 7")."""
    before = "resources:\n  - ../base\nimages:\n  - name: airbyte/server\n    newTag: 1.8.6\n"
    before += "patches:\n" + "".join(f"  - path: p{i}.yaml\n" for i in range(6))
    after = set_image_entry(before, "k.yaml", "airbyte/worker", Version("1.8.6"))
    server = "    newTag: 1.8.6\n"
    assert after == before.replace(server, server + "  - name: airbyte/worker\n" + server)


@pytest.mark.parametrize(
    ("new", "allowed", "outside"),
    [
        (["a\n", "b\n", "x\n", "b\n", "c\n"], (2, 2), None),  # inserted next to its twin
        (["a\n", "B\n", "c\n"], (1, 2), None),  # the allowed line replaced
        (["A\n", "b\n", "c\n"], (1, 2), 0),  # a line before the allowed range
        (["a\n", "B\n", "C\n"], (1, 2), 2),  # a line after it
        (["a\n"], (1, 2), 2),  # a line after it dropped
    ],
)
def test_only_the_allowed_lines_may_change(
    new: list[str], allowed: tuple[int, int], outside: int | None
) -> None:
    assert _first_line_outside(["a\n", "b\n", "c\n"], new, allowed) == outside
