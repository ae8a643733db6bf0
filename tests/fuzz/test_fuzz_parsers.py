"""Property-based fuzzing: each parser of untrusted input either succeeds or raises one of our
documented errors (never anything else), and the checks that must agree do."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gitops.apivalidation import api_problems
from gitops.config import load_config
from gitops.diff.resources import normalise
from gitops.errors import ConfigError
from gitops.gotemplate import TemplateError, render_go_template
from gitops.k8s.features import FeatureGates
from gitops.model import Overlay
from gitops.policy import selector_matches
from gitops.quantity import parse_quantity
from gitops.render import resources_from_entry, traced_entry
from gitops.schema import QUANTITY_PATTERN
from gitops.tracing import trace_manifest
from gitops.validate import decode_text
from gitops.yamlio import go_scalar, read_documents

# Quantity-shaped text: signs, digits, dots, exponents and suffixes, plus noise.
_QUANTITY_PARTS = st.sampled_from(
    [
        "",
        "+",
        "-",
        "0",
        "1",
        "9",
        "12",
        ".",
        "5",
        "e",
        "E",
        "e-",
        "E+",
        "Ki",
        "Mi",
        "Ei",
        "m",
        "n",
        "u",
        "k",
        "M",
        "G",
        "T",
        "P",
        "E",
        " ",
        "i",
        "2147483648",
        "4294967297",
        "00",
    ]
)
QUANTITY_TEXT = st.lists(_QUANTITY_PARTS, max_size=8).map("".join) | st.text(max_size=20)


@given(QUANTITY_TEXT)
def test_quantity_parser_raises_only_value_error_and_agrees_with_the_schema(text: str) -> None:
    try:
        parse_quantity(text)
        parsed = True
    except ValueError:
        parsed = False
    if not re.search(r"\d{4300}", text):  # more digits than Python converts: parser refuses
        assert bool(re.search(QUANTITY_PATTERN, text)) == parsed


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()))
def test_quantity_parser_on_yaml_scalars(value: Any) -> None:
    with contextlib.suppress(ValueError):
        parse_quantity(value)


# YAML-shaped text: indentation, anchors, aliases, flow collections, merge keys, tags.
_YAML_TOKENS = st.sampled_from(
    [
        "a",
        "b",
        ":",
        ": ",
        "\n",
        "  ",
        "- ",
        "---\n",
        "&x ",
        "*x",
        "&y ",
        "*y",
        "[",
        "]",
        "{",
        "}",
        ",",
        "<<: ",
        "!!str ",
        "!!binary ",
        "'",
        '"',
        "#",
        "|",
        ">",
        "? ",
        "1",
        "~",
        "=",
        "kind: ConfigMap\n",
        "apiVersion: v1\n",
        "\t",
        "%YAML 1.1\n",
        "\x00",
        "\ufeff",
    ]
)
YAML_TEXT = st.lists(_YAML_TOKENS, max_size=40).map("".join) | st.text(max_size=200)


@given(YAML_TEXT, st.sampled_from(["x.yaml", "x.json", "-"]))
def test_yaml_reader_never_raises(text: str, source: str) -> None:
    loaded = read_documents(text, source)
    assert all(isinstance(d.body, dict) for d in loaded.documents)
    assert all(isinstance(e, str) and e for e in loaded.errors)


# Plain scalars YAML 1.1 (PyYAML) and Kubernetes (go-yaml v2) read differently, or that
# kustomize prints without quotes: the bare `=` and `<<`, y/n, sexagesimal numbers, `~`.
_ODD_SCALARS = st.sampled_from(
    [
        "=",
        "<<",
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "No",
        "on",
        "OFF",
        "~",
        "null",
        "",
        "1:30",
        "190:20:30",
        "-1:30",
        "12:30:45.5",
        "0o17",
        "017",
        "08",
        "0x1F",
        "0b101",
        "1e3",
        ".5",
        ".inf",
        "-.inf",
        ".nan",
        "1_000",
        "2024-01-31",
        "+1",
        "1.2.3",
        "9223372036854775808",
    ]
)
ODD_SCALAR = st.one_of(
    _ODD_SCALARS,
    st.lists(_ODD_SCALARS, min_size=2, max_size=3).map("".join),
    st.text(alphabet="0123456789_:.+-eExXobB=<yYn~", min_size=1, max_size=8),
)


def _same(a: Any, b: Any) -> bool:
    """Equality with NaN equal to itself (``.nan`` reads as one)."""
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


@given(st.lists(ODD_SCALAR, min_size=1, max_size=6))
def test_every_reader_of_a_rendered_stream_agrees_on_yaml_11_oddities(values: list[str]) -> None:
    """One loader for every rendered stream: a ConfigMap whose values are YAML 1.1 oddities
    reads without an error other than a documented problem, as Kubernetes reads each scalar
    (gitops.yamlio.go_scalar); the snapshot's parse, the render cache and diff's normalised
    YAML all give back the same objects."""
    lines = "".join(f"  k{i}: {value}\n" for i, value in enumerate(values))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n{lines}"
    overlay = Overlay(0, "dev", "web", "overlays/dev/web")
    loaded = read_documents(text, overlay.rel_path)
    assert all(isinstance(e, str) and e.startswith(overlay.rel_path) for e in loaded.errors)
    resources, problems = trace_manifest(Path("/nonexistent"), "/nonexistent", overlay, text)
    assert _same([r.body for r in resources], [d.body for d in loaded.documents])
    assert problems == list(loaded.errors)
    for document in loaded.documents:
        data = document.body.get("data")
        if isinstance(data, dict) and len(data) == len(values):
            for i, value in enumerate(values):
                if "#" not in value and ": " not in value:
                    assert _same(data.get(f"k{i}"), go_scalar(value))
        (again,) = read_documents(normalise(document.body), "normalised.yaml").documents
        assert _same(again.body, document.body)
    entry = traced_entry(resources, problems)
    if entry is not None:
        decoded = resources_from_entry(overlay, entry)
        assert decoded is not None
        assert _same([r.body for r in decoded[0]], [r.body for r in resources])


@given(st.binary(max_size=300))
def test_decoding_untrusted_bytes_never_raises(data: bytes) -> None:
    text, problem = decode_text(data)
    assert (problem is None) or text == ""  # either text, or why it is not text


_TEMPLATE_TOKENS = st.sampled_from(
    [
        "{{",
        "}}",
        ".path",
        ".path.basename",
        ".env",
        "index",
        " ",
        ".path.segments",
        "1",
        "0",
        "-1",
        '"x"',
        "|",
        "default",
        "(",
        ")",
        "x",
        "/",
        "normalize",
        ".",
        "$",
        "{{-",
        "-}}",
    ]
)
TEMPLATE_TEXT = st.lists(_TEMPLATE_TOKENS, max_size=20).map("".join) | st.text(max_size=60)
PARAMS = st.fixed_dictionaries(
    {
        "path": st.fixed_dictionaries(
            {
                "path": st.text(max_size=20),
                "basename": st.text(max_size=10),
                "segments": st.lists(st.text(max_size=5), max_size=4),
            }
        ),
        "env": st.text(max_size=8),
    }
)


@given(TEMPLATE_TEXT, PARAMS, st.booleans())
def test_go_template_subset_raises_only_template_error(
    text: str, params: dict[str, Any], missingkey_error: bool
) -> None:
    with contextlib.suppress(TemplateError):
        assert isinstance(render_go_template(text, params, missingkey_error), str)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(["app", "tier", "statefulset.kubernetes.io/pod-name", "x"])
SELECTOR = st.one_of(
    _JSONISH,
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.dictionaries(_KEYS, st.text(max_size=4), max_size=3) | _JSONISH,
            "matchExpressions": st.lists(
                st.fixed_dictionaries(
                    {
                        "key": _KEYS | _JSONISH,
                        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "?"]),
                    },
                    optional={"values": st.lists(st.text(max_size=4), max_size=3) | _JSONISH},
                ),
                max_size=3,
            ),
        },
    ),
)
LABELS = st.dictionaries(_KEYS, st.text(max_size=4), max_size=3)
GENERATED = st.dictionaries(_KEYS, st.none() | st.frozensets(st.text(max_size=4), max_size=3))


@given(SELECTOR, LABELS, GENERATED)
def test_label_selectors_never_raise(selector: Any, labels: dict[str, str], generated: Any) -> None:
    assert isinstance(selector_matches(selector, labels, generated), bool)


@given(
    st.sampled_from(
        [
            "Deployment",
            "StatefulSet",
            "Pod",
            "Service",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "CronJob",
            "Job",
            "DaemonSet",
        ]
    ),
    st.dictionaries(st.sampled_from(["metadata", "spec"]), _JSONISH, max_size=2),
)
def test_api_validation_never_raises_on_malformed_objects(kind: str, body: dict[str, Any]) -> None:
    group = {
        "Service": "v1",
        "Pod": "v1",
        "PodDisruptionBudget": "policy/v1",
        "HorizontalPodAutoscaler": "autoscaling/v2",
        "CronJob": "batch/v1",
        "Job": "batch/v1",
    }
    body = {"apiVersion": group.get(kind, "apps/v1"), "kind": kind, **body}
    for version in ("1.33", "1.36"):  # the gated rules take both paths
        problems = api_problems(body, FeatureGates.for_version(version))
        assert all(isinstance(p, str) for p in problems)


_CONFIG_TOKENS = st.sampled_from(
    [
        "envs: ",
        "[dev, prod]",
        "[]",
        "policy:\n",
        "  severity:\n",
        "    pdb-missing: ",
        "off",
        "on",
        "error",
        "eror",
        "{dev: off}",
        "{qa: off}",
        "kustomize:\n",
        "  timeoutSeconds: ",
        "  memoryLimitMiB: ",
        "-1",
        "64",
        "\n",
        "kubernetesVersion: ",
        '"1.33"',
        "1.33",
        "x: y\n",
        "schemas: ",
        "probe: ",
        "  pdbRequiredEnvs: ",
        "argocdPath: ",
        "/abs",
        "repoURL: ",
        "7",
    ]
)
CONFIG_TEXT = st.lists(_CONFIG_TOKENS, max_size=16).map("".join) | st.text(max_size=80)


@given(CONFIG_TEXT)
def test_config_loader_raises_only_config_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gitops-fuzz-") as folder:
        Path(folder, "gitops.yaml").write_text(text, encoding="utf-8", errors="replace")
        with contextlib.suppress(ConfigError):
            load_config(Path(folder))
