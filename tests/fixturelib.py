"""The one helper that runs a command on a fixture mini-repo and collects what it reports.

Every test that needs "the findings of rule X on fixture Y" goes through :func:`check_fixture`
(cached for the session: one check per fixture and selection, shared by every test module), and
the table test (``tests/unit/test_fixture_tables.py``) goes through :func:`observe`, which runs
the command a fixture's ``expected.yaml`` names exactly as a user would (the CLI in-process for
``check`` and ``render``, the library for ``validate``) and turns its output into rows. The
format of ``expected.yaml`` is described in ``tests/fixtures/README.md``.

Regenerate one fixture's table from the current output (then read it: it is the spec)::

    .venv/bin/python -m tests.fixturelib pdb-missing
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gitops.check import CheckReport, run_check
from gitops.cli import main
from gitops.config import load_config
from gitops.errors import GitopsError
from gitops.model import Finding
from gitops.repo import open_config
from gitops.schema import SchemaValidator
from gitops.validate import run_validate
from gitops.workspace import Workspace
from gitops.yamlio import load_documents
from tests.conftest import FIXTURES as FIXTURES
from tests.conftest import REPO_ROOT as REPO_ROOT

TESTS = Path(__file__).resolve().parent
EXPECTED_FILE = "expected.yaml"
COMMANDS = ("check", "render", "validate")
# Row fields per command, in the order expected.yaml lists them. ``message`` is a substring
# match, every other field must be equal; a field left out of an expected row is not compared.
ROW_FIELDS = (
    "overlay",
    "resource",
    "file",
    "line",
    "object",
    "severity",
    "source",
    "patches",
    "location",
    "waiver",
    "message",
)

Row = dict[str, Any]


@cache
def check_fixture(name: str, env: str | None = None, service: str | None = None) -> CheckReport:
    """``gitops check`` of ``tests/fixtures/<name>`` as the CLI runs it (schema validation
    included), once per session and selection. Never modify what it returns."""
    return check_repo(FIXTURES / name, env, service)


def check_repo(repo: Path, env: str | None = None, service: str | None = None) -> CheckReport:
    """``gitops check`` of any repository (a modified copy of a fixture), not cached."""
    config = open_config(repo)
    validator = SchemaValidator.for_repo(repo, config)
    workspace = Workspace.open(
        repo, config, validator=validator.validate, learn_crd=validator.add_crd_object
    )
    return run_check(workspace, env=env, service=service)


def git(repo: Path, *args: str) -> str:
    """``git <args>`` in ``repo`` with a fixed identity and no global config; stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.test",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


