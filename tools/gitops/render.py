"""Render overlays with kustomize, in parallel, reporting every failure.

>>> config = load_config(repo)
>>> results = render_overlays(repo, discover_overlays(repo, config).overlays, config)
>>> [r.overlay.name for r in results if not r.ok]
[]
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gitops.cache import CachedRender, RenderCache
from gitops.config import RepoConfig
from gitops.discovery import Discovery, Overlay
from gitops.errors import CommandError, GitopsError
from gitops.kustomize import Kustomize, find_kustomize
from gitops.runner import Command, CommandResult, run

Runner = Callable[[Command], CommandResult]


class SelectionError(GitopsError):
    """--env / --service named something the repository does not have."""


@dataclass(frozen=True)
class RenderedOverlay:
    overlay: Overlay
    manifest: str | None  # kustomize's multi-document YAML, None when rendering failed
    error: str | None  # one line, repo-relative paths, None on success
    seconds: float
    # With build metadata (see render_overlay(trace=True)) kustomize writes origin paths relative
    # to this directory; None for a plain render.
    origin_root: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def failure_line(self) -> str:
        return f"{self.overlay.rel_path}: {self.error}"


def select_overlays(
    discovery: Discovery, config: RepoConfig, env: str | None, service: str | None
) -> list[Overlay]:
    """Filter by ``--env`` / ``--service``; an unknown name is a usage error, not an empty set."""
    if env is not None and env not in config.envs:
        raise SelectionError(
            f"unknown env {env!r}: gitops.yaml envs are {', '.join(config.envs) or 'none'}"
        )
    services = sorted({o.service for o in discovery.overlays})
    if service is not None and service not in services:
        raise SelectionError(
            f"unknown service {service!r}: overlays exist for {', '.join(services) or 'none'}"
        )
    return [
        o
        for o in discovery.overlays
        if (env is None or o.env == env) and (service is None or o.service == service)
    ]


WRAPPER_KUSTOMIZATION = """\
# Written by gitops in a temporary directory, never in the repository: it asks kustomize to
# record where each resource came from and which transformers changed it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {target}
buildMetadata: [originAnnotations, transformerAnnotations]
"""


# Over six parameters: the docstring says why (one per option, no hidden state).
def render_overlay(  # noqa: PLR0913
    repo: Path,
    overlay: Overlay,
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner = run,
    trace: bool = False,
    cache: RenderCache | None = None,
) -> RenderedOverlay:
    """Render one overlay. With ``trace`` the build goes through a throw-away kustomization in a
    temp dir that enables kustomize's build metadata (``config.kubernetes.io/origin`` and
    ``alpha.config.kubernetes.io/transformations`` annotations), leaving the user's files alone;
    if that fails, the plain build is run so the error reads as it does for ``gitops render``.
    With a ``cache``, an unchanged overlay's previous output is reused (see gitops.cache).
    Seven parameters: one overlay plus the Workspace's fields (gitops.workspace), kept separate
    so library callers without a Workspace can render."""
    key = cache.key(overlay, trace) if cache is not None else None
    if cache is not None and key is not None:
        hit = cache.get(key)
        if hit is not None:
            return RenderedOverlay(overlay, hit.manifest, None, 0.0, hit.origin_root)
    result = _render_uncached(repo, overlay, config, kustomize, runner, trace)
    if cache is not None and key is not None and result.ok and result.manifest is not None:
        cache.put(key, CachedRender(result.manifest, result.origin_root))
    return result


def _render_uncached(
    repo: Path,
    overlay: Overlay,
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner,
    trace: bool,
) -> RenderedOverlay:
    if not trace:
        return _render_directory(repo, overlay, overlay.rel_path, config, kustomize, runner)
    timeout = config.kustomize.timeout
    with tempfile.TemporaryDirectory(prefix="gitops-trace-") as wrapper:
        # kustomize refuses absolute resource paths; a relative one may climb out of the root.
        target = os.path.relpath(repo.resolve() / overlay.rel_path, wrapper)
        Path(wrapper, "kustomization.yaml").write_text(
            WRAPPER_KUSTOMIZATION.format(target=target), encoding="utf-8"
        )
        traced = _render_directory(repo, overlay, wrapper, config, kustomize, runner, timeout)
    if traced.ok:
        return RenderedOverlay(overlay, traced.manifest, None, traced.seconds, origin_root=wrapper)
    # The timeout applies once per overlay: the plain build that words the error as `gitops
    # render` does gets what is left of it, and none after a timeout or an out-of-memory end.
    remaining = timeout - traced.seconds
    error = traced.error or ""
    if remaining < 1 or "timed out after" in error or "ran out of memory" in error:
        return traced
    plain = _render_directory(repo, overlay, overlay.rel_path, config, kustomize, runner, remaining)
    return RenderedOverlay(overlay, plain.manifest, plain.error, traced.seconds + plain.seconds)


# Over six parameters: the docstring says why (one per option, no hidden state).
def _render_directory(  # noqa: PLR0913
    repo: Path,
    overlay: Overlay,
    directory: str,
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner,
    timeout: float | None = None,
) -> RenderedOverlay:
    """One ``kustomize build`` of ``directory`` (the overlay or its trace wrapper) through
    ``runner``. Seven parameters: render_overlay's, with the directory and timeout resolved."""
    command = kustomize.build_command(directory, config.kustomize, repo, timeout)
    started = time.perf_counter()
    try:
        result = runner(command)
    except CommandError as exc:
        return RenderedOverlay(
            overlay, None, relativize(str(exc), repo, command), time.perf_counter() - started
        )
    return RenderedOverlay(overlay, result.stdout, None, time.perf_counter() - started)


