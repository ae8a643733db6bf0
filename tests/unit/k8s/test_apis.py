"""``gitops.k8s.apis``: the packaged lifecycle table of built-in API versions, read strictly,
and the replacement a target version still serves."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.k8s.apis import api_lifecycles, lifecycle, parse_lifecycles, removed_api


def test_the_packaged_table_names_its_sources_and_covers_known_removals() -> None:
    table = {(a.api_version, a.kind): a for a in api_lifecycles()}
    pdb = table[("policy/v1beta1", "PodDisruptionBudget")]
    assert (pdb.deprecated_in, pdb.removed_in) == (21, 25)
    endpoints = table[("v1", "Endpoints")]
    assert (endpoints.deprecated_in, endpoints.removed_in) == (33, None)
    assert len(table) == len(api_lifecycles())  # no apiVersion x kind listed twice


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"apis": []}, "expected sources:"),
        ({"sources": ["x"], "apis": {}}, "expected a mapping with an apis: list"),
        (
            {
                "sources": ["x"],
                "apis": [
                    {"apiVersions": ["a/v1"], "kinds": ["K"], "deprecated": "1.2", "removed": 3}
                ],
            },
            "apis[0]",
        ),
    ],
)
def test_a_malformed_table_is_one_clear_error(data: Any, expected: str) -> None:
    with pytest.raises(ValueError, match=r"api-lifecycles\.yaml: ") as caught:
        parse_lifecycles(data, "gitops/data/api-lifecycles.yaml")
    assert expected in str(caught.value)


def test_a_removed_replacement_is_followed_to_what_the_target_serves() -> None:
    psp = lifecycle("extensions/v1beta1", "PodSecurityPolicy")
    assert psp is not None
    assert psp.replacement_at(20) == "policy/v1beta1"
    assert psp.replacement_at(25).startswith("Pod Security Admission")
    assert removed_api("extensions/v1beta1", "Deployment", 36) is not None
    assert removed_api("policy/v1beta1", "PodDisruptionBudget", 24) is None
    assert removed_api("apps/v1", "Deployment", 36) is None
