from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gitops.k8s_math import (
    IntOrPercent,
    InvalidValueError,
    budget_text,
    desired_healthy,
    disruptions_allowed,
    expected_pods,
    hpa_targets,
    managing_hpas,
    milli_value,
    min_replicas,
    parse_int_or_percent,
    parse_quantity,
    probe_timings,
)


def _deployment(
    name: str = "web", replicas: int | None = None, namespace: str = "demo"
) -> dict[str, Any]:
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _hpa(
    target: str = "web",
    minimum: int | None = None,
    namespace: str = "demo",
    api_version: str = "apps/v1",
    kind: str = "Deployment",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": target},
        "maxReplicas": 10,
    }
    if minimum is not None:
        spec["minReplicas"] = minimum
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"{target}-hpa", "namespace": namespace},
        "spec": spec,
    }


# --- intstr ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (2, IntOrPercent(2, False)),
        (0, IntOrPercent(0, False)),
        ("50%", IntOrPercent(50, True)),
        ("0%", IntOrPercent(0, True)),
    ],
)
def test_parse_int_or_percent(raw: Any, expected: IntOrPercent) -> None:
    assert parse_int_or_percent(raw) == expected


@pytest.mark.parametrize("raw", ["2", "50", "5.5%", "abc", True, 1.5, None, [1]])
def test_parse_int_or_percent_rejects_what_intstr_rejects(raw: Any) -> None:
    with pytest.raises(InvalidValueError):
        parse_int_or_percent(raw)


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        ("10%", 3, True, 1),
        ("10%", 3, False, 0),
        ("50%", 3, True, 2),
        ("50%", 3, False, 1),
        ("100%", 7, True, 7),
        ("0%", 7, True, 0),
        (2, 100, True, 2),
    ],
)
def test_scaled_value_rounds_like_intstr(
    value: Any, total: int, round_up: bool, expected: int
) -> None:
    assert parse_int_or_percent(value).scaled(total, round_up) == expected


# --- PDB table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected_count", "desired"),
    [
        ({"maxUnavailable": 1}, 3, 2),
        ({"maxUnavailable": 5}, 3, 0),  # never negative
        ({"maxUnavailable": "10%"}, 3, 2),  # 0.3 unavailable rounds UP to 1
        ({"maxUnavailable": "50%"}, 3, 1),  # 1.5 -> 2 unavailable
        ({"maxUnavailable": "0%"}, 3, 3),
        ({"maxUnavailable": 0}, 3, 3),
        ({"minAvailable": 2}, 5, 2),  # an int does not depend on the count
        ({"minAvailable": "50%"}, 3, 2),  # ceil(1.5)
        ({"minAvailable": "30%"}, 10, 3),
        ({"minAvailable": "100%"}, 4, 4),
        ({}, 0, 0),
    ],
)
def test_desired_healthy_follows_the_disruption_controller(
    spec: dict[str, Any], expected_count: int, desired: int
) -> None:
    assert desired_healthy(spec, expected_count) == desired


def test_max_unavailable_wins_when_both_are_set_like_in_the_controller() -> None:
    assert desired_healthy({"maxUnavailable": 1, "minAvailable": 3}, 3) == 2


def test_expected_pods_uses_scale_or_matched_pods_by_spec_type() -> None:
    # Controller scale 3, only 2 pods exist (one pending, say).
    assert expected_pods({"maxUnavailable": 1}, controller_scale=3, matched_pods=2) == 3
    assert expected_pods({"minAvailable": "50%"}, controller_scale=3, matched_pods=2) == 3
    assert expected_pods({"minAvailable": 1}, controller_scale=3, matched_pods=2) == 2
    assert expected_pods({}, controller_scale=3, matched_pods=2) == 0


@pytest.mark.parametrize(
    ("spec", "healthy", "allowed"),
    [
        ({"minAvailable": 2}, 2, 0),
        ({"minAvailable": 1}, 2, 1),
        ({"minAvailable": 1}, 1, 0),
        ({"maxUnavailable": 1}, 1, 1),
        ({"maxUnavailable": 1}, 3, 1),
        ({"maxUnavailable": "0%"}, 3, 0),
        ({"maxUnavailable": "10%"}, 3, 1),
        ({"minAvailable": "100%"}, 2, 0),
        ({"minAvailable": "50%"}, 3, 1),
        ({}, 5, 0),  # neither field: protects every pod
    ],
)
def test_disruptions_allowed_with_every_pod_healthy(
    spec: dict[str, Any], healthy: int, allowed: int
) -> None:
    expected = expected_pods(spec, healthy, healthy)
    assert disruptions_allowed(spec, healthy, expected) == allowed