# Over six parameters: the docstring says why (one per option, no hidden state).
def render_overlays(  # noqa: PLR0913
    repo: Path,
    overlays: Sequence[Overlay],
    config: RepoConfig,
    kustomize: Kustomize | None = None,
    runner: Runner = run,
    workers: int | None = None,
    trace: bool = False,
    cache: RenderCache | None = None,
) -> list[RenderedOverlay]:
    """Render each overlay in parallel (kustomize is a subprocess, so threads suffice).

    Results come back in the order of ``overlays`` whatever order they finish in. Eight
    parameters: render_overlay's plus the pool size.
    """
    if not overlays:
        return []
    kustomize = kustomize or find_kustomize(config)
    workers = workers or min(len(overlays), max(os.cpu_count() or 1, 1) * 2)

    def one(overlay: Overlay) -> RenderedOverlay:
        return render_overlay(repo, overlay, config, kustomize, runner, trace, cache)

    if workers == 1 or len(overlays) == 1:
        return [one(o) for o in overlays]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kustomize") as pool:
        return list(pool.map(one, overlays))


# Over six parameters: the docstring says why (one per option, no hidden state).
def discover_and_render(  # noqa: PLR0913
    repo: Path,
    config: RepoConfig,
    kustomize: Kustomize,
    env: str | None,
    service: str | None,
    cache: RenderCache | None = None,
    trace: bool = False,
    runner: Runner = run,
    keep: Callable[[Overlay], bool] | None = None,
) -> tuple[Discovery, list[Overlay], list[RenderedOverlay]]:
    """Discover the units (gitops.discovery.discover_units) and render the selected ones, with
    the argocd/ build that tells what Argo CD syncs running while the ``overlays/`` layout's
    units render speculatively: when Argo CD confirms them (the usual case) nothing waits for
    it, and only units it adds are rendered afterwards. ``keep`` narrows the selection further
    (diff checks a set of services). Eight parameters: the render settings of one call."""
    from gitops.discovery import discover_overlays, discover_units

    filesystem = discover_overlays(repo, config)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discovery") as pool:
        pending = pool.submit(discover_units, repo, config, kustomize, cache, filesystem, runner)
        try:
            guess = select_overlays(filesystem, config, env, service)
        except SelectionError:
            guess = []  # the discovered units decide below
        if keep is not None:
            guess = [o for o in guess if keep(o)]
        early = _render_many(repo, guess, config, kustomize, runner, trace, cache)
        discovery = pending.result()
    selected = select_overlays(discovery, config, env, service)
    if keep is not None:
        selected = [o for o in selected if keep(o)]
    rendered = {r.overlay.rel_path: r for r in early}
    missing = [o for o in selected if o.rel_path not in rendered]
    for result in _render_many(repo, missing, config, kustomize, runner, trace, cache):
        rendered[result.overlay.rel_path] = result
    # Results carry the discovered unit (its env, service and reason), not the guess.
    results = [dataclasses.replace(rendered[o.rel_path], overlay=o) for o in selected]
    return discovery, selected, results


