"""Every fixture mini-repo against its ``expected.yaml``: one table per fixture, one test.

Each case runs the command the table names (``check`` by default) on the fixture with the real
kustomize and compares the exit code and every finding both ways: a finding the table lists
must be reported, and a finding it does not list must not be. The table format is described
in ``tests/fixtures/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixturelib import (
    EXPECTED_FILE,
    FIXTURES,
    Case,
    Observed,
    TableError,
    compare,
    load_cases,
    match_rows,
    observe,
)
from tests.prerequisites import skip_or_fail

FIXTURE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def test_there_are_fixtures_to_run() -> None:
    assert len(FIXTURE_DIRS) >= 40


@pytest.mark.parametrize("fixture", FIXTURE_DIRS, ids=[p.name for p in FIXTURE_DIRS])
def test_fixture_reports_exactly_its_table(fixture: Path) -> None:
    readme = fixture / "README.md"
    assert readme.is_file(), f"{fixture.name}: no README.md saying what it exercises"
    assert len(readme.read_text(encoding="utf-8").strip().splitlines()) == 1, readme
    if any(fixture.rglob("Chart.yaml")):
        _require_helm(fixture.name)
    problems: list[str] = []
    for number, case in enumerate(load_cases(fixture)):
        if _needs_upstream(case):
            _require_upstream(fixture.name)
        label = f"case {number} (gitops {case.command} {' '.join(case.args)})".replace(" )", ")")
        problems += [f"{label}: {p}" for p in compare(case, observe(fixture, case))]
    if problems:
        pytest.fail(
            f"{fixture.name}: the output differs from {EXPECTED_FILE} (if the change is "
            f"intended, run `.venv/bin/python -m tests.fixturelib {fixture.name}` and review "
            "the diff):\n" + "\n".join(problems),
            pytrace=False,
        )


def _needs_upstream(case: Case) -> bool:
    args = list(case.args)
    return any(
        a == "--validator" and args[i + 1 : i + 2] == ["upstream"] for i, a in enumerate(args)
    )


def _require_upstream(fixture: str) -> None:
    """A case judged by gitops-validator needs it built (make setup builds it where Go is):
    skipped with the reason outside CI, a failure in CI."""
    from gitops.config import RepoConfig
    from gitops.upstream import UpstreamValidator

    if UpstreamValidator.find(RepoConfig()) is None:
        skip_or_fail(f"{fixture}: gitops-validator is not built (make validator; needs Go >= 1.26)")


def _require_helm(fixture: str) -> None:
    """A fixture with a chart renders it with the pinned helm (make setup builds it where Go
    is): skipped with the reason outside CI, a failure in CI."""
    from gitops.helm.binary import pinned_helm

    if not (pinned_helm().parent / ".complete").is_file():
        skip_or_fail(f"{fixture}: the pinned helm is not built (make helm; needs Go >= 1.26)")


def test_a_fixture_without_a_table_fails(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="missing"):
        load_cases(tmp_path)


def test_a_table_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / EXPECTED_FILE).write_text("exit: 0\nfinding: {}\n")
    with pytest.raises(TableError, match="a case is a mapping"):
        load_cases(tmp_path)
    (tmp_path / EXPECTED_FILE).write_text("findings: {pdb-missing: [{resourse: x}]}\n")
    with pytest.raises(TableError, match="a row is a mapping"):
        load_cases(tmp_path)


def test_comparison_is_exact_both_ways() -> None:
    row = {"overlay": "dev/web", "severity": "error", "message": "no PodDisruptionBudget covers"}
    case = Case(exit=1, findings={"pdb-missing": [row]})
    full = {**row, "message": "in prod: no PodDisruptionBudget covers the pods"}
    assert compare(case, Observed(1, {"pdb-missing": [full]}, {})) == []
    # A missing finding, an unexpected one, a duplicate and a wrong exit code are all reported.
    assert compare(case, Observed(0, {}, {})) == [
        "exit code 0, expected 1",
        f"missing finding pdb-missing: {row}",
    ]
    extra = {"overlay": "dev/api", "severity": "warning", "message": "x"}
    assert compare(case, Observed(1, {"pdb-missing": [full, full], "other": [extra]}, {})) == [
        f"unexpected finding other: {extra}",
        f"unexpected finding pdb-missing: {full}",
    ]


def test_rows_match_on_every_given_field_and_a_message_substring() -> None:
    have = [{"overlay": "prod/web", "severity": "warning", "message": "abc def"}]
    assert match_rows([{"message": "c d"}], have) == ([], [])
    assert match_rows([{"severity": "error"}], have) == ([{"severity": "error"}], have)
