"""The ``gitops`` command line: parses arguments and calls the library, nothing else.

Exit codes: 0 success, 1 the repository has problems, 2 usage or environment errors
(see :mod:`gitops.errors`). Tracebacks only with ``--debug``.

    $ gitops render --env prod --out rendered/
    $ gitops apps --format json
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gitops import __version__
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, GitopsError

if TYPE_CHECKING:
    from gitops.argocd import Application
    from gitops.config import RepoConfig
    from gitops.discovery import Discovery, DiscoveryProblem
    from gitops.release.plan import ReleasePlan
    from gitops.upstream import UpstreamValidator
    from gitops.workspace import CrdLearner, DocumentValidator, Workspace


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


# The commands, what they read of the shared flags, and their handlers (bound in _dispatch).
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
    # `gitops check --no-cache`; main() refuses one given to a command that does not read it.
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
    # Defaults are applied in _simulate, so that an option given to a form that does not
    # read it can be refused instead of ignored.
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


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A message quoting non-ASCII input must not crash on a terminal or pipe whose
        # encoding cannot show it (LANG=C without UTF-8 mode, PYTHONIOENCODING=ascii).
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parse_arguments(parser, argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # GITOPS_NO_CACHE is read here, once, as the alias of --no-cache; from here on the choice
    # travels as an argument (the Workspace's cache), never through the environment. Only a
    # command that renders loads the render core for it: `validate` starts sooner without.
    args.no_cache = bool(getattr(args, "no_cache", False))
    command = ALIASES.get(args.command, args.command)
    if command is not None and READS[command].renders is not None:
        from gitops.workspace import no_cache_requested

        args.no_cache = args.no_cache or no_cache_requested()
    # HELM likewise: the helm that renders charts, over kustomize.helmCommand (gitops.helm).
    args.helm = os.environ.get("HELM") or None
    try:
        # GITOPS_VALIDATOR likewise, once, as the alias of --validator.
        args.validator = getattr(args, "validator", None) or _validator_from_env()
        return _dispatch(parser, args)
    except BrokenPipeError:
        return _reader_gone()
    except GitopsError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place that hides tracebacks
        if args.debug:
            raise
        print(
            f"error: internal error: {type(exc).__name__}: {exc} (re-run with --debug)",
            file=sys.stderr,
        )
        return EXIT_USAGE


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


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.version:
        code = _version(args)
    elif args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    else:
        handler = {
            "render": _render,
            "apps": _apps,
            "check": _check,
            "validate": _validate,
            "diff": _diff,
            "probe": _probe,
            "set-image": _set_image,
            "promote": _promote,
            "status": _status,
            "simulate": _simulate,
        }[ALIASES.get(args.command, args.command)]
        code = handler(args)
    # Written out here, inside main's handlers: a reader that went away (`| head`) is seen
    # now rather than when the interpreter flushes on exit.
    sys.stdout.flush()
    return code


# What a Unix tool's status is when SIGPIPE ends it (128 + 13), as a shell reports it.
EXIT_BROKEN_PIPE = 141


def _reader_gone() -> int:
    """stdout's reader closed the pipe (``gitops apps | head``): stop quietly, as Unix tools
    do. Cleanup already ran (the error unwound every ``finally``); what is still buffered goes
    to /dev/null so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (an in-process caller)
        pass
    return EXIT_BROKEN_PIPE


def _context(args: argparse.Namespace) -> tuple[Path, RepoConfig]:
    from gitops.repo import open_config, resolve_repo

    repo = resolve_repo(args.repo)
    config = open_config(repo)
    settings = config.kustomize
    if args.render_timeout is not None:
        if args.render_timeout <= 0:
            raise GitopsError("--render-timeout must be a positive number of seconds")
        settings = dataclasses.replace(settings, timeout=args.render_timeout)
    if args.render_memory is not None:
        if args.render_memory < 64:
            raise GitopsError("--render-memory must be at least 64 (MiB)")
        settings = dataclasses.replace(settings, memory_limit_mib=args.render_memory)
    return repo, dataclasses.replace(config, kustomize=settings)


def _workspace(
    args: argparse.Namespace,
    repo: Path,
    config: RepoConfig,
    validator: DocumentValidator | None = None,
    learn_crd: CrdLearner | None = None,
) -> Workspace:
    """The Workspace every rendering command passes down: kustomize found once, here."""
    from gitops.workspace import Workspace

    return Workspace.open(
        repo,
        config,
        use_cache=not args.no_cache,
        validator=validator,
        learn_crd=learn_crd,
        helm=args.helm,
    )


