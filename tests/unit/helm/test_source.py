"""``gitops.helm.source``: a chart render as data, its arguments and its cache identity."""

from __future__ import annotations

import dataclasses

from gitops.helm.source import ChartSource, clean_set_parameter

SOURCE = ChartSource(
    application="dev-web",
    chart_dir="charts/web",
    chart="web",
    release_name="dev-web",
    namespace="",
    kube_version="",
    api_versions=(),
    value_files=("charts/web/values-dev.yaml",),
    values="",
)


def test_only_what_is_set_becomes_an_argument() -> None:
    assert SOURCE.template_args(None) == (
        "template", ".", "--name-template", "dev-web",
        "--values", "values-dev.yaml",
        "--include-crds",
    )  # fmt: skip


def test_the_identity_changes_with_every_argument_but_not_the_application() -> None:
    """The cache key's arguments: two Applications rendering one chart alike share a render."""
    for change in (
        {"release_name": "web"},
        {"namespace": "web"},
        {"values": "a: 1\n"},
        {"parameters": (("a", "1"),)},
        {"api_versions": ("apps/v1",)},
        {"skip_crds": True},
    ):
        assert dataclasses.replace(SOURCE, **change).identity() != SOURCE.identity(), change
    assert dataclasses.replace(SOURCE, application="other").identity() == SOURCE.identity()


def test_commas_are_escaped_unless_the_value_is_a_list() -> None:
    """util/helm/cmd.go cleanSetParameters."""
    assert clean_set_parameter("a,b") == "a\\,b"
    assert clean_set_parameter("a\\,b") == "a\\,b"
    assert clean_set_parameter("{a,b}") == "{a,b}"
