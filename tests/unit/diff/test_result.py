"""``gitops.diff.result``: what counts as a difference, and the per-overlay summary."""

from __future__ import annotations

from tests.unit.diff.results import empty_result, sample_result


def test_summary_counts_each_overlay_in_env_order() -> None:
    rows = sample_result().summary_rows()
    # dev before prod: the overlay order (env order from gitops.yaml), not the change order.
    assert [(r["env"], r["service"]) for r in rows] == [("dev", "web"), ("prod", "web")]
    dev, prod = rows
    assert (dev["renderErrors"], dev["findingsFixed"], dev["changed"]) == (1, 1, 0)
    assert (prod["changed"], prod["findingsAdded"], prod["added"]) == (2, 1, 0)


def test_only_changes_or_findings_are_differences() -> None:
    assert sample_result().has_differences
    empty = empty_result()
    assert not empty.has_differences
    assert empty.summary_rows() == []