# Over six parameters: the docstring says why (one per option, no hidden state).
def _render_many(  # noqa: PLR0913
    repo: Path,
    overlays: list[Overlay],
    config: RepoConfig,
    kustomize: Kustomize,
    runner: Runner,
    trace: bool,
    cache: RenderCache | None,
) -> list[RenderedOverlay]:
    """Traced renders go through gitops.batch (one kustomize process per env where safe);
    plain ones, which ``gitops render`` prints byte for byte, stay one build per overlay.
    Seven parameters: render_overlays' without the pool size."""
    if trace and len(overlays) > 1:
        from gitops.batch import render_batched

        return render_batched(repo, overlays, config, kustomize, runner, cache)
    return render_overlays(repo, overlays, config, kustomize, runner, trace=trace, cache=cache)


def relativize(message: str, repo: Path, command: Command) -> str:
    """Make kustomize's error about one overlay readable: repo-relative paths, no argv echo."""
    prefix = f"{command.quoted()} exited "
    if message.startswith(f"{command.quoted()} timed out after "):
        seconds = message.rsplit(" ", 1)[-1]
        return (
            f"kustomize timed out after {seconds} (kustomize.timeoutSeconds in gitops.yaml, "
            "--render-timeout)"
        )
    if message.startswith(prefix):
        # "<argv> exited 1: <kustomize message>" -> "<kustomize message>"
        message = message[len(prefix) :].split(": ", 1)[-1]
    for root in {str(repo.resolve()), str(repo)}:
        message = message.replace(root + os.sep, "").replace(root, ".")
    return summarize_kustomize_error(" ".join(message.split()))


_ACCUMULATING = re.compile(r"accumulating resources from '(?P<resource>[^']+)'")


def summarize_kustomize_error(message: str) -> str:
    """Shorten kustomize's nested "accumulating resources" chains to the cause a person needs;
    any other message is returned unchanged."""
    match = _ACCUMULATING.search(message)
    if match is None:
        return message
    resource = match.group("resource")
    if "://" in resource or resource.startswith(("git@", "github.com/")):
        cause = message.rsplit("fatal: ", 1)[-1] if "fatal: " in message else message
        return f"remote resource {resource} could not be fetched: {cause.rstrip('.')}"
    missing = re.search(r"lstat (\S+): no such file or directory", message)
    if missing:
        return (
            f"resource {resource!r} listed in its kustomization does not exist "
            f"(expected a file or a kustomization directory at {missing.group(1)})"
        )
    return message


def join_manifests(results: Iterable[RenderedOverlay]) -> str:
    """One multi-document stream; each overlay's documents are preceded by a comment naming it."""
    parts = []
    for result in results:
        if result.manifest is None:
            continue
        body = result.manifest if result.manifest.endswith("\n") else result.manifest + "\n"
        parts.append(f"---\n# Source: {result.overlay.rel_path}\n{body}")
    return "".join(parts)


def write_manifests(results: Iterable[RenderedOverlay], out_dir: Path) -> list[Path]:
    """Write ``<out>/<env>/<service>.yaml`` for each rendered overlay; returns the paths."""
    written = []
    for result in results:
        if result.manifest is None:
            continue
        target = out_dir / result.overlay.env / f"{result.overlay.service}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(result.manifest, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written
