"""The render core: one checkout, and the only owner of what renders it.

A :class:`Workspace` holds the checkout's root and config, its one input resolver
(gitops.inputs), the kustomize binary, the render cache (None when ``--no-cache``), the
subprocess runner and the schema validator. It is the only entry point of rendering:

* :meth:`Workspace.argocd`: argocd/ built (through the cache) and its ApplicationSets expanded,
  once per snapshot;
* :meth:`Workspace.discover`: the units, from that expansion (Argo CD is authoritative) or the
  ``overlays/`` layout (:meth:`Workspace.layout`);
* :meth:`Workspace.render`: overlays rendered, traced (parsed once, every resource naming its
  files) or plain (``gitops render``'s bytes), through the cache, an env's overlays in one
  kustomize process where that is safe (gitops.batch).

Per-overlay and batched builds are private methods; nothing else runs kustomize, looks the
binary up again or reads an option from the environment (``GITOPS_NO_CACHE`` is read once, by
the CLI, as the documented alias of ``--no-cache``).

    >>> workspace = Workspace.open(repo, load_config(repo), use_cache=not args.no_cache)
    >>> argo = workspace.argocd()
    >>> results = workspace.render(workspace.discover(argo).overlays)
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.argocd import ArgoState, expand_applications, parse_argocd_objects, read_argocd_files
from gitops.batch import MIN_BATCH, split_batch, write_batch
from gitops.cache import RenderCache
from gitops.config import RepoConfig
from gitops.discovery import Discovery, discover_units, layout_units
from gitops.errors import CommandError, ConfigError, GitopsError
from gitops.inputs import InputResolver
from gitops.kustomization import KUSTOMIZATION_FILES, find_kustomization
from gitops.kustomization_keys import KeyProblem, kustomization_key_problems
from gitops.kustomize import Kustomize, find_kustomize
from gitops.model import Overlay
from gitops.render import (
    WRAPPER_KUSTOMIZATION,
    RenderedOverlay,
    relativize,
    resources_from_entry,
    traced_entry,
)
from gitops.runner import Runner, run
from gitops.tracing import trace_manifest
from gitops.upstream import UpstreamValidator

# Validates one document, returning one message per problem (see gitops.schema).
DocumentValidator = Callable[[dict[str, Any]], list[str]]
# Learns a CustomResourceDefinition rendered with the resources; returns its problems.
CrdLearner = Callable[[dict[str, Any], str], list[str]]


def no_cache_requested(environ: Mapping[str, str] | None = None) -> bool:
    """``GITOPS_NO_CACHE=1``: the environment alias of ``--no-cache``, read at the CLI boundary
    only (and by library callers that want the same switch)."""
    env = os.environ if environ is None else environ
    return env.get("GITOPS_NO_CACHE", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class _Build:
    """One kustomize process: its output, or its error in words a person reads."""

    stdout: str | None
    error: str | None
    seconds: float


@dataclass(frozen=True)
class Workspace:
    repo: Path
    config: RepoConfig
    kustomize: Kustomize
    resolver: InputResolver = field(repr=False)
    cache: RenderCache | None = field(default=None, repr=False)
    runner: Runner = field(default=run, repr=False)
    validator: DocumentValidator | None = field(default=None, repr=False)
    learn_crd: CrdLearner | None = field(default=None, repr=False)
    # kube-apiserver's verdicts (gitops.upstream) instead of the Python validator's.
    upstream: UpstreamValidator | None = field(default=None, repr=False)
    # Read once per checkout: the layout's units, and the key problems per kustomization
    # file (gitops.kustomization_keys). for_tree gives another checkout fresh ones.
    _layout: list[Discovery] = field(default_factory=list, repr=False, compare=False)
    _key_problems: dict[str, list[KeyProblem]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    # Over six parameters: the docstring says why (one per option, no hidden state).
    def open(  # noqa: PLR0913
        cls,
        repo: Path,
        config: RepoConfig,
        *,
        kustomize: Kustomize | None = None,
        use_cache: bool = True,
        runner: Runner = run,
        validator: DocumentValidator | None = None,
        learn_crd: CrdLearner | None = None,
        upstream: UpstreamValidator | None = None,
    ) -> Workspace:
        """The one place the kustomize binary is looked up (unless the caller has it). Eight
        parameters, all but two keyword-only: one per option, each optional."""
        kustomize = kustomize or find_kustomize(config)
        cache = RenderCache.for_checkout(repo, config, kustomize) if use_cache else None
        resolver = InputResolver(repo)
        return cls(repo, config, kustomize, resolver, cache, runner, validator, learn_crd, upstream)

    def for_tree(self, root: Path, config: RepoConfig) -> Workspace:
        """The same tools over another checkout (``gitops diff``'s base side): same binary,
        runner, validator and cache, whose keys do not depend on where a checkout sits."""
        cache = self.cache.for_root(root) if self.cache is not None else None
        return dataclasses.replace(
            self,
            repo=root,
            config=config,
            resolver=InputResolver(root),
            cache=cache,
            _layout=[],
            _key_problems={},
        )

    # --- what the checkout deploys -------------------------------------------------------

    def layout(self) -> Discovery:
        """The ``overlays/`` layout's units (discovery rule 2), from the files alone; read
        once per workspace (a command that edits files views them through for_tree)."""
        if not self._layout:
            self._layout.append(layout_units(self.resolver, self.config))
        return self._layout[0]

    def argocd(self) -> ArgoState | None:
        """argocd/ built once and its ApplicationSets expanded once; None without argocd/.
        A build or expansion that fails is the state's ``error``, reported by the caller."""
        if not (self.repo / self.config.argocd_path).is_dir():
            return None
        objects: list[dict[str, Any]] = []
        try:
            objects = self._argocd_objects()
            expansion = expand_applications(self.repo, self.config, objects)
        except GitopsError as exc:
            return ArgoState(objects=tuple(objects), error=exc)
        return ArgoState(tuple(objects), expansion.applications, expansion.problems)

    def discover(self, argo: ArgoState | None, layout: Discovery | None = None) -> Discovery:
        """The units: the local paths ``argo``'s Applications sync, else the layout's."""
        return discover_units(layout or self.layout(), argo, self.resolver, self.config)

    def key_problems(self, overlay: Overlay) -> tuple[KeyProblem, ...]:
        """Keys kustomize reads silently wrong (duplicates, a field spelled twice) in every
        kustomization the overlay reads and the patches they name."""
        found: list[KeyProblem] = []
        for rel in sorted(self.resolver.overlay_inputs(overlay.rel_path).files):
            if posixpath.basename(rel) not in KUSTOMIZATION_FILES:
                continue
            if rel not in self._key_problems:
                self._key_problems[rel] = kustomization_key_problems(self.repo, rel)
            found += self._key_problems[rel]
        return tuple(found)

    # --- rendering -------------------------------------------------------------------------

    def render(self, overlays: Sequence[Overlay], trace: bool = True) -> list[RenderedOverlay]:
        """Render ``overlays``, results in their order. Traced: through the cache, then one
        kustomize process per env where safe (gitops.batch), else one per overlay. Plain
        (``gitops render``): one build per overlay, its bytes as kustomize printed them."""
        if not overlays:
            return []
        if not trace:
            return self._in_parallel(self._render_plain, [[o] for o in overlays])
        done: dict[str, RenderedOverlay] = {}
        groups: dict[str, list[Overlay]] = {}
        for overlay in overlays:
            hit = self._cached(overlay)
            if hit is not None:
                done[overlay.rel_path] = hit
                continue
            inputs = self.resolver.overlay_inputs(overlay.rel_path)
            batchable = not inputs.remote and not inputs.unresolved
            group = overlay.env if batchable else f"\0{overlay.rel_path}"
            groups.setdefault(group, []).append(overlay)
        for result in self._in_parallel(self._render_group, list(groups.values())):
            done[result.overlay.rel_path] = result
        return [dataclasses.replace(done[o.rel_path], overlay=o) for o in overlays]

    def _in_parallel(
        self,
        work: Callable[[list[Overlay]], list[RenderedOverlay]],
        groups: list[list[Overlay]],
    ) -> list[RenderedOverlay]:
        """``work`` on each group, in threads (kustomize is a subprocess), flattened in order."""
        workers = max(1, min(len(groups), (os.cpu_count() or 1) * 2))
        if workers == 1:
            return [r for group in groups for r in work(group)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kustomize") as pool:
            return [r for results in pool.map(work, groups) for r in results]

    def _render_plain(self, group: list[Overlay]) -> list[RenderedOverlay]:
        (overlay,) = group
        key = self._key(overlay.rel_path, trace=False)
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        if entry is not None and isinstance(entry.get("manifest"), str):
            return [RenderedOverlay(overlay, entry["manifest"], None, 0.0)]
        build = self._build(overlay.rel_path)
        if build.stdout is not None and self.cache is not None and key is not None:
            self.cache.put(key, {"manifest": build.stdout})
        return [RenderedOverlay(overlay, build.stdout, build.error, build.seconds)]

    def _render_group(self, group: list[Overlay]) -> list[RenderedOverlay]:
        """One env's uncached overlays: one batch, else (or for one overlay) each alone."""
        if len(group) >= MIN_BATCH:
            batched = self._render_batch(group)
            if batched is not None:
                return batched
        return [self._render_traced(overlay) for overlay in group]

    def _render_traced(self, overlay: Overlay) -> RenderedOverlay:
        """A build through a throw-away kustomization in a temp dir that turns on kustomize's
        build metadata, leaving the user's files alone; if it fails, the plain build runs so
        the error reads as it does for ``gitops render``, within what is left of the timeout."""
        timeout = self.config.kustomize.timeout
        wrapper = Path(tempfile.mkdtemp(prefix="gitops-trace-"))
        try:
            # kustomize refuses absolute resource paths; a relative one may climb out of root.
            target = os.path.relpath(self.repo.resolve() / overlay.rel_path, wrapper)
            (wrapper / "kustomization.yaml").write_text(
                WRAPPER_KUSTOMIZATION.format(target=target), encoding="utf-8"
            )
            build = self._build(str(wrapper), timeout)
            if build.stdout is not None:
                return self._traced(overlay, build.stdout, str(wrapper), build.seconds)
        finally:
            shutil.rmtree(wrapper, ignore_errors=True)
        remaining = timeout - build.seconds
        error = build.error or ""
        if remaining < 1 or "timed out after" in error or "ran out of memory" in error:
            return RenderedOverlay(overlay, None, build.error, build.seconds)
        plain = self._build(overlay.rel_path, remaining)
        return RenderedOverlay(overlay, None, plain.error, build.seconds + plain.seconds)

    def _render_batch(self, group: list[Overlay]) -> list[RenderedOverlay] | None:
        """One build of the group's overlays, split per overlay; None when they must be built
        one by one (any failure, or output that cannot be attributed). The batch gets one
        overlay's time budget: one that needs more is abandoned for per-overlay builds."""
        root = Path(tempfile.mkdtemp(prefix="gitops-batch-"))
        try:
            key = write_batch(root, self.repo, [o.rel_path for o in group])
            build = self._build(str(root))
            if build.stdout is None:
                return None
            parts = split_batch(build.stdout, key, len(group))
            if parts is None:
                return None
            seconds = build.seconds / len(group)
            return [
                self._traced(overlay, part, str(root), seconds)
                for overlay, part in zip(group, parts, strict=True)
            ]
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _traced(
        self, overlay: Overlay, text: str, origin_root: str, seconds: float
    ) -> RenderedOverlay:
        """Parse and trace a successful traced build (while its origin folder still exists)
        and store it in the cache, relative to the checkout."""
        resources, problems = trace_manifest(self.repo, origin_root, overlay, text)
        key = self._key(overlay.rel_path, trace=True)
        entry = traced_entry(resources, problems)
        if self.cache is not None and key is not None and entry is not None:
            self.cache.put(key, entry)
        return RenderedOverlay(overlay, None, None, seconds, tuple(resources), tuple(problems))

    def _cached(self, overlay: Overlay) -> RenderedOverlay | None:
        key = self._key(overlay.rel_path, trace=True)
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        decoded = resources_from_entry(overlay, entry) if entry is not None else None
        if decoded is None:
            return None
        resources, problems = decoded
        return RenderedOverlay(overlay, None, None, 0.0, resources, problems)

    def _key(self, rel_path: str, trace: bool) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key(rel_path, trace, self.resolver.overlay_inputs(rel_path))

    def _build(self, directory: str, timeout: float | None = None) -> _Build:
        """One ``kustomize build`` of ``directory`` (repo-relative, or a temporary wrapper)
        through the runner: every kustomize process of a command passes here."""
        command = self.kustomize.build_command(directory, self.config.kustomize, self.repo, timeout)
        started = time.perf_counter()
        try:
            stdout = self.runner(command).stdout
        except CommandError as exc:
            message = relativize(str(exc), self.repo, command)
            return _Build(None, message, time.perf_counter() - started)
        return _Build(stdout, None, time.perf_counter() - started)

    def _argocd_objects(self) -> list[dict[str, Any]]:
        """``kustomize build argocd/`` (through the cache) when it has a kustomization, else
        every YAML file in the folder."""
        argocd_path = self.config.argocd_path
        if find_kustomization(self.repo / argocd_path) is None:
            return read_argocd_files(self.repo, self.config)
        key = self._key(argocd_path, trace=False)
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        text = entry.get("manifest") if entry is not None else None
        if not isinstance(text, str):
            build = self._build(argocd_path)
            if build.stdout is None:
                raise ConfigError(f"{argocd_path}: {build.error}")
            text = build.stdout
            if self.cache is not None and key is not None:
                self.cache.put(key, {"manifest": text})
        return parse_argocd_objects(text, argocd_path)
