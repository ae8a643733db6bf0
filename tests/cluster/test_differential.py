"""Differential validation: a generated corpus (corpus.py) judged by `gitops validate` (the
library) and by the real API server (server-side apply, dry run, strict field validation).

Every disagreement must be known: tests/cluster/differential-known.yaml lists each class of
them with the reason, split into
- ``we_reject_server_accepts``: a bug in gitops (or a deliberate extra strictness), and
- ``we_accept_server_rejects``: a documented limitation, naming the rule that catches it if any.
An unlisted disagreement fails the test; so does a listed one that no longer happens (the list
must shrink when gitops is fixed). The agreement matrix is printed and written to
cluster-artifacts/differential.txt.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml

from gitops.schema import SchemaValidator
from gitops.validate import run_validate
from tests.cluster.corpus import Mutant, corpus
from tests.cluster.harness import REPO_ROOT
from tests.cluster.kube import Kube
from tests.cluster.workloads import (
    argocd_documents,
    create_namespace,
    delete_namespace,
    in_namespace,
    rendered,
    repo_config,
)

pytestmark = pytest.mark.cluster
NAMESPACE = "differential"
KNOWN = REPO_ROOT / "tests" / "cluster" / "differential-known.yaml"
MIN_CORPUS = 300


def bases() -> list[dict[str, Any]]:
    """One document per Kind/name: prod's render of every service, then argocd/."""
    seen: set[tuple[str, str]] = set()
    out = []
    for doc in [*rendered("prod"), *argocd_documents()]:
        key = (doc["kind"], doc["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return in_namespace(out, NAMESPACE)


def our_verdict(validator: SchemaValidator, mutant: Mutant) -> tuple[bool, str]:
    result = run_validate(
        ["-"], yaml.safe_dump(mutant.doc), repo_config(), None, REPO_ROOT, validator
    )
    messages = [*result.file_errors, *(m for d in result.documents for m in d.messages)]
    return not messages, "; ".join(messages)[:300]


def test_gitops_validate_agrees_with_the_api_server(crds: Kube, capsys: Any) -> None:
    mutants = corpus(bases())
    assert len(mutants) >= MIN_CORPUS, len(mutants)
    kinds = {m.doc["kind"] for m in mutants}
    assert kinds >= {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}

    known = yaml.safe_load(KNOWN.read_text()) or {}
    known_bugs = list(known.get("we_reject_server_accepts") or [])
    known_limits = list(known.get("we_accept_server_rejects") or [])
    assert all(entry.get("reason") for entry in [*known_bugs, *known_limits])

    validator = SchemaValidator.for_repo(REPO_ROOT, repo_config(), None)
    create_namespace(crds, NAMESPACE)
    matrix: Counter[tuple[str, str]] = Counter()
    by_mutation: Counter[tuple[str, str, str]] = Counter()
    bugs: dict[str, str] = {}
    limits: dict[str, str] = {}
    try:
        for mutant in mutants:
            server = crds.apply(mutant.doc, NAMESPACE, dry_run=True)
            ours, why = our_verdict(validator, mutant)
            cell = ("accept" if server.ok else "reject", "accept" if ours else "reject")
            matrix[cell] += 1
            by_mutation[(mutant.mutation, *cell)] += 1
            if server.ok and not ours:
                bugs[mutant.id] = f"we say: {why}"
            elif not server.ok and ours:
                limits[mutant.id] = f"server says: {server.status} {server.message[:300]}"
    finally:
        delete_namespace(crds, NAMESPACE, wait=False)

    report = _report(len(mutants), matrix, by_mutation, bugs, limits)
    out = REPO_ROOT / "cluster-artifacts" / "differential.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    with capsys.disabled():
        print("\n" + report)

    unlisted_bugs = [i for i in sorted(bugs) if not _covered(i, mutants, known_bugs)]
    unlisted_limits = [i for i in sorted(limits) if not _covered(i, mutants, known_limits)]
    assert not unlisted_bugs, "server accepts, gitops rejects (bugs):\n" + "\n".join(
        f"{i}: {bugs[i]}" for i in unlisted_bugs
    )
    assert not unlisted_limits, "server rejects, gitops accepts (undocumented):\n" + "\n".join(
        f"{i}: {limits[i]}" for i in unlisted_limits
    )
    stale = [
        entry
        for entries, found in ((known_bugs, bugs), (known_limits, limits))
        for entry in entries
        if not any(_matches(entry, m) for m in mutants if m.id in found)
    ]
    assert not stale, f"listed in {KNOWN.name} but no longer disagreeing: {stale}"
    # The unchanged documents are what we ship: both sides must accept every one of them.
    assert by_mutation[("unchanged", "accept", "accept")] == sum(
        1 for m in mutants if m.mutation == "unchanged"
    )


def _matches(entry: dict[str, Any], mutant: Mutant) -> bool:
    return (
        entry["mutation"] == mutant.mutation
        and ("kinds" not in entry or mutant.doc["kind"] in entry["kinds"])
        and ("path" not in entry or entry["path"] in mutant.path)
    )


def _covered(mutant_id: str, mutants: list[Mutant], entries: list[dict[str, Any]]) -> bool:
    mutant = next(m for m in mutants if m.id == mutant_id)
    return any(_matches(entry, mutant) for entry in entries)


def _report(
    total: int,
    matrix: Counter[tuple[str, str]],
    by_mutation: Counter[tuple[str, str, str]],
    bugs: dict[str, str],
    limits: dict[str, str],
) -> str:
    lines = [
        f"differential validation: {total} documents (API server dry-run, strict) vs gitops",
        f"{'':24}{'gitops accepts':>16}{'gitops rejects':>16}",
    ]
    for server in ("accept", "reject"):
        lines.append(
            f"{'server ' + server + 's':24}"
            f"{matrix[(server, 'accept')]:>16}{matrix[(server, 'reject')]:>16}"
        )
    lines.append("")
    lines.append(f"{'mutation':24}{'A/A':>6}{'A/R':>6}{'R/A':>6}{'R/R':>6}  (server/gitops)")
    for mutation in sorted({m for m, _, _ in by_mutation}):
        cells = [
            by_mutation[(mutation, s, o)]
            for s, o in (
                ("accept", "accept"),
                ("accept", "reject"),
                ("reject", "accept"),
                ("reject", "reject"),
            )
        ]
        lines.append(f"{mutation:24}" + "".join(f"{c:>6}" for c in cells))
    for title, items in (
        ("server accepts, gitops rejects", bugs),
        ("server rejects, gitops accepts", limits),
    ):
        lines.append("")
        lines.append(f"{title}: {len(items)}")
        lines.extend(f"  {key}: {value}" for key, value in sorted(items.items()))
    return "\n".join(lines) + "\n"
