"""gitops.schema.settings: the ``schemas:`` section of gitops.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.errors import ConfigError
from gitops.schema.settings import DEFAULT_CRD_DIRS, SchemaSettings, parse_schema_settings


def test_defaults_when_the_section_is_empty() -> None:
    settings = parse_schema_settings({})
    assert settings == SchemaSettings()
    assert settings.crd_dirs == DEFAULT_CRD_DIRS == ("crds",)
    assert settings.crd_dirs_explicit is False  # the default folder may be missing


def test_named_folders_are_explicit_and_lose_their_trailing_slash() -> None:
    settings = parse_schema_settings({"crdDirs": ["crds/", "more"], "skipKinds": ["v1/ConfigMap"]})
    assert settings == SchemaSettings(("crds", "more"), True, frozenset({"v1/ConfigMap"}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"crdDir": ["crds"]}, "unknown key(s) crdDir"),
        ({"crdDirs": "crds"}, "crdDirs must be a list of repo-relative folders"),
        ({"crdDirs": ["/abs"]}, "crdDirs must be a list of repo-relative folders"),
        ({"skipKinds": "example.com/v1/Widget"}, "skipKinds must be a list"),
        ({"skipKinds": ["Widget"]}, "'Widget' is not <apiVersion>/<Kind>"),
    ],
)
def test_malformed_schemas_section_is_a_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schema_settings(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