def _version(args: argparse.Namespace) -> int:
    repo, config = _context(args)
    from gitops.upstream import UpstreamValidator

    workspace = _workspace(args, repo, config)
    kustomize = workspace.kustomize
    print(f"gitops {__version__}")
    print(f"kustomize {kustomize.version()}: {kustomize.describe()}")
    helm = workspace.helm
    print(f"helm: {helm.describe()}" if helm else "helm: none (make helm, or HELM=/path/to/helm)")
    upstream = UpstreamValidator.find(config)
    if upstream is None:
        print(
            f"validator: the Python fallback (no gitops-validator built for Kubernetes "
            f"{config.kubernetes_version}: make validator)"
        )
    else:
        print(f"validator: {upstream.describe()}: {upstream.binary}")
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from gitops.discovery import NothingFoundError, nothing_found_message
    from gitops.render import join_manifests, write_manifests
    from gitops.snapshot import take_snapshot

    repo, config = _context(args)
    workspace = _workspace(args, repo, config)
    if args.list:
        return _print_units(workspace.discover(workspace.argocd()), sys.stdout, repo, config)
    services = None if args.service is None else [args.service]
    snapshot = take_snapshot(workspace, args.env, services, trace=False)
    results = snapshot.results
    problems = [str(p) for p in snapshot.discovery.problems if _in_selection(p, args)]
    if not snapshot.selected and not problems:
        raise NothingFoundError(nothing_found_message(repo, config, args.env, args.service))
    if args.out:
        write_manifests(results, Path(args.out))
    else:
        sys.stdout.write(join_manifests(results))
    failures = problems + [r.failure_line() for r in results if not r.ok]
    for line in failures:
        print(f"error: {line}", file=sys.stderr)
    if failures:
        rendered = sum(r.ok for r in results)
        print(f"{len(failures)} overlay(s) failed, {rendered} rendered", file=sys.stderr)
    # Keys kustomize read silently wrong: the output above is what kustomize made of them.
    keys = sorted({p for found in snapshot.key_problems.values() for p in found})
    for key in keys:
        print(f"error: {key.path}:{key.line}: {key.message} ({key.rule})", file=sys.stderr)
    return EXIT_PROBLEMS if failures or keys else EXIT_OK


def _print_units(discovery: Discovery, out: TextIO, repo: Path, config: RepoConfig) -> int:
    from gitops.discovery import NothingFoundError, nothing_found_message

    if not discovery.overlays and not discovery.problems:
        raise NothingFoundError(nothing_found_message(repo, config))
    rule = "Argo CD Applications" if discovery.source == "argocd" else "the overlays/ layout"
    out.write(f"units from {rule}:\n")
    rows = [("ENV", "SERVICE", "PATH", "WHY")]
    rows += [(o.env, o.service, o.rel_path, o.reason) for o in discovery.overlays]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    for note in discovery.notes:
        out.write(f"skipped: {note}\n")
    for problem in discovery.problems:
        out.write(f"problem: {problem}\n")
    return EXIT_PROBLEMS if discovery.problems else EXIT_OK


def _in_selection(problem: DiscoveryProblem, args: argparse.Namespace) -> bool:
    env_ok = args.env is None or problem.env == args.env
    service_ok = args.service is None or problem.service == args.service
    return env_ok and service_ok


def _validator_from_env() -> str:
    value = os.environ.get("GITOPS_VALIDATOR", "").strip().lower() or "auto"
    if value not in ("auto", "upstream", "python"):
        raise GitopsError(f"GITOPS_VALIDATOR={value!r}: expected auto, upstream or python")
    return value


def _upstream(
    args: argparse.Namespace, config: RepoConfig, version: str | None = None
) -> UpstreamValidator | None:
    """The upstream validator ``--validator`` asks for: None for ``python``; for ``auto`` when
    none is built for the version, after one note naming what goes unchecked."""
    from gitops.upstream import FALLBACK_NOTE, UpstreamValidator

    if args.validator == "python":
        return None
    found = UpstreamValidator.find(config, version)
    if found is None:
        wanted = version or config.kubernetes_version
        if args.validator == "upstream":
            raise GitopsError(
                f"--validator upstream: no gitops-validator built for Kubernetes {wanted} "
                "(run `make validator`; it needs Go >= 1.26)"
            )
        print(f"note: {FALLBACK_NOTE}", file=sys.stderr)
    return found


def _with_k8s_version(config: RepoConfig, version: str | None) -> RepoConfig:
    from gitops.config import parse_kubernetes_version

    if version is None:
        return config
    return dataclasses.replace(config, kubernetes_version=parse_kubernetes_version(version))


