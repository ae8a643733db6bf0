"""``gitops.k8s.selectors``: LabelSelector matching as the API server and controllers do it,
the labels controllers add to their pods, and policy/v1's PDB selection."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.k8s.selectors import (
    generated_labels,
    pdb_selects,
    selector_matches,
    valid_label_selector,
)

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({}, True),  # empty selects everything
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "api"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        # matchLabels and matchExpressions are ANDed
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "zone", "operator": "Exists"}],
            },
            False,
        ),
        (None, False),
        ({"matchLabels": "app=web"}, False),  # wrong shape: evaluates to nothing
    ],
)
def test_selector_matches(selector: Any, matches: bool) -> None:
    assert selector_matches(selector, LABELS) is matches


def test_shape_check() -> None:
    assert valid_label_selector({"matchExpressions": [{"key": "a", "values": None}]})
    assert not valid_label_selector({"matchExpressions": [{"values": []}]})  # no key
    assert not valid_label_selector({"matchExpressions": {"key": "a"}})
    assert not valid_label_selector([])


def test_labels_the_controllers_add_match_selectors_on_them() -> None:
    stateful = {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"replicas": 2}}
    generated = generated_labels(stateful)
    assert generated["statefulset.kubernetes.io/pod-name"] == frozenset({"db-0", "db-1"})
    per_pod = {"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-1"}}
    assert selector_matches(per_pod, {"app": "db"}, generated)
    assert not selector_matches({"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-2"}},
                                {"app": "db"}, generated)  # fmt: skip
    # A hash the controller computes matches any value; a template label wins over it.
    deployment = generated_labels({"kind": "Deployment"})
    assert selector_matches({"matchLabels": {"pod-template-hash": "abc"}}, {}, deployment)
    assert not selector_matches(
        {"matchLabels": {"pod-template-hash": "abc"}}, {"pod-template-hash": "x"}, deployment
    )
    job = generated_labels({"kind": "Job", "metadata": {"name": "migrate"}})
    assert job["job-name"] == frozenset({"migrate"})
    assert generated_labels({"kind": "ConfigMap"}) == {}


def test_pdb_selection_is_policy_v1() -> None:
    assert pdb_selects({"selector": {}}, LABELS) is True
    assert pdb_selects({}, LABELS) is False  # no selector: no pods
    assert pdb_selects({"selector": {"matchLabels": ["app"]}}, LABELS) is None  # malformed
    assert pdb_selects({"selector": {"matchLabels": {"app": "api"}}}, LABELS) is False
