"""The upstream validator (gitops-validator, what `gitops validate` and `check` judge with) against
the real kube-apiserver of the same release, document for document: the generated corpus
(corpus.py), the hand-written corpus of semantic mistakes (corpus_semantic.py), and every
document this repository renders, in every env, plus argocd/.

The server judges each document as the create an Argo CD sync (or `kubectl apply` of a new
object) sends: POST with fieldValidation=Strict. Every kind is created with dryRun=All, except
Services, which are created for real and deleted: a dry run skips the node-port range check
that the real create makes (kubernetes pkg/registry/core/service/portallocator/operation.go),
and gitops-validator predicts the real create. Both must give the same verdict and, when they
reject, the same Status reason and message. There is no list of accepted disagreements: any
disagreement fails the test, with both answers printed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gitops.config import ApiServerSettings
from gitops.upstream import UpstreamValidator, Verdict
from tests.cluster.corpus import Mutant, corpus
from tests.cluster.corpus_semantic import semantic_corpus
from tests.cluster.harness import REPO_ROOT
from tests.cluster.kube import Kube, Response
from tests.cluster.workloads import (
    argocd_documents,
    crd_documents,
    create_namespace,
    delete_namespace,
    in_namespace,
    rendered,
    repo_config,
)

pytestmark = pytest.mark.cluster
NAMESPACE = "upstream-validator"


def documents() -> list[Mutant]:
    ours = [
        Mutant(f"{d['kind']}/{d['metadata']['name']}", f"rendered-{env}", "", d)
        for env in repo_config().envs
        for d in in_namespace(rendered(env), NAMESPACE)
    ]
    ours += [
        Mutant(f"{d['kind']}/{d['metadata']['name']}", "argocd", "", d)
        for d in in_namespace(argocd_documents(), NAMESPACE)
    ]
    generated = corpus(
        in_namespace([m.doc for m in ours if m.mutation == "rendered-prod"], NAMESPACE)
    )
    semantic = [
        Mutant(m.base, m.mutation, m.path, in_namespace([m.doc], NAMESPACE)[0])
        for m in semantic_corpus()
    ]
    return [*ours, *generated, *semantic]


def service_cidr(kube: Kube) -> str:
    """The cluster's --service-cluster-ip-range, from the default ServiceCIDR it created."""
    found = kube.request("GET", "/apis/networking.k8s.io/v1/servicecidrs/kubernetes")
    assert found.ok, found.message
    return str(found.body["spec"]["cidrs"][0])


def server_verdict(kube: Kube, doc: dict[str, Any]) -> Response:
    if doc.get("kind") == "Service" and doc.get("apiVersion") == "v1":
        created = kube.create(doc, NAMESPACE)
        if created.ok:
            deleted = kube.delete(doc, NAMESPACE)
            assert deleted.ok, deleted.message
        return created
    return kube.create(doc, NAMESPACE, dry_run=True)


def agree(server: Response, ours: Verdict) -> bool:
    if server.ok or ours.allowed:
        return server.ok == ours.allowed
    if ours.not_served:
        return server.status == 404
    return (server.body.get("reason"), server.message) == (ours.reason, ours.message)


def test_gitops_validator_agrees_with_kube_apiserver_on_every_document(
    crds: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    judge = UpstreamValidator.find(repo_config())
    assert judge is not None, "gitops-validator is not built: run `make validator`"
    judge = UpstreamValidator(
        judge.binary,
        judge.release,
        judge.kubernetes_version,
        ApiServerSettings(service_cluster_ip_range=service_cidr(crds)),
    )
    cases = documents()
    assert len(cases) > 1000, len(cases)
    _, verdicts = judge.judge([c.doc for c in cases], crds=crd_documents(), namespace=NAMESPACE)
    create_namespace(crds, NAMESPACE)
    matrix: Counter[tuple[bool, bool]] = Counter()
    disagreements: list[str] = []
    try:
        for case, ours in zip(cases, verdicts, strict=True):
            server = server_verdict(crds, case.doc)
            matrix[(server.ok, ours.allowed)] += 1
            if not agree(server, ours):
                disagreements.append(
                    f"{case.id}\n  server: {server.status} {server.body.get('reason')} "
                    f"{server.message}\n  ours:   {ours.reason} {ours.message}"
                )
    finally:
        delete_namespace(crds, NAMESPACE, wait=False)
    report = (
        f"gitops-validator vs kube-apiserver: {len(cases)} documents; server accepts "
        f"{matrix[(True, True)] + matrix[(True, False)]}, rejects "
        f"{matrix[(False, True)] + matrix[(False, False)]}; we accept what it rejects "
        f"{matrix[(False, True)]}, reject what it accepts {matrix[(True, False)]}; "
        f"{len(disagreements)} disagreement(s) in verdict or message\n"
    ) + "\n".join(disagreements)
    out = REPO_ROOT / "cluster-artifacts" / "upstream-validator.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report.splitlines()[0])
    assert not disagreements, report
    # The corpus is worth its name: the server rejects most of the mistakes.
    semantic = {m.id for m in semantic_corpus()}
    rejected = sum(
        1
        for case, ours in zip(cases, verdicts, strict=True)
        if case.id in semantic and not ours.allowed
    )
    assert rejected >= 0.7 * len(semantic), (rejected, len(semantic))


def test_gitops_validator_serves_the_kinds_the_api_server_creates(crds: Kube) -> None:
    """Every built-in apiVersion/kind a manifest can create, with its scope, as discovery lists
    it at this version (beta APIs off by default stay off; our CRDs' groups aside)."""
    judge = UpstreamValidator.find(repo_config())
    assert judge is not None, "gitops-validator is not built: run `make validator`"
    crd_groups = {doc["spec"]["group"] for doc in crd_documents()}
    server: set[tuple[str, str, bool]] = set()
    versions = ["v1"] + [
        v["groupVersion"]
        for g in crds.request("GET", "/apis").body["groups"]
        if g["name"] not in crd_groups
        for v in g["versions"]
    ]
    for group_version in versions:
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        for item in crds.request("GET", base).body.get("resources", []):
            if "/" not in item["name"] and "create" in item.get("verbs", []):
                server.add((group_version, item["kind"], item["namespaced"]))
    ours = set(judge.served_kinds())
    # Create-only review APIs (TokenReview, SubjectAccessReview...) are requests, not objects a
    # manifest holds; the validator does not serve them, and Binding is a pod subresource.
    reviews = {k for k in server if k[1].endswith("Review") or k[1] == "Binding"}
    assert ours == server - reviews, (sorted(server - reviews - ours), sorted(ours - server))