def commit(repo: Path, message: str) -> None:
    """Stage everything in ``repo`` and commit it."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def of_rule(findings: Iterable[Finding], rule: str) -> list[Finding]:
    """The findings of one rule, in report order."""
    return [f for f in findings if f.rule == rule]


def rule_ids(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


@dataclass(frozen=True)
class Case:
    """One run of a command on a fixture and what it must report."""

    command: str = "check"
    args: tuple[str, ...] = ()
    exit: int = 0
    findings: dict[str, list[Row]] = field(default_factory=dict)
    waived: dict[str, list[Row]] = field(default_factory=dict)


@dataclass(frozen=True)
class Observed:
    exit: int
    findings: dict[str, list[Row]]
    waived: dict[str, list[Row]]


class TableError(ValueError):
    """An expected.yaml that does not follow tests/fixtures/README.md."""


def load_cases(fixture: Path) -> list[Case]:
    """The cases of ``<fixture>/expected.yaml``: the file is one case, or ``cases:`` a list."""
    path = fixture / EXPECTED_FILE
    if not path.is_file():
        raise TableError(f"{fixture.name}/{EXPECTED_FILE}: missing (every fixture has a table)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise TableError(f"{path.name}: expected a mapping")
    entries = raw.get("cases", [raw])
    return [_case(entry, path) for entry in entries]


def _case(entry: Any, path: Path) -> Case:
    known = {"command", "args", "exit", "findings", "waived"}
    if not isinstance(entry, dict) or set(entry) - known:
        raise TableError(f"{path}: a case is a mapping with keys {sorted(known)}")
    command = str(entry.get("command", "check"))
    if command not in COMMANDS:
        raise TableError(f"{path}: command {command!r} is not one of {COMMANDS}")
    return Case(
        command=command,
        args=tuple(str(a) for a in entry.get("args") or ()),
        exit=int(entry.get("exit", 0)),
        findings=_rows_by_key(entry.get("findings"), path),
        waived=_rows_by_key(entry.get("waived"), path),
    )


def _rows_by_key(value: Any, path: Path) -> dict[str, list[Row]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise TableError(f"{path}: findings/waived map a rule id to a list of rows")
    for rows in value.values():
        for row in rows:
            if not isinstance(row, dict) or set(row) - set(ROW_FIELDS):
                raise TableError(f"{path}: a row is a mapping with keys among {ROW_FIELDS}")
    return {str(k): list(v) for k, v in value.items()}


def observe(fixture: Path, case: Case) -> Observed:
    """Run ``case.command`` on ``fixture`` and collect its exit code and rows."""
    if case.command == "validate":
        return _observe_validate(fixture, case.args)
    argv = [case.command, "--repo", str(fixture), *case.args]
    if case.command == "check":
        argv += ["--format", "json"]
    code, out, err = run_cli(argv)
    findings: dict[str, list[Row]] = {}
    waived: dict[str, list[Row]] = {}
    if case.command == "check" and out:
        document = json.loads(out)
        for item in document["findings"]:
            findings.setdefault(item["rule"], []).append(_check_row(item, fixture))
        for item in document["waived"]:
            row = _check_row(item, fixture)
            waived.setdefault(item["rule"], []).append({**row, "waiver": item["waiver"]})
        for note in document.get("notes", []):
            findings.setdefault("note", []).append({"message": _rel(note, fixture)})
    error_rows = [
        {"message": _rel(line[len("error: ") :], fixture)}
        for line in err.splitlines()
        if line.startswith("error: ")
    ]
    if error_rows:
        findings["error"] = error_rows
    return Observed(code, findings, waived)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``gitops <argv>`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _check_row(item: dict[str, Any], fixture: Path) -> Row:
    row: Row = {}
    overlay = "/".join(p for p in (item["env"], item["service"]) if p)
    if overlay:
        row["overlay"] = overlay
    if item["resource"]:
        row["resource"] = item["resource"]
    row["severity"] = item["severity"]
    if item["source"]:
        row["source"] = item["source"]
    if item["patches"]:
        row["patches"] = list(item["patches"])
    if item.get("location"):
        row["location"] = f"{item['location']['path']}:{item['location']['line']}"
    row["message"] = _rel(item["message"], fixture)
    return row


def _observe_validate(fixture: Path, args: tuple[str, ...]) -> Observed:
    version = None
    if "--k8s-version" in args:  # as on the command line: --k8s-version X.Y
        at = args.index("--k8s-version")
        version, args = args[at + 1], args[:at] + args[at + 2 :]
    paths = [str(fixture / a) for a in args] or [str(fixture)]
    try:
        result = run_validate(paths, None, load_config(fixture), version, repo=fixture)
    except GitopsError as exc:
        return Observed(exc.exit_code, {"error": [{"message": _rel(str(exc), fixture)}]}, {})
    findings: dict[str, list[Row]] = {}
    for document in result.documents:
        for message in document.messages:
            findings.setdefault("invalid", []).append(
                {
                    "file": _rel(document.source, fixture),
                    "line": document.line,
                    "object": document.label(),
                    "message": _rel(message, fixture),
                }
            )
    for problem in result.file_errors:
        findings.setdefault("unreadable", []).append({"message": _rel(problem, fixture)})
    for note in result.notes:
        findings.setdefault("skipped", []).append({"message": _rel(note, fixture)})
    return Observed(0 if result.ok else 1, findings, {})


def _rel(text: str, fixture: Path) -> str:
    """Paths in messages, relative to the fixture (the checkout's location is not the spec)."""
    for prefix in (str(fixture), os.path.relpath(fixture, REPO_ROOT)):
        text = text.replace(prefix + "/", "").replace(prefix, "<fixture>")
    return text


def compare(case: Case, observed: Observed) -> list[str]:
    """Every difference, one line each: a wrong exit code, a missing or unexpected row."""
    problems: list[str] = []
    if observed.exit != case.exit:
        problems.append(f"exit code {observed.exit}, expected {case.exit}")
    for label, expected, actual in (
        ("finding", case.findings, observed.findings),
        ("waived finding", case.waived, observed.waived),
    ):
        for key in sorted(set(expected) | set(actual)):
            missing, unexpected = match_rows(expected.get(key, []), actual.get(key, []))
            problems += [f"missing {label} {key}: {row}" for row in missing]
            problems += [f"unexpected {label} {key}: {row}" for row in unexpected]
    return problems


def match_rows(expected: list[Row], actual: list[Row]) -> tuple[list[Row], list[Row]]:
    """(expected rows no actual row matches, actual rows left over): one actual row per
    expected row; the message is a substring, the other given fields are equal."""
    left = list(actual)
    missing: list[Row] = []
    for want in expected:
        for index, have in enumerate(left):
            if _matches(want, have):
                del left[index]
                break
        else:
            missing.append(want)
    return missing, left


def _matches(want: Row, have: Row) -> bool:
    for key, value in want.items():
        if key == "message":
            if str(value) not in str(have.get("message", "")):
                return False
        elif have.get(key) != value:
            return False
    return True


def write_table(fixture: Path) -> None:
    """Rewrite ``expected.yaml`` from the current output, keeping each case's command and args
    (and a leading comment block)."""
    path = fixture / EXPECTED_FILE
    header: list[str] = []
    cases = [Case()]
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        header = [line for line in text.splitlines() if line.startswith("#")]
        cases = load_cases(fixture)
        many = "cases" in (yaml.safe_load(text) or {})
    else:
        many = False
    entries = [_entry(case, observe(fixture, case)) for case in cases]
    document: Any = {"cases": entries} if many else entries[0]
    body = yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=True)
    path.write_text("\n".join([*header, body]) if header else body, encoding="utf-8")


def _entry(case: Case, observed: Observed) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if case.command != "check":
        entry["command"] = case.command
    if case.args:
        entry["args"] = list(case.args)
    entry["exit"] = observed.exit
    entry["findings"] = observed.findings
    if observed.waived:
        entry["waived"] = observed.waived
    return entry


if __name__ == "__main__":
    for name in sys.argv[1:]:
        write_table(FIXTURES / name)
        print(f"wrote {FIXTURES.name}/{name}/{EXPECTED_FILE}")


def fixture_bodies(scenario: str, name: str) -> dict[str, dict[str, Any]]:
    """Documents of a fixture file by metadata.name."""
    path = FIXTURES / scenario / name
    return {d.body["metadata"]["name"]: d.body for d in load_documents(path.read_text(), name)}