def _judging_workspace(args: argparse.Namespace, repo: Path, config: RepoConfig) -> Workspace:
    """The Workspace of a command that checks: the Python validator (its schemas, and its
    words for kinds nothing serves) and the upstream validator ``--validator`` asks for,
    taught the same CRDs."""
    from gitops.schema import SchemaValidator
    from gitops.workspace import Workspace

    validator = SchemaValidator.for_repo(repo, config)
    upstream = _upstream(args, config)
    if upstream is not None:
        upstream = dataclasses.replace(upstream, crds=tuple(validator.crd_documents()))
    return Workspace.open(
        repo,
        config,
        use_cache=not args.no_cache,
        validator=validator.validate,
        learn_crd=validator.add_crd_object,
        upstream=upstream,
        helm=args.helm,
    )


def _check(args: argparse.Namespace) -> int:
    from gitops.check import check_snapshot
    from gitops.report import format_report
    from gitops.snapshot import take_snapshot

    repo, config = _context(args)
    config = _with_k8s_version(config, args.k8s_version)
    workspace = _judging_workspace(args, repo, config)
    services = None if args.service is None else [args.service]
    report = check_snapshot(take_snapshot(workspace, args.env, services), args.env, args.service)
    text = format_report(report, args.format, repo, color=None if not args.output else False)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        if args.format != "text":
            print(format_report(report, "text", repo), end="", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return report.exit_code


def _validate(args: argparse.Namespace) -> int:
    repo, config = _context(args)
    upstream = _upstream(args, config, args.k8s_version)
    # Started first: the validator builds the API server's stores while the validation
    # modules load and stdin is read, not after.
    judging = upstream.start() if upstream is not None else None
    try:
        from gitops.validate import NothingToValidateError, format_text, run_validate

        # Bytes: binary or non-UTF-8 input is reported as such, never a decoding traceback.
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        stdin_text = stdin.read() if "-" in args.paths else None
        result = run_validate(
            args.paths, stdin_text, config, args.k8s_version, repo=repo, upstream=judging
        )
    except NothingToValidateError as nothing:
        if not args.allow_no_documents:
            raise
        sys.stdout.write(nothing.format_text())
        return EXIT_OK
    finally:
        if judging is not None:
            judging.cancel()  # a no-op once it has judged
    sys.stdout.write(format_text(result))
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _diff(args: argparse.Namespace) -> int:
    from gitops.diff import DiffOptions, diff_command

    repo, config = _context(args)
    options = DiffOptions(
        base=args.base,
        head=args.head,
        format=args.format,
        context=args.context,
        max_bytes=args.max_bytes,
        exit_code=args.exit_code,
        color=sys.stdout.isatty() and "NO_COLOR" not in os.environ,
        plot_dir=Path(args.plot_dir) if args.plot_dir else None,
    )
    return diff_command(_judging_workspace(args, repo, config), options, sys.stdout)


def _probe(args: argparse.Namespace) -> int:
    from gitops.discovery import select_overlays
    from gitops.probe import format_json, format_text, probe_overlay, probeable_overlays

    repo, config = _context(args)
    workspace = _workspace(args, repo, config)
    selected = select_overlays(workspace.layout(), config, args.env, args.service)
    targets = probeable_overlays(repo, selected)
    if not targets:
        raise GitopsError("no selected overlay has a container built from apps/<name>/")
    results = []
    for overlay in targets:
        result = probe_overlay(workspace, overlay.env, overlay.service, args.secrets, args.speed)
        results.append(result)
        if args.format == "text":
            sys.stdout.write(format_text([result]))
            sys.stdout.flush()
    if args.format == "json":
        sys.stdout.write(format_json(results))
    failed = [f"{r.env}/{r.service}" for r in results if not r.passed]
    if failed:
        print(f"error: probes failed in {', '.join(failed)}", file=sys.stderr)
    return EXIT_PROBLEMS if failed else EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    """``gitops simulate``: a scenario file, ``drain`` or ``rollout``; an option the form does
    not read is an error (exit 2), not silently ignored."""
    from gitops.config import DEFAULT_KUBERNETES_VERSION
    from gitops.simulate.command import check_options, run_drain, run_rollout, run_scenario
    from gitops.simulate.sources import repo_hpa_resolver

    form = args.scenario if args.scenario in ("drain", "rollout") else "scenario"
    given = [option for option, value in (
        ("--plot", args.plot), ("--env", args.env), ("--service", args.service),
        ("--nodes", args.nodes), ("--zones", args.zones), ("--ready-seconds", args.ready_seconds),
    ) if value is not None]  # fmt: skip
    check_options(form, given)
    plot = Path(args.plot) if args.plot else None
    ready = 20.0 if args.ready_seconds is None else args.ready_seconds
    if form == "scenario":
        version = DEFAULT_KUBERNETES_VERSION
        try:
            workspace = _workspace(args, *_context(args))
            resolver = repo_hpa_resolver(workspace)
            version = workspace.config.kubernetes_version
        except GitopsError:
            resolver = None  # outside a repository: inline-HPA scenarios still work
        text, _timeline = run_scenario(Path(args.scenario), args.format, plot, resolver, version)
        code = EXIT_OK
    elif form == "drain":
        nodes = 3 if args.nodes is None else args.nodes
        zones = 3 if args.zones is None else args.zones
        text, code = run_drain(
            _workspace(args, *_context(args)), args.env, args.service, nodes, zones,
            args.format, ready, plot=plot,
        )  # fmt: skip
    else:
        text, code = run_rollout(
            _workspace(args, *_context(args)), args.env, args.service, args.format, ready,
            plot=plot,
        )  # fmt: skip
    sys.stdout.write(text)
    if plot is not None:
        print(f"wrote {plot}", file=sys.stderr)
    return code


def _apps(args: argparse.Namespace) -> int:
    from gitops.errors import ConfigError

    repo, config = _context(args)
    workspace = _workspace(args, repo, config)
    argo = workspace.argocd()
    if argo is None:
        raise ConfigError(f"{config.argocd_path}/: no such directory (argocdPath in gitops.yaml)")
    if argo.error is not None:
        raise argo.error
    expansion = argo.with_coverage(config, workspace.layout().overlays)
    if args.format == "json":
        json.dump(
            {
                "applications": [a.to_json() for a in expansion.applications],
                "problems": list(expansion.problems),
            },
            sys.stdout,
            indent=2,
            sort_keys=True,
        )
        sys.stdout.write("\n")
    else:
        _print_apps_table(expansion.applications, sys.stdout)
    for problem in expansion.problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_PROBLEMS if expansion.problems else EXIT_OK


def _print_apps_table(apps: Sequence[Application], out: TextIO) -> None:
    rows = [("NAME", "PROJECT", "PATH", "DESTINATION", "FROM")]
    rows += [(a.name, a.project, a.path, a.destination_text(), a.generated_by) for a in apps]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def _set_image(args: argparse.Namespace) -> int:
    from gitops.release.plan import plan_set_images
    from gitops.release.refs import ImagePin, parse_pins, parse_version

    repo, config = _context(args)
    if len(args.refs) == 1 and "=" not in args.refs[0]:
        pins = [ImagePin(parse_version(args.refs[0]), args.image, args.container)]
    elif args.image is not None or args.container is not None:
        raise GitopsError(
            "--image and --container name the one image of a single TAG|@DIGEST; "
            "with several, give each as NAME=REF"
        )
    else:
        pins = parse_pins(args.refs)
    workspace = _workspace(args, repo, config)
    plan = plan_set_images(workspace, args.env, args.service, pins)
    return _carry_out(args, workspace, plan)


def _promote(args: argparse.Namespace) -> int:
    from gitops.release.plan import plan_promote

    workspace = _workspace(args, *_context(args))
    plan = plan_promote(
        workspace,
        args.from_env,
        args.to_env,
        services=None if args.all else args.services,
        force=args.force,
    )
    return _carry_out(args, workspace, plan)


def _carry_out(args: argparse.Namespace, workspace: Workspace, plan: ReleasePlan) -> int:
    from gitops.release.apply import apply_plan, dry_run, format_json, format_text

    if args.dry_run and args.commit:
        raise GitopsError("--dry-run and --commit exclude each other")
    # An empty plan (nothing to change) needs no validation: it is only printed.
    if plan.files:
        workspace = _judging_workspace(args, workspace.repo, workspace.config)
    if args.dry_run:
        outcome = dry_run(workspace, plan)
    else:
        outcome = apply_plan(workspace, plan, commit=args.commit)
    if args.format == "json":
        sys.stdout.write(format_json(outcome))
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(format_text(outcome, color=color))
    if outcome.rolled_back:
        print(
            f"error: {len(outcome.blocking)} new error finding(s); nothing was changed",
            file=sys.stderr,
        )
    return outcome.exit_code


def _status(args: argparse.Namespace) -> int:
    from gitops.release.status import format_json, format_text, status_envs, status_report

    repo, config = _context(args)
    rows, problems = status_report(_workspace(args, repo, config), args.env)
    envs = status_envs(config.envs, args.env)
    if args.format == "json":
        sys.stdout.write(format_json(rows, envs, problems))
    else:
        sys.stdout.write(format_text(rows, envs, only_differing=args.differing))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_PROBLEMS if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
