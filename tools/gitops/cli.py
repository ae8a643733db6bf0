"""The ``gitops`` command line: runs the command :mod:`gitops.cli_parser` parsed by calling
the library, nothing else.

Exit codes: 0 success, 1 the repository has problems, 2 usage or environment errors
(see :mod:`gitops.errors`). Tracebacks only with ``--debug``.

    $ gitops render --env prod --out rendered/
    $ gitops apps --format json
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gitops import __version__
from gitops.cli_parser import ALIASES, READS, build_parser, parse_arguments
from gitops.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, GitopsError

if TYPE_CHECKING:
    from gitops.argocd import Application
    from gitops.config import RepoConfig
    from gitops.discovery import Discovery, DiscoveryProblem
    from gitops.release.plan import ReleasePlan
    from gitops.upstream import UpstreamValidator
    from gitops.workspace import CrdLearner, DocumentValidator, Workspace


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
