"""``gitops check``: render every overlay, validate, run the policy rules, apply waivers.

>>> report = run_check(repo, load_config(repo))
>>> report.exit_code, report.summary()["errors"]
(0, 0)
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.apivalidation import CHECK_HPA_BOUNDS, CHECK_PROBE_HANDLERS, api_problems
from gitops.config import RepoConfig
from gitops.discovery import NothingFoundError, nothing_found_message
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, ConfigError
from gitops.helm.application import remote_chart
from gitops.k8s.apis import removed_api
from gitops.locate import Locator
from gitops.model import (
    FieldPath,
    Finding,
    Location,
    Resource,
    ResourceKey,
    Severity,
    field_path,
    message_field,
    problem_field,
)
from gitops.policy import CheckContext, Rule, all_rules, get_rule, run_rules, to_finding
from gitops.render import RenderedOverlay
from gitops.schema.settings import parse_schema_settings
from gitops.snapshot import Snapshot, take_snapshot
from gitops.upstream import Judgement, Verdict
from gitops.waivers import apply_waivers, load_waivers
from gitops.workspace import DocumentValidator as DocumentValidator  # re-exported
from gitops.workspace import Workspace


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    waived: tuple[tuple[Finding, str], ...]  # (finding, reason)
    rendered: tuple[str, ...]  # "<env>/<service>" of every overlay checked
    kubernetes_version: str
    rules: tuple[Rule, ...] = field(default=(), repr=False)
    # What the reader must know to trust the findings: an assumed env order, relations to
    # objects an operator creates; the text report prints them as its header.
    notes: tuple[str, ...] = ()
    # Who judged the objects against the API server's rules: the upstream validator
    # (UpstreamValidator.describe()) or, when None, the Python validator.
    judge: str | None = None

    @property
    def exit_code(self) -> int:
        has_error = any(f.severity is Severity.ERROR for f in self.findings)
        return EXIT_PROBLEMS if has_error else EXIT_OK

    def summary(self) -> dict[str, Any]:
        return {
            "overlays": len(self.rendered),
            "findings": len(self.findings),
            "errors": sum(f.severity is Severity.ERROR for f in self.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in self.findings),
            "waived": len(self.waived),
            "kubernetesVersion": self.kubernetes_version,
            "validator": self.judge or "Python validator",
        }


def context_from_snapshot(
    snapshot: Snapshot,
    env: str | None,
    service: str | None,
    whole_envs: frozenset[str] | None = None,
) -> tuple[CheckContext, list[RenderedOverlay], list[Finding]]:
    """The rules' context for ``env``/``service`` out of a snapshot, without rendering anything.
    ``whole_envs``: the envs the snapshot holds whole when it was narrowed otherwise (diff's
    reach); None: every env it holds (a --service narrows them all)."""
    repo, config = snapshot.workspace.repo, snapshot.workspace.config

    def wanted(item_env: str, item_service: str) -> bool:
        return (env is None or item_env == env) and (service is None or item_service == service)

    selected = [o for o in snapshot.selected if wanted(o.env, o.service)]
    results = [r for r in snapshot.results if wanted(r.overlay.env, r.overlay.service)]
    if not selected and not snapshot.discovery.problems:
        raise NothingFoundError(nothing_found_message(repo, config, env, service))
    findings = _pipeline_findings(snapshot, results, wanted)
    resources = [r for r in snapshot.resources if wanted(r.env, r.service)]
    applications, app_problems, argocd_resources = _argocd_part(snapshot, findings)
    context = CheckContext(
        repo=repo,
        config=config,
        overlays=tuple(selected),
        resources=resources,
        applications=applications,
        application_problems=app_problems,
        argocd_resources=argocd_resources,
        whole_envs=frozenset() if service is not None else whole_envs,
        api_judged_upstream=snapshot.judging is not None,
    )
    for app in applications:
        chart = remote_chart(app)
        if chart is not None and service is None:
            context.note(
                f"Application {app.name} syncs {chart}: a remote chart, not rendered or checked "
                "(gitops renders charts only from this repository and never pulls one)"
            )
    return context, results, findings


def _pipeline_findings(
    snapshot: Snapshot, results: list[RenderedOverlay], wanted: Callable[[str, str], bool]
) -> list[Finding]:
    """The findings the pipeline itself produces: render-failed (discovery problems, overlays
    that did not render or whose output is not objects) and the keys kustomize reads silently
    wrong in the kustomizations and patches of each overlay."""
    render_failed = get_rule("render-failed")

    def failed(env: str, service: str, message: str, source: str) -> Finding:
        return Finding(
            env, service, render_failed.id, "", message, render_failed.severity, source=source
        )

    findings = [
        failed(problem.env, problem.service, problem.message, problem.rel_path)
        for problem in snapshot.discovery.problems
        if wanted(problem.env, problem.service)
    ]
    for result in results:
        overlay = result.overlay
        if not result.ok:
            finding = failed(overlay.env, overlay.service, result.error or "", overlay.rel_path)
            # A chart's error names its template line (gitops.helm.output).
            findings.append(dataclasses.replace(finding, location=result.location))
        # Output that is not objects (never seen from kustomize): nothing of that overlay is
        # checked, and it must not read as clean.
        findings += [
            failed(
                overlay.env,
                overlay.service,
                f"kustomize's output does not read as Kubernetes objects: {problem}",
                overlay.rel_path,
            )
            for problem in result.problems
        ]
    return findings + _key_findings(snapshot, wanted)


def _key_findings(snapshot: Snapshot, wanted: Callable[[str, str], bool]) -> list[Finding]:
    """kustomization-duplicate-key and kustomization-field-ignored, on the line of the key
    kustomize drops or ignores."""
    return [
        Finding(
            overlay.env,
            overlay.service,
            problem.rule,
            "",
            problem.message,
            get_rule(problem.rule).severity,
            source=problem.path,
            location=Location(problem.path, problem.line),
        )
        for overlay in snapshot.selected
        if wanted(overlay.env, overlay.service)
        for problem in snapshot.key_problems.get(overlay.key, ())
    ]


def _argocd_part(
    snapshot: Snapshot, findings: list[Finding]
) -> tuple[tuple[Any, ...], tuple[str, ...], list[Resource]]:
    """The snapshot's Applications, expansion problems and argocd/ objects as resources; an
    argocd/ that could not be read is a render-failed finding appended to ``findings``."""
    config = snapshot.workspace.config
    argo = snapshot.argocd
    if argo is None:
        return (), (), []
    if argo.error is not None:
        if not isinstance(argo.error, ConfigError):
            raise argo.error
        render_failed = get_rule("render-failed")
        findings.append(
            Finding(
                "",
                "argocd",
                render_failed.id,
                "",
                str(argo.error),
                render_failed.severity,
                source=config.argocd_path,
            )
        )
        return (), (), []
    # the expansion does not modify them; rules get their own deep copies
    resources = [_argocd_resource(copy.deepcopy(obj), config.argocd_path) for obj in argo.objects]
    return argo.applications, argo.problems, resources


def _argocd_resource(obj: dict[str, Any], argocd_path: str) -> Resource:
    key = ResourceKey.of(obj)
    return Resource("", "argocd", key, obj, source=argocd_path, overlay_path=argocd_path)


def run_check(
    workspace: Workspace,
    env: str | None = None,
    service: str | None = None,
    today: Any = None,
) -> CheckReport:
    """A convenience for library callers (release, tests): takes the Snapshot of ``env`` and
    ``service`` and checks it, with the workspace's validator."""
    snapshot = take_snapshot(workspace, env, None if service is None else [service])
    return check_snapshot(snapshot, env, service, today)


