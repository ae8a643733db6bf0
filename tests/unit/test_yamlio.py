"""Strict multi-document YAML loading: positions, duplicate keys, Kubernetes' scalar rules."""

from __future__ import annotations

import pytest

from gitops import yamlio
from gitops.yamlio import YamlError, load_documents, read_documents


def test_documents_carry_their_index_and_starting_line() -> None:
    text = "kind: A\n---\n# comment\nkind: B\n---\n---\nkind: C\n"
    loaded = read_documents(text, "m.yaml")
    assert [(d.index, d.line, d.body["kind"]) for d in loaded.documents] == [
        (0, 1, "A"),
        (1, 4, "B"),
        (3, 7, "C"),  # the empty document 2 is skipped but still counted
    ]
    assert loaded.errors == ()


def test_duplicate_key_names_the_key_and_both_lines() -> None:
    text = "spec:\n  replicas: 1\n  paused: false\n  replicas: 2\n"
    (document,) = read_documents(text, "d.yaml").documents
    assert document.problems == ("duplicate key 'replicas' at line 4 (first at line 2)",)


def test_merge_keys_are_not_duplicates() -> None:
    text = "base: &base {a: 1, b: 2}\nchild:\n  <<: *base\n  b: 3\n"
    (document,) = read_documents(text, "m.yaml").documents
    assert document.problems == ()
    assert document.body["child"] == {"a": 1, "b": 3}


def test_syntax_error_gives_file_line_and_problem_and_keeps_earlier_documents() -> None:
    loaded = read_documents("kind: A\n---\nkind: [B\n", "bad.yaml")
    assert [d.body for d in loaded.documents] == [{"kind": "A"}]
    (error,) = loaded.errors
    assert error.startswith("bad.yaml:4: invalid YAML: ")


def test_non_mapping_document_is_an_error() -> None:
    loaded = read_documents("- a\n- b\n", "list.yaml")
    assert loaded.documents == ()
    assert loaded.errors == (
        "list.yaml:1: document 0 is a list, expected a mapping (a Kubernetes object)",
    )


def test_dates_and_bare_equals_stay_strings_as_in_kubernetes() -> None:
    (document,) = read_documents("since: 2024-01-31\nop: =\n", "s.yaml").documents
    assert document.body == {"since": "2024-01-31", "op": "="}


def test_json_source_is_parsed_as_json_with_duplicate_detection() -> None:
    (document,) = read_documents('{"kind": "A", "kind": "B"}', "x.json").documents
    assert document.body == {"kind": "B"}
    assert document.problems == ("duplicate key 'kind'",)


def test_load_documents_raises_with_every_problem() -> None:
    with pytest.raises(YamlError) as caught:
        load_documents("a: 1\na: 2\n---\nb: 1\nb: 2\n", "two.yaml")
    assert caught.value.problems == (
        "two.yaml:1: duplicate key 'a' at line 2 (first at line 1)",
        "two.yaml:4: duplicate key 'b' at line 5 (first at line 4)",
    )


def test_the_alias_pre_check_reads_the_stream_once_not_once_per_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Scanning the whole stream once per document made a 40,000-document stream quadratic
    # (issue 22: 4 min 59 s for 50 MB); make bench times such a stream and its growth.
    scans: list[int] = []

    def counting(text: str) -> bool:
        scans.append(len(text))
        return "*" in text

    monkeypatch.setattr(yamlio, "has_alias_marker", counting)
    text = "".join(f"---\nkind: A\nmetadata: {{name: n{i}}}\n" for i in range(200))
    loaded = read_documents(text, "many.yaml")
    assert len(loaded.documents) == 200
    assert scans == [len(text)]
    # A stream that does hold an alias is still checked document by document.
    bomb = "a: &x [1, 2]\nb: [*x, *x, *x]\n"
    assert read_documents(bomb, "b.yaml").documents[0].body["b"] == [[1, 2]] * 3
