"""Property-based fuzzing: each parser of untrusted input either succeeds or raises one of our
documented errors (never anything else), and the checks that must agree do."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gitops.apivalidation import api_problems
from gitops.config import load_config
from gitops.errors import ConfigError
from gitops.gotemplate import TemplateError, render_go_template
from gitops.k8s.features import FeatureGates
from gitops.policy import selector_matches
from gitops.quantity import parse_quantity
from gitops.schema import QUANTITY_PATTERN
from gitops.validate import decode_text
from gitops.yamlio import read_documents

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