def check_snapshot(
    snapshot: Snapshot,
    env: str | None = None,
    service: str | None = None,
    today: Any = None,
    whole_envs: frozenset[str] | None = None,
    locate: bool = True,
) -> CheckReport:
    """``gitops check`` over an already rendered snapshot: schema validation (with the
    Workspace's validator), the rules, severities and waivers. ``whole_envs``: see
    :func:`context_from_snapshot`; ``locate``: find each finding's line (gitops.locate; diff
    locates only the findings it reports). The rules read the snapshot's objects and never
    change them (diff compares the same objects after checking them)."""
    workspace = snapshot.workspace
    repo, config = workspace.repo, workspace.config
    context, results, findings = context_from_snapshot(snapshot, env, service, whole_envs)
    rules = all_rules()
    if snapshot.judging is not None:
        findings += _upstream_findings(context, snapshot.judging, workspace.validator)
    elif workspace.validator is not None:
        findings += _schema_findings(context, workspace.validator, workspace.learn_crd)
    for registered, hit in run_rules(context, rules):
        severity = severity_for(registered, hit.resource.env if hit.resource else hit.env, config)
        if severity is None:
            continue
        findings.append(to_finding(registered, hit, severity))
    waivers = load_waivers(repo, config)
    kept, waived, waiver_findings = apply_waivers(findings, waivers, context, today=today)
    found = set(kept + waiver_findings)
    resources = [*context.resources, *context.argocd_resources]
    located = _located(found, repo, resources) if locate else found
    final = sorted(located, key=_finding_order(config))
    return CheckReport(
        findings=tuple(final),
        waived=tuple(waived),
        rendered=tuple(r.overlay.name for r in results),
        kubernetes_version=config.kubernetes_version,
        rules=tuple(rules),
        notes=(*config.env_order_notes(), *context.notes),
        judge=snapshot.judging.validator.describe() if snapshot.judging is not None else None,
    )


