from __future__ import annotations

import pytest

from gitops.gotemplate import TemplateError, render_fasttemplate, render_go_template

PARAMS = {
    "path": {
        "path": "overlays/prod/kpis-api",
        "basename": "kpis-api",
        "basenameNormalized": "kpis-api",
        "segments": ["overlays", "prod", "kpis-api"],
    }
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.path.path}}", "overlays/prod/kpis-api"),
        ("{{ index .path.segments 1 }}-{{ .path.basename }}", "prod-kpis-api"),
        ("integration-{{index .path.segments 1}}", "integration-prod"),
        ("{{ .path.basename | upper }}", "KPIS-API"),
        ("{{- .path.basename -}}", "kpis-api"),
        ("no actions", "no actions"),
    ],
)
def test_supported_forms(template: str, expected: str) -> None:
    assert render_go_template(template, PARAMS) == expected


def test_missingkey_error_names_the_key() -> None:
    with pytest.raises(TemplateError, match="map has no entry for key 'env'"):
        render_go_template("{{.path.env}}", PARAMS, missingkey_error=True)


def test_missing_key_without_option_prints_no_value_like_go() -> None:
    assert render_go_template("{{.path.env}}", PARAMS, missingkey_error=False) == "<no value>"


def test_index_out_of_range_is_an_error() -> None:
    with pytest.raises(TemplateError, match="index out of range: 5"):
        render_go_template("{{index .path.segments 5}}", PARAMS)


@pytest.mark.parametrize("template", ["{{ if .x }}a{{ end }}", "{{ .path.basename | sha256 }}"])
def test_unsupported_forms_are_refused_not_guessed(template: str) -> None:
    with pytest.raises(TemplateError, match="not supported"):
        render_go_template(template, PARAMS)


def test_fasttemplate_replaces_known_keys_and_keeps_unknown() -> None:
    params = {"path": "overlays/dev/web", "path[1]": "dev", "path.basename": "web"}
    assert render_fasttemplate("{{path[1]}}-{{path.basename}} {{nope}}", params) == (
        "dev-web {{nope}}"
    )