def test_disruptions_allowed_counts_only_healthy_pods() -> None:
    assert disruptions_allowed({"maxUnavailable": 1}, healthy_pods=2, expected_pods=3) == 0
    assert disruptions_allowed({"minAvailable": 1}, healthy_pods=3, expected_pods=3) == 2


def test_disruptions_allowed_is_zero_without_expected_pods() -> None:
    assert disruptions_allowed({"maxUnavailable": 1}, healthy_pods=1, expected_pods=0) == 0


@pytest.mark.parametrize(
    "spec", [{"minAvailable": "2"}, {"maxUnavailable": -1}, {"minAvailable": "-10%"}]
)
def test_invalid_budgets_raise(spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidValueError):
        desired_healthy(spec, 3)


def test_budget_text() -> None:
    assert budget_text({"minAvailable": 2}) == "minAvailable 2"
    assert budget_text({"maxUnavailable": "0%"}) == 'maxUnavailable "0%"'
    assert budget_text({}) == "neither minAvailable nor maxUnavailable set"


# --- replicas ----------------------------------------------------------------------------


def test_min_replicas_without_hpa_is_spec_replicas_default_one() -> None:
    assert min_replicas(_deployment(replicas=3), []) == 3
    assert min_replicas(_deployment(), []) == 1


def test_min_replicas_with_hpa_is_its_min_replicas() -> None:
    assert min_replicas(_deployment(replicas=5), [_hpa(minimum=2)]) == 2
    assert min_replicas(_deployment(replicas=5), [_hpa()]) == 1  # minReplicas defaults to 1
    assert min_replicas(_deployment(replicas=5), [_hpa(target="other", minimum=2)]) == 5
    assert min_replicas(_deployment(), [_hpa(minimum=2), _hpa(minimum=3)]) == 3


def test_min_replicas_rejects_non_numbers() -> None:
    with pytest.raises(InvalidValueError):
        min_replicas(
            {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": "two"}}, []
        )


def test_hpa_targets_by_group_kind_name_and_namespace() -> None:
    web = _deployment()
    assert hpa_targets(_hpa(), web)
    assert hpa_targets(_hpa(api_version="apps/v1beta2"), web)  # only the group matters
    assert not hpa_targets(_hpa(api_version="extensions/v1beta1"), web)
    assert not hpa_targets(_hpa(kind="StatefulSet"), web)
    assert not hpa_targets(_hpa(namespace="other"), web)
    assert not hpa_targets({"spec": {"scaleTargetRef": "web"}}, web)
    assert managing_hpas(web, [_hpa(target="other"), _hpa()]) == [_hpa()]


# --- quantities --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "milli"),
    [
        ("250m", 250),
        ("1", 1000),
        ("1.5", 1500),
        (2, 2000),
        (0.5, 500),
        ("100u", 1),
        ("1k", 1_000_000),
        ("1e3", 1_000_000),
        ("1Ki", 1_024_000),
        ("0", 0),
    ],
)
def test_milli_value(raw: Any, milli: int) -> None:
    assert milli_value(raw) == milli


def test_parse_quantity_binary_and_decimal_suffixes() -> None:
    assert parse_quantity("512Mi") == Decimal(512 * 1024**2)
    assert parse_quantity("1G") == Decimal(10**9)
    assert parse_quantity("1E") == Decimal(10**18)  # exa, not an exponent


@pytest.mark.parametrize("raw", ["", "abc", "1.5.0", "10 m", "1Xi", True, None])
def test_parse_quantity_rejects_garbage(raw: Any) -> None:
    with pytest.raises(InvalidValueError):
        parse_quantity(raw)


def test_probe_timings_turn_an_explicit_zero_into_the_api_server_default() -> None:
    # SetDefaults_Probe: timeout/period/success/failure 0 -> 1/10/1/3; initialDelay has none.
    zeros = {
        "initialDelaySeconds": 0,
        "periodSeconds": 0,
        "timeoutSeconds": 0,
        "successThreshold": 0,
        "failureThreshold": 0,
    }
    assert probe_timings(zeros) == {
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert probe_timings({}) == probe_timings(zeros)
    set_values = {"initialDelaySeconds": 7, "periodSeconds": 2, "timeoutSeconds": 4}
    assert probe_timings(set_values) == {
        "initialDelaySeconds": 7,
        "periodSeconds": 2,
        "timeoutSeconds": 4,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