def locate_findings(snapshot: Snapshot, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` of a check of ``snapshot`` (run with ``locate=False``), each with the line
    that caused it: diff locates only the findings it reports."""
    argocd = snapshot.argocd
    objects = argocd.objects if argocd is not None and argocd.error is None else ()
    path = snapshot.workspace.config.argocd_path
    resources = [*snapshot.resources, *(_argocd_resource(obj, path) for obj in objects)]
    return _located(findings, snapshot.workspace.repo, resources)


def _located(
    findings: Iterable[Finding], repo: Path, resources: Iterable[Resource]
) -> list[Finding]:
    """Each finding with the line that caused it (gitops.locate)."""
    locator = Locator(repo)
    by_key = {(r.env, r.service, str(r.key)): r for r in resources}
    return [
        locator.locate(f, by_key.get((f.env, f.service, f.resource)) if f.resource else None)
        for f in findings
    ]


def _schema_findings(
    context: CheckContext,
    validator: DocumentValidator,
    learn_crd: Callable[[dict[str, Any], str], list[str]] | None,
) -> list[Finding]:
    config = context.config
    schema_rule = get_rule("schema")
    findings = _crd_findings(context, learn_crd) if learn_crd is not None else []
    minor = config.minor_version
    for resource in [*context.resources, *context.argocd_resources]:
        if removed_api(resource.key.api_version, resource.kind, minor) is not None:
            continue  # api-removed reports it, with the replacement
        for message in validator(resource.body):
            findings.append(to_finding_for(schema_rule, resource, message, config))
    api_rule = get_rule("schema-api")
    gates = config.gates()
    # probe-invalid and hpa-bounds report those rules with more context.
    reported_elsewhere = frozenset({CHECK_PROBE_HANDLERS, CHECK_HPA_BOUNDS})
    for resource in context.resources:
        for message in api_problems(resource.body, gates, skip=reported_elsewhere):
            finding = to_finding_for(api_rule, resource, message, config)
            if severity_for(api_rule, resource.env, config) is not None:
                findings.append(finding)
    return findings


def _upstream_findings(
    context: CheckContext, judging: Judgement, validator: DocumentValidator | None
) -> list[Finding]:
    """kube-apiserver's verdicts (gitops.upstream), one judgement for every rendered object: a
    decoding error (unknown field, wrong type) or a kind nothing serves is a ``schema`` finding,
    each cause of a rejection a ``schema-api`` finding, each warning an ``api-warning``.
    Rendered CRDs are taught first, so they also judge the custom resources next to them; the
    Python validator only words the advice for kinds nothing serves."""
    config = context.config
    resources = [*context.resources, *context.argocd_resources]
    crds = [r for r in resources if _is_crd(r)]
    objects = [r for r in resources if not _is_crd(r)]
    crd_verdicts, verdicts = judging.judge([r.body for r in objects], [r.body for r in crds])
    skipped = parse_schema_settings(config.schemas).skip_kinds
    findings: list[Finding] = []
    for resource, verdict in zip([*crds, *objects], [*crd_verdicts, *verdicts], strict=True):
        if f"{resource.key.api_version}/{resource.kind}" in skipped:
            continue  # schemas.skipKinds: accepted without a schema
        for rule_id, message, about in _verdict_messages(resource, verdict, validator, config):
            registered = get_rule(rule_id)
            if severity_for(registered, resource.env, config) is not None:
                finding = to_finding_for(registered, resource, message, config)
                findings.append(dataclasses.replace(finding, field=about or finding.field))
    return findings


def _verdict_messages(
    resource: Resource,
    verdict: Verdict,
    validator: DocumentValidator | None,
    config: RepoConfig,
) -> list[tuple[str, str, FieldPath]]:
    """(rule id, message, the field it is about) per problem of one verdict."""
    if verdict.allowed:
        return [("api-warning", warning, message_field(warning)) for warning in verdict.warnings]
    if verdict.not_served:
        if removed_api(resource.key.api_version, resource.kind, config.minor_version):
            return []  # api-removed reports it, with the replacement
        advice = validator(resource.body) if validator is not None else []
        return [("schema", message, ()) for message in advice or verdict.problems()]
    if verdict.decoding:
        return [("schema", verdict.message, problem_field(verdict.message))]
    if verdict.causes:
        return [
            (
                "schema-api",
                f"{cause.field}: {cause.message}" if cause.field else cause.message,
                field_path(cause.field),
            )
            for cause in verdict.causes
        ]
    return [("schema-api", verdict.message, ())]


def _is_crd(resource: Resource) -> bool:
    return resource.kind == "CustomResourceDefinition" and resource.key.api_version.startswith(
        "apiextensions.k8s.io/"
    )


def _crd_findings(
    context: CheckContext, learn_crd: Callable[[dict[str, Any], str], list[str]]
) -> list[Finding]:
    """CRDs rendered with the resources (operator overlays) define their schemas; a CRD that
    cannot be used is a schema finding."""
    schema_rule = get_rule("schema")
    findings: list[Finding] = []
    for resource in context.resources:
        if resource.kind == "CustomResourceDefinition":
            where = resource.source or resource.overlay_path
            for message in learn_crd(resource.body, where):
                findings.append(to_finding_for(schema_rule, resource, message, context.config))
    return findings


def to_finding_for(
    registered: Rule, resource: Resource, message: str, config: RepoConfig
) -> Finding:
    severity = severity_for(registered, resource.env, config) or registered.severity
    return Finding(
        resource.env,
        resource.service,
        registered.id,
        str(resource.key),
        message,
        severity,
        resource.source,
        resource.patches,
        field=message_field(message),
    )


def severity_for(registered: Rule, env: str, config: RepoConfig) -> Severity | None:
    """The severity configured in gitops.yaml ``policy.severity`` (per rule, optionally per
    env); ``off`` disables the rule. None means: drop the finding."""
    configured = (config.policy.get("severity") or {}).get(registered.id)
    if isinstance(configured, dict):
        configured = configured.get(env, configured.get("default"))
    if configured is None:
        return registered.severity
    if configured == "off":
        return None
    try:
        return Severity(configured)
    except ValueError as exc:
        raise ConfigError(
            f"gitops.yaml: policy.severity.{registered.id} must be error, warning or off, "
            f"got {configured!r}"
        ) from exc


def _finding_order(config: RepoConfig) -> Callable[[Finding], tuple[Any, ...]]:
    env_rank = {e: i for i, e in enumerate(config.envs)}

    def key(finding: Finding) -> tuple[Any, ...]:
        return (
            env_rank.get(finding.env, -1),
            finding.service,
            finding.resource,
            finding.rule,
            finding.message,
        )

    return key
