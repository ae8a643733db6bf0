"""Strict multi-document YAML loading: positions, duplicate keys, Kubernetes' scalar rules."""

from __future__ import annotations

import pytest

from gitops import yamlio
from gitops.yamlio import YamlError, go_scalar, load_documents, plain_safe, read_documents


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


@pytest.mark.parametrize(
    ("plain", "meaning"),
    [
        # go.yaml.in/yaml/v2 resolve.go (kubectl's reader through sigs.k8s.io/yaml)
        ("y", True),
        ("N", False),
        ("on", True),
        ("OFF", False),
        ("~", None),
        ("", None),
        ("=", "="),  # PyYAML: the YAML 1.1 "value" tag it cannot construct
        ("<<", "<<"),  # PyYAML: the merge tag, an error outside a key
        ("1:30", "1:30"),  # YAML 1.1 sexagesimal 90; base 60 is unsupported in go-yaml
        ("190:20:30", "190:20:30"),
        ("0o17", 15),  # strconv.ParseInt base 0
        ("017", 15),
        ("0x1F", 31),
        ("-0b11", -3),
        ("1_000", 1000),
        ("08", 8.0),  # not octal: yamlStyleFloat
        ("1e3", 1000.0),  # a string in YAML 1.1
        (".5", 0.5),
        ("-.inf", float("-inf")),
        ("9223372036854775808", 9223372036854775808),  # ParseUint
        ("18446744073709551616", 1.8446744073709552e19),
        ("1e999", "1e999"),  # ParseFloat's range error
        ("2024-01-31", "2024-01-31"),
        ("1.2.3", "1.2.3"),
        ("+", "+"),
    ],
)
def test_plain_scalars_mean_what_they_mean_to_kubernetes(plain: str, meaning: object) -> None:
    assert go_scalar(plain) == meaning and type(go_scalar(plain)) is type(meaning)
    (document,) = read_documents(f"v: {plain}\n", "s.yaml").documents
    assert document.body["v"] == meaning and type(document.body["v"]) is type(meaning)
    # Written unquoted only when it reads back as the same string.
    assert plain_safe(plain) is (meaning == plain)


def test_kustomizes_bare_equals_and_merge_values_read_as_strings() -> None:
    """kustomize prints the data values "=" and "<<" unquoted; PyYAML's YAML 1.1 loaders stop
    with a ConstructorError on both (status and promote used one), this loader does not."""
    text = "data:\n  =: eq\n  op: =\n  merge: <<\n  base: &b {a: 1}\n  child: {<<: *b, c: 2}\n"
    (document,) = read_documents(text, "cm.yaml").documents
    assert document.body["data"] == {
        "=": "eq",
        "op": "=",
        "merge": "<<",
        "base": {"a": 1},
        "child": {"a": 1, "c": 2},
    }
