"""The ``gitops`` command line's grammar: the commands, their flags and --help texts, which
shared flags (--repo, --debug, the render flags, --validator) each command reads, and the
usage errors a user can act on (exit 2): ``did you mean`` for a mistyped command, choice or
option, and a shared flag refused before a command that does not read it.

Parsing only: what a command does is :mod:`gitops.cli`'s. Kept light, standard library only,
so that ``gitops validate`` and every ``--help`` start without loading the render core.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class Parser(argparse.ArgumentParser):
    """argparse, with a suggestion for a mistyped choice: ``gitops chek`` and ``--format jsn``
    get ``did you mean check?`` (Python 3.14's ``suggest_on_error`` does the same)."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        listed = ", ".join(repr(name) for name in names)
        raise argparse.ArgumentError(
            action,
            f"invalid choice: {value!r}{_did_you_mean(str(value), names)} (choose from {listed})",
        )


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    # Compared without the dashes, which every option shares: --wat is not close to --format.
    by_name = {candidate.lstrip("-"): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lstrip("-"), list(by_name), n=1, cutoff=0.6)
    return f"; did you mean {by_name[close[0]]}?" if close else ""


@dataclass(frozen=True)
class Reads:
    """What a command reads of the flags every command may be given, in its own words, so its
    --help lists only those and says what they do there: ``renders`` is what --no-cache
    renders again (None: the command renders nothing and takes no render flag), ``judges``
    what --validator judges (None: it judges nothing)."""

    renders: str | None = None
    judges: str | None = None


# The commands and what they read of the shared flags (their handlers: gitops.cli._dispatch).
READS = {
    "render": Reads(renders="every selected overlay"),
    "check": Reads(renders="every selected overlay", judges="the rendered documents"),
    "validate": Reads(judges="the documents given"),
    "diff": Reads(
        renders="the overlays of both sides",
        judges="both sides' rendered documents, for the findings added and fixed",
    ),
    "probe": Reads(renders="the probed overlays"),
    "apps": Reads(renders="argocd/"),
    "set-image": Reads(
        renders="the overlay", judges="the edited service's overlays (every env), before and after"
    ),
    "promote": Reads(
        renders="both envs' overlays",
        judges="the promoted services' overlays (every env), before and after",
    ),
    "status": Reads(renders="every overlay"),
    "simulate": Reads(renders="the overlay the scenario reads"),
}
RENDER_FLAGS = ("--no-cache", "--render-timeout", "--render-memory")
ALIASES = {"images": "status"}


def _add_repo_flags(parser: argparse._ActionsContainer, suppress: bool) -> None:
    """--repo and --debug, which every command takes. ``suppress``: the subcommand's copy adds
    no default, so ``gitops --repo X check`` keeps X instead of the subcommand resetting it to
    None (argparse copies a subparser's defaults over the namespace the main parser filled)."""
    parser.add_argument(
        "--repo",
        metavar="PATH",
        default=argparse.SUPPRESS if suppress else None,
        help="repository root (default: git top level of the current directory)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="debug logs and tracebacks",
    )


def _add_shared_flags(parser: argparse._ActionsContainer, reads: Reads, suppress: bool) -> None:
    """The render flags of a command that renders and --validator of one that judges, worded
    for ``reads``; ``suppress`` as in :func:`_add_repo_flags`."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    if reads.renders is not None:
        parser.add_argument(
            "--no-cache",
            action="store_true",
            default=default(False),
            help=f"render {reads.renders} again instead of reusing unchanged renders "
            "(also GITOPS_NO_CACHE=1)",
        )
        parser.add_argument(
            "--render-timeout",
            type=float,
            metavar="SECONDS",
            default=default(None),
            help="stop a kustomize build after SECONDS, once per overlay "
            "(default: kustomize.timeoutSeconds, 120)",
        )
        parser.add_argument(
            "--render-memory",
            type=int,
            metavar="MIB",
            default=default(None),
            help="address-space limit of each kustomize process "
            "(default: kustomize.memoryLimitMiB, 3072)",
        )
    if reads.judges is not None:
        parser.add_argument(
            "--validator",
            choices=("auto", "upstream", "python"),
            default=default(None),
            help=f"who judges {reads.judges}: upstream is kube-apiserver's own code (make "
            "validator), python the built-in fallback; auto (default) the upstream one when "
            "built (also GITOPS_VALIDATOR)",
        )


def _command(
    sub: argparse._SubParsersAction[Parser], name: str, help: str, **kwargs: Any
) -> Parser:
    """One subcommand, its own flags added by the caller; :func:`_add_shared_groups` adds the
    shared ones it reads after them, so its --help and usage list its own flags first."""
    return sub.add_parser(name, help=help, **kwargs)


def _add_shared_groups(sub: argparse._SubParsersAction[Parser]) -> None:
    for name, reads in READS.items():
        shared = sub.choices[name].add_argument_group(
            "shared options (also accepted before the command name)"
        )
        _add_repo_flags(shared, suppress=True)
        _add_shared_flags(shared, reads, suppress=True)


VALIDATE_DESCRIPTION = """\
Validate FILEs, DIRs or - (stdin) as the API server of gitops.yaml's kubernetesVersion
(--k8s-version) would, offline. Each problem is one line: file:line: Kind/name: field: problem.

Schema rules (the version's OpenAPI schemas, strict, and CRDs found in schemas.crdDirs or in
the input): unknown and duplicate fields, types, required fields, and the enums, formats and
ranges a schema states.

API-server rules (cross-field and value checks of the API server's validation that no schema
states, applied at the target version and gitops.yaml featureGates): object names per kind
(Service names: DNS-1123 labels from 1.36), label and annotation keys and values, selectors
and selector-template match; enum values (imagePullPolicy, restartPolicy, protocol, dnsPolicy,
strategy and Service types...); counts that must not be negative (replicas, minReadySeconds,
revisionHistoryLimit, Job and CronJob counts); progressDeadlineSeconds > minReadySeconds;
maxSurge/maxUnavailable; duplicate container, port and volume names; volumeMounts and
volumeDevices naming no volume (StatefulSet claim templates count); container and Service
ports (targetPort 0 defaults to port); env names and valueFrom (not with value, one source);
probes (one handler, no negative timings, successThreshold 1 for liveness and startup,
terminationGracePeriodSeconds) and no probes or lifecycle on plain init containers;
container restartPolicy and restartPolicyRules per version; PDB minAvailable/maxUnavailable;
HPA bounds (1 <= minReplicas <= maxReplicas; minReplicas 0 only with the HPAScaleToZero gate
and an Object or External metric), metric types and behavior ranges.

Inputs: every file named, and in a DIR every *.yaml, *.yml and *.json file (hidden files and
folders excluded), except files that are not Kubernetes objects, skipped with a note:
kustomization files and the files a kustomization uses as patches, replacements, transformer,
generator or validator configs, generator inputs or Helm values; Helm Chart.yaml,
values*.yaml and requirements.yaml (in a chart, or holding no object) and chart templates.
An empty file holds no document. Exit 0: all valid; 1: a document is invalid or a file
unreadable; 2: usage error or no document at all.
"""


def build_parser() -> Parser:
    """The argparse tree. Long because it is a declaration, one block per subcommand, with no
    branches: splitting it would only scatter the options a reader looks for in one place."""
    parser = Parser(
        prog="gitops",
        description="Render, validate and policy-check Kustomize overlays and Argo CD apps.",
        epilog="`gitops COMMAND --help` lists the options of one command.",
    )
    _add_repo_flags(parser, suppress=False)
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the gitops version, which kustomize binary renders and which validator judges",
    )
    # Accepted here too, for the commands that read them: `gitops --no-cache check` is
    # `gitops check --no-cache`; parse_arguments refuses one given to a command that does not
    # read it.
    _add_shared_flags(
        parser.add_argument_group("options of the commands that render or judge"),
        Reads(renders="the overlays", judges="documents"),
        suppress=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    render = _command(
        sub,
        "render",
        help="render overlays with kustomize",
        description="Render every overlays/<env>/<service> (or a selection) with kustomize.",
    )
    render.add_argument("--env", help="only this env")
    render.add_argument("--service", help="only this service")
    render.add_argument(
        "--out", metavar="DIR", help="write DIR/<env>/<service>.yaml instead of stdout"
    )
    render.add_argument(
        "--list",
        action="store_true",
        help="list the units found (env, service, path) and why, then exit; nothing is rendered",
    )

    check = _command(
        sub,
        "check",
        help="render, validate and policy-check every overlay",
        description="Render every overlay, validate it against the Kubernetes schemas, run the "
        "policy rules and apply waivers. Exit 1 when an error-severity finding remains.",
    )
    check.add_argument("--env", help="only this env")
    check.add_argument("--service", help="only this service")
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif", "junit", "github"),
        default="text",
        help="report format (default: text)",
    )
    check.add_argument(
        "--k8s-version",
        metavar="X.Y",
        help="target Kubernetes version (default: kubernetesVersion in gitops.yaml)",
    )
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")

    validate = _command(
        sub,
        "validate",
        help="check rendered YAML offline: schemas and the API server's own rules",
        description=VALIDATE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("paths", nargs="+", metavar="FILE|DIR|-")
    validate.add_argument(
        "--k8s-version",
        metavar="X.Y",
        help="judge as this Kubernetes version's API server (default: kubernetesVersion in "
        "gitops.yaml)",
    )
    validate.add_argument(
        "--allow-no-documents",
        action="store_true",
        help="exit 0 when the inputs hold no Kubernetes document (every file skipped as a "
        "kustomization, patch or generator input, or empty), as a pre-commit hook handed "
        "only such files should; a path that does not exist is still an error",
    )

    diff = _command(
        sub,
        "diff",
        help="what a change does to the rendered manifests and the policy findings",
        description="Render the overlays whose kustomize inputs changed between --base and "
        "--head, compare resources, and compare gitops check findings over every overlay the "
        "change can reach. Exit 0; 1 when the change breaks a render, or with --exit-code when "
        "there are differences; 2 on errors.",
    )
    diff.add_argument(
        "--base",
        metavar="REF",
        help="base commit (default: merge-base with origin/main, else main)",
    )
    diff.add_argument(
        "--head",
        metavar="REF",
        help="head commit (default: the working tree, uncommitted changes included)",
    )
    diff.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (the pull-request comment) or json",
    )
    diff.add_argument(
        "--context",
        type=int,
        default=3,
        metavar="N",
        help="lines of context in each unified diff (default: 3)",
    )
    diff.add_argument(
        "--max-bytes",
        type=int,
        default=60_000,
        metavar="N",
        help="markdown: cut the comment to N bytes (default: 60000)",
    )
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when there are differences")
    diff.add_argument(
        "--plot-dir",
        metavar="DIR",
        help="write the Behaviour section's plots (base vs head) to DIR",
    )

    probe = _command(
        sub,
        "probe",
        help="run an overlay's rendered probes against the real processes",
        description="Start each container built from apps/<name>/ as a local process with the "
        "rendered env and run its startup, readiness and liveness probes as kubelet would. "
        "Without --env/--service: every overlay that has such a container.",
    )
    probe.add_argument("--env", help="only this env")
    probe.add_argument("--service", help="only this service")
    probe.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default: text)"
    )
    probe.add_argument(
        "--secrets",
        metavar="FILE",
        help="YAML with Secret values: <secret name>: {<key>: <value>} (never commit it)",
    )
    probe.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="N",
        help="divide initialDelaySeconds and periodSeconds by N (default 1: kubelet's timing)",
    )

    apps = _command(
        sub,
        "apps",
        help="list the Argo CD Applications the repo generates",
        description="Expand the ApplicationSets and Applications under argocd/ as Argo CD would.",
    )
    apps.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    _add_release_parsers(sub)

    simulate = _command(
        sub,
        "simulate",
        help="replay the HPA, drain or rollout controllers' decisions for a scenario",
        description="SCENARIO is a scenario file (see docs/simulate.md); "
        "'drain' simulates draining nodes under the PDB, 'rollout' a Deployment's rolling "
        "update. Exit 0; 1 when a drain cannot complete; 2 on a bad scenario.",
    )
    simulate.add_argument("scenario", metavar="SCENARIO|drain|rollout")
    simulate.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="report format (default: text)",
    )
    simulate.add_argument(
        "--plot", metavar="FILE.png",
        help="draw the run to FILE.png (a timeline, one sync's decision, the drains or the "
        "rollouts) and print 'wrote FILE.png' on stderr",
    )  # fmt: skip
    # Defaults are applied in gitops.cli's _simulate, so that an option given to a form that
    # does not read it can be refused instead of ignored.
    simulate.add_argument("--env", help="drain/rollout: the env whose overlay to use")
    simulate.add_argument("--service", help="drain/rollout: only this service")
    simulate.add_argument("--nodes", type=int, metavar="N", help="drain: nodes (3)")
    simulate.add_argument("--zones", type=int, metavar="Z", help="drain: zones (3)")
    simulate.add_argument(
        "--ready-seconds",
        type=float,
        metavar="S",
        help="drain/rollout: a new pod is Ready S seconds after it is created (20)",
    )
    _add_shared_groups(sub)
    return parser


def _add_release_parsers(sub: argparse._SubParsersAction[Parser]) -> None:
    """set-image, promote, status: the release edits (gitops.release). Long for the same reason
    as build_parser: a declaration without branches."""

    def edit_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print the rendered diff and the new findings; write nothing",
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="output (default: text)"
        )
        parser.add_argument(
            "--commit",
            action="store_true",
            help="make one commit of the edited files (conventional message)",
        )

    set_image = _command(
        sub,
        "set-image",
        help="pin an overlay's images to tags and/or digests, keeping comments and layout",
        description="Edit the images: entries of overlays/<env>/<service>/kustomization.yaml "
        "(added if missing), then render and check; an edit that adds an error finding is "
        "rolled back (exit 1). One image: TAG|@DIGEST|TAG@DIGEST (with --image or --container "
        "when the overlay has several); several at once: NAME=REF ..., each NAME an image, "
        "all written or none. Refused (exit 2), nothing written: an image no rendered "
        "container uses, a malformed tag or digest, the tag latest.",
    )
    set_image.add_argument("--env", required=True, help="the env whose overlay to edit")
    set_image.add_argument("--service", required=True, help="the service whose overlay to edit")
    which = set_image.add_mutually_exclusive_group()
    which.add_argument("--container", metavar="NAME", help="the image of this container")
    which.add_argument("--image", metavar="NAME", help="this image (its tag, if given, is ignored)")
    set_image.add_argument("refs", nargs="+", metavar="TAG|@DIGEST|TAG@DIGEST|NAME=REF")
    edit_options(set_image)

    promote = _command(
        sub,
        "promote",
        help="copy image tags and digests from one env's overlays to the next env's",
        description="Make --to run the image versions --from runs, for the chosen services. "
        "Only one step along gitops.yaml envs, unless --force. Then render and check; an "
        "edit that adds an error finding is rolled back (exit 1).",
    )
    promote.add_argument(
        "--from", dest="from_env", required=True, metavar="ENV", help="the env to copy from"
    )
    promote.add_argument(
        "--to", dest="to_env", required=True, metavar="ENV", help="the env to edit"
    )
    chosen = promote.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--service",
        dest="services",
        action="extend",
        nargs="+",
        metavar="S",
        help="one or more services (repeatable)",
    )
    chosen.add_argument("--all", action="store_true", help="every service both envs have")
    promote.add_argument(
        "--force", action="store_true", help="allow promoting backwards or skipping an env"
    )
    edit_options(promote)

    status = _command(
        sub,
        "status",
        aliases=list(ALIASES),
        help="every service's images per env as git declares them: which env is ahead of which",
        description="Render every overlay and list each service's images per env: the "
        "versions git declares (what Argo CD applies once synced), not what the clusters run. "
        "STATUS ranks the envs that differ (dev ahead of staging, staging ahead of prod); an "
        "env declaring a higher version than an env before it is out of order.",
    )
    status.add_argument("--env", help="only this env's overlays (one column, nothing compared)")
    status.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default: text)"
    )
    status.add_argument(
        "--differing", action="store_true", help="only images whose versions differ"
    )


def parse_arguments(parser: Parser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parser.parse_args``, with the usage error a user can act on (exit 2): an unknown
    option is named with the closest one the command takes (``--fromat``: did you mean
    --format?) under that command's usage, and a shared option given before the name of a
    command that does not read it (``gitops --no-cache validate``) is refused, not ignored."""
    args, extras = parser.parse_known_args(argv)
    command = ALIASES.get(args.command, args.command)
    target = _subparser(parser, command) if command is not None else parser
    if extras:
        options = [s for action in target._actions for s in action.option_strings]
        hint = _did_you_mean(extras[0].split("=", 1)[0], options) if extras[0][:1] == "-" else ""
        target.error(f"unrecognized argument{'s' if len(extras) > 1 else ''}: "
                     f"{' '.join(extras)}{hint}")  # fmt: skip
    if command is not None:
        reads = READS[command]
        given = [flag for flag, value in (
            ("--no-cache", args.no_cache), ("--render-timeout", args.render_timeout),
            ("--render-memory", args.render_memory),
        ) if value not in (None, False) and reads.renders is None]  # fmt: skip
        if args.validator is not None and reads.judges is None:
            given.append("--validator")
        if given:
            what = "renders" if given[0] in RENDER_FLAGS else "judges"
            target.error(f"{given[0]} does not apply to {command}: it {what} nothing")
    return args


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found: argparse.ArgumentParser = commands.choices[command]
    return found
