"""The render core: one checkout, and the only owner of what renders it.

A :class:`Workspace` holds the checkout's root and config, its one input resolver
(gitops.inputs), the kustomize and helm binaries, the render cache (None when ``--no-cache``),
the subprocess runner and the schema validator. It is the only entry point of rendering:

* :meth:`Workspace.argocd`: argocd/ built (through the cache) and its ApplicationSets expanded,
  once per snapshot;
* :meth:`Workspace.discover`: the units, from that expansion (Argo CD is authoritative) or the
  ``overlays/`` layout (:meth:`Workspace.layout`);
* :meth:`Workspace.render`: units rendered, traced (parsed once, every resource naming its
  files) or plain (``gitops render``'s bytes), through the cache, an env's overlays in one
  kustomize process where that is safe (gitops.batch); an Argo CD chart source with Argo CD's
  ``helm template`` (gitops.helm), an overlay with ``helmCharts`` through kustomize with the
  pinned helm.

Per-unit and batched builds are private methods; nothing else runs kustomize or helm, looks a
binary up again or reads an option from the environment (``GITOPS_NO_CACHE`` and ``HELM`` are
read once, by the CLI).

    >>> workspace = Workspace.open(repo, load_config(repo), use_cache=not args.no_cache)
    >>> argo = workspace.argocd()
    >>> results = workspace.render(workspace.discover(argo).overlays)
"""

from __future__ import annotations

import dataclasses
import json
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

from gitops.argocd import (
    Application,
    ArgoState,
    expand_applications,
    parse_argocd_objects,
    read_argocd_files,
)
from gitops.batch import MIN_BATCH, split_batch, write_batch
from gitops.cache import RenderCache, binary_identity
from gitops.config import RepoConfig
from gitops.discovery import Discovery, discover_units, layout_units
from gitops.errors import CommandError, ConfigError, GitopsError
from gitops.helm.application import chart_source, is_chart_source, parse_kube_version
from gitops.helm.binary import Helm, find_helm, missing_helm
from gitops.helm.capabilities import api_versions, repo_crds
from gitops.helm.inflation import InflatedChart, inflated_charts
from gitops.helm.output import chart_name, chart_paths_in_repo, error_location
from gitops.helm.render import HelmRun, inflated_templates, render_chart, template_of
from gitops.helm.source import ChartSource
from gitops.inputs import InputResolver, InputSet
from gitops.kustomization import KUSTOMIZATION_FILES, find_kustomization, load_kustomization
from gitops.kustomization_keys import KeyProblem, kustomization_key_problems
from gitops.kustomize import Kustomize, find_kustomize
from gitops.model import Location, Overlay, ResourceKey
from gitops.render import (
    WRAPPER_KUSTOMIZATION,
    RenderedOverlay,
    relativize,
    resources_from_entry,
    traced_entry,
)
from gitops.runner import Runner, run
from gitops.tracing import HelmSource, trace_chart, trace_manifest
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
    location: Location | None = None  # a chart template's line the error names


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
    # The helm that renders charts (gitops.helm.binary); None: none configured or built, and a
    # unit that needs one is an error naming it (never skipped).
    helm: Helm | None = None
    # Read once per checkout: the layout's units, argocd/, the key problems per kustomization
    # file (gitops.kustomization_keys) and the API versions charts see (gitops.helm.capabilities).
    # for_tree gives another checkout fresh ones.
    _layout: list[Discovery] = field(default_factory=list, repr=False, compare=False)
    _key_problems: dict[str, list[KeyProblem]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _api_versions: list[tuple[str, ...]] = field(default_factory=list, repr=False, compare=False)
    _argocd: list[ArgoState | None] = field(default_factory=list, repr=False, compare=False)

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
        helm: str | None = None,
    ) -> Workspace:
        """The one place the kustomize and helm binaries are looked up (unless the caller has
        the kustomize); ``helm``: ``$HELM``, read by the CLI. Nine parameters, all but two
        keyword-only: one per option, each optional."""
        kustomize = kustomize or find_kustomize(config)
        cache = RenderCache.for_checkout(repo, config, kustomize) if use_cache else None
        resolver = InputResolver(repo)
        found = find_helm(config, override=helm)
        return cls(
            repo, config, kustomize, resolver, cache, runner, validator, learn_crd, upstream, found
        )

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
            _api_versions=[],
            _argocd=[],
        )

    # --- what the checkout deploys -------------------------------------------------------

    def layout(self) -> Discovery:
        """The ``overlays/`` layout's units (discovery rule 2), from the files alone; read
        once per workspace (a command that edits files views them through for_tree)."""
        if not self._layout:
            self._layout.append(layout_units(self.resolver, self.config))
        return self._layout[0]

    def argocd(self) -> ArgoState | None:
        """argocd/ built once and its ApplicationSets expanded once per workspace; None
        without argocd/. A build or expansion that fails is the state's ``error``, reported by
        the caller."""
        if not self._argocd:
            self._argocd.append(self._read_argocd())
        return self._argocd[0]

    def _read_argocd(self) -> ArgoState | None:
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
        """The units: the local paths ``argo``'s Applications sync (kustomizations, and chart
        folders as each Application renders them), else the layout's."""
        return discover_units(
            layout or self.layout(), argo, self.resolver, self.config, self.chart_source
        )

    def chart_source(self, app: Application) -> ChartSource | None:
        """How Argo CD renders ``app``'s path with helm, when it does (gitops.helm.application)."""
        if not is_chart_source(self.repo, app):
            return None
        return chart_source(app, self.config, self.api_versions(), self.repo)

    def api_versions(self) -> tuple[str, ...]:
        """The API versions a chart sees (``--api-versions``), once per checkout."""
        if not self._api_versions:
            crds = repo_crds(self.repo, self.config)
            self._api_versions.append(api_versions(self.config.kubernetes_version, crds))
        return self._api_versions[0]

    def unit_inputs(self, overlay: Overlay) -> InputSet:
        """Every file a unit's render reads: a kustomization's input set, or a chart source's
        chart folder, value files and ``--set-file`` files."""
        source = overlay.chart
        if source is None:
            return self.resolver.overlay_inputs(overlay.rel_path)
        return InputSet(
            files=frozenset(source.input_files()),
            directories=frozenset({source.chart_dir}),
            remote=frozenset(source.remote),
        )

    def key_problems(self, overlay: Overlay) -> tuple[KeyProblem, ...]:
        """Keys kustomize reads silently wrong (duplicates, a field spelled twice) in every
        kustomization the overlay reads and the patches they name."""
        found: list[KeyProblem] = []
        for rel in sorted(self.unit_inputs(overlay).files):
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
                done[overlay.key] = hit
                continue
            inputs = self.unit_inputs(overlay)
            batchable = overlay.chart is None and not (
                inputs.remote or inputs.unresolved or inputs.inflates_charts
            )
            group = overlay.env if batchable else f"\0{overlay.key}"
            groups.setdefault(group, []).append(overlay)
        for result in self._in_parallel(self._render_group, list(groups.values())):
            done[result.overlay.key] = result
        return [dataclasses.replace(done[o.key], overlay=o) for o in overlays]

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
        key = self._unit_key(overlay, trace=False)
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        if entry is not None and isinstance(entry.get("manifest"), str):
            return [RenderedOverlay(overlay, entry["manifest"], None, 0.0)]
        refused = self._refusal(overlay)
        if refused is not None:
            return [refused]
        if overlay.chart is not None:
            build = self._helm_template(overlay, overlay.chart)
        else:
            build = self._build(overlay.rel_path)
        if build.stdout is not None and self.cache is not None and key is not None:
            self.cache.put(key, {"manifest": build.stdout})
        return [self._result(overlay, build)]

    def _render_group(self, group: list[Overlay]) -> list[RenderedOverlay]:
        """One env's uncached overlays: one batch, else (or for one overlay) each alone."""
        if group[0].chart is not None:
            return [self._render_chart(overlay) for overlay in group]
        if len(group) >= MIN_BATCH:
            batched = self._render_batch(group)
            if batched is not None:
                return batched
        return [self._render_traced(overlay) for overlay in group]

    def _render_chart(self, overlay: Overlay) -> RenderedOverlay:
        """An Argo CD chart source, traced: helm's output, each object naming its template."""
        source = overlay.chart
        assert source is not None
        refused = self._refusal(overlay)
        if refused is not None:
            return refused
        build = self._helm_template(overlay, source)
        if build.stdout is None:
            return self._result(overlay, build)
        values = posixpath.join(source.chart_dir, "values.yaml")
        defaults = (values,) if (self.repo / values).is_file() else ()
        resources, problems = trace_chart(
            overlay, build.stdout, source.chart, source.chart_dir, (*defaults, *source.value_files)
        )
        return self._store_traced(overlay, resources, problems, build.seconds)

    def _render_traced(self, overlay: Overlay) -> RenderedOverlay:
        """A build through a throw-away kustomization in a temp dir that turns on kustomize's
        build metadata, leaving the user's files alone; if it fails, the plain build runs so
        the error reads as it does for ``gitops render``, within what is left of the timeout."""
        refused = self._refusal(overlay)
        if refused is not None:
            return refused
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
                return self._traced(
                    overlay, build.stdout, str(wrapper), build.seconds, self._helm_sources(overlay)
                )
        finally:
            shutil.rmtree(wrapper, ignore_errors=True)
        remaining = timeout - build.seconds
        error = build.error or ""
        if remaining < 1 or "timed out after" in error or "ran out of memory" in error:
            return self._result(overlay, build)
        plain = self._build(overlay.rel_path, remaining)
        return self._result(
            overlay, dataclasses.replace(plain, seconds=build.seconds + plain.seconds)
        )

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
        self,
        overlay: Overlay,
        text: str,
        origin_root: str,
        seconds: float,
        helm_source: HelmSource | None = None,
    ) -> RenderedOverlay:
        """Parse and trace a successful traced build (while its origin folder still exists)
        and store it in the cache, relative to the checkout."""
        resources, problems = trace_manifest(self.repo, origin_root, overlay, text, helm_source)
        return self._store_traced(overlay, resources, problems, seconds)

    def _store_traced(
        self, overlay: Overlay, resources: list[Any], problems: list[str], seconds: float
    ) -> RenderedOverlay:
        key = self._unit_key(overlay, trace=True)
        entry = traced_entry(resources, problems)
        if self.cache is not None and key is not None and entry is not None:
            self.cache.put(key, entry)
        return RenderedOverlay(overlay, None, None, seconds, tuple(resources), tuple(problems))

    def _cached(self, overlay: Overlay) -> RenderedOverlay | None:
        key = self._unit_key(overlay, trace=True)
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        decoded = resources_from_entry(overlay, entry) if entry is not None else None
        if decoded is None:
            return None
        resources, problems = decoded
        return RenderedOverlay(overlay, None, None, 0.0, resources, problems)

    def _unit_key(self, overlay: Overlay, trace: bool) -> str | None:
        """A unit's cache key: its inputs, and for a unit helm renders, the helm binary and
        what the render passes it."""
        if self.cache is None:
            return None
        inputs = self.unit_inputs(overlay)
        arguments = ""
        if self.helm is not None and (overlay.chart is not None or inputs.inflates_charts):
            detail = overlay.chart.identity() if overlay.chart is not None else self._helm_flags()
            arguments = json.dumps([binary_identity(self.helm.binary), detail])
        return self.cache.key(overlay.key, trace, inputs, arguments)

    def _key(self, rel_path: str, trace: bool) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key(rel_path, trace, self.resolver.overlay_inputs(rel_path))

    # --- processes ---------------------------------------------------------------------------

    def _build(self, directory: str, timeout: float | None = None) -> _Build:
        """One ``kustomize build`` of ``directory`` (repo-relative, or a temporary wrapper)
        through the runner: every kustomize process of a command passes here. With
        ``--enable-helm``, kustomize gets the pinned helm and Argo CD's helm flags."""
        command = self.kustomize.build_command(
            directory, self.config.kustomize, self.repo, timeout, self._helm_flags()
        )
        started = time.perf_counter()
        try:
            stdout = self.runner(command).stdout
        except CommandError as exc:
            message = relativize(str(exc), self.repo, command)
            return _Build(None, message, time.perf_counter() - started)
        return _Build(stdout, None, time.perf_counter() - started)

    def _helm_template(self, overlay: Overlay, source: ChartSource) -> _Build:
        """An Argo CD chart source's ``helm template`` (gitops.helm.render)."""
        helm = self._helm_for(overlay, "an Argo CD chart source")
        rendered = render_chart(
            HelmRun(helm, self.config.kustomize, self.runner), self.repo, source
        )
        return _Build(rendered.stdout, rendered.error, rendered.seconds, rendered.location)

    def _helm_flags(self) -> tuple[str, ...]:
        """What kustomize gets when ``--enable-helm`` is on: ``--helm-command`` (the pinned
        helm) and what Argo CD adds for kustomize >= v5.3.0 (argo-cd util/kustomize
        parseKustomizeBuildOptions: ``--helm-kube-version``, one ``--helm-api-versions`` per
        API version of the cluster)."""
        if not self.config.kustomize.helm_enabled or self.helm is None:
            return ()
        flags = ["--helm-command", self.helm.binary]
        kube_version, _problem = parse_kube_version(self.config.kubernetes_version)
        if kube_version:
            flags += ["--helm-kube-version", kube_version]
        for version in self.api_versions():
            flags += ["--helm-api-versions", version]
        return tuple(flags)

    def _helm_for(self, overlay: Overlay, why: str) -> Helm:
        """The helm a unit needs, or the one line saying there is none (exit 2)."""
        if self.helm is None:
            raise missing_helm(overlay.label, why)
        return self.helm

    def _refusal(self, overlay: Overlay) -> RenderedOverlay | None:
        """A unit gitops will not render: it reads a chart, value file or dependency from
        outside the repository (reported like a remote base that cannot be fetched), or Argo
        CD refuses its helm arguments. A kustomize overlay inflating charts needs helm."""
        if overlay.chart is not None:
            return self._chart_refusal(overlay, overlay.chart)
        inputs = self.unit_inputs(overlay)
        if not (inputs.inflates_charts and self.config.kustomize.helm_enabled):
            return None
        if inputs.remote_charts:
            chart = sorted(inputs.remote_charts)[0]
            reason = f"helmCharts: {chart} is not in the repository (kustomize would pull it)"
            return RenderedOverlay(overlay, None, _offline(reason), 0.0)
        self._helm_for(overlay, "helmCharts (kustomize --enable-helm)")
        return None

    def _chart_refusal(self, overlay: Overlay, source: ChartSource) -> RenderedOverlay | None:
        if source.remote:
            message = _offline(source.remote[0])
        elif source.problems:
            message = source.problems[0]
        else:
            return None
        chart_file = posixpath.join(source.chart_dir, "Chart.yaml")
        location = Location(chart_file, 1) if (self.repo / chart_file).is_file() else None
        return RenderedOverlay(overlay, None, message, 0.0, location=location)

    def _result(self, overlay: Overlay, build: _Build) -> RenderedOverlay:
        """A plain build, or a failed one, as a result: a failed kustomize build of charts
        names the charts' files by their repo paths and is located on the template line
        helm's message names."""
        error, location = build.error, build.location
        if error is not None and overlay.chart is None:
            for chart_dir in sorted(self.unit_inputs(overlay).charts):
                name = chart_name(self.repo, chart_dir)
                location = location or error_location(error, name, chart_dir, self.repo)
                error = chart_paths_in_repo(error, name, chart_dir)
        return RenderedOverlay(overlay, build.stdout, error, build.seconds, location=location)

    def _helm_sources(self, overlay: Overlay) -> HelmSource | None:
        """For a traced overlay inflating charts: the template of each object kustomize made
        from a chart, by helm's own render of the kustomization's entries (rendered on the
        first object that asks, once per kustomization)."""
        if not self.unit_inputs(overlay).charts or self.helm is None:
            return None
        run = HelmRun(self.helm, self.config.kustomize, self.runner)
        flags = self._helm_flags()
        known: dict[str, dict[ResourceKey, str]] = {}

        def source(kustomization: str, body: dict[str, Any]) -> str | None:
            if kustomization not in known:
                known[kustomization] = {}
                for chart in self._charts_of(kustomization):
                    if chart.local:
                        known[kustomization].update(
                            inflated_templates(run, self.repo, chart, flags)
                        )
            return template_of(known[kustomization], body)

        return source

    def _charts_of(self, kustomization: str) -> list[InflatedChart]:
        document = load_kustomization(self.repo / kustomization)
        if document is None:
            return []
        return inflated_charts(self.repo, posixpath.dirname(kustomization), document)

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


def _offline(reason: str) -> str:
    """The words for a unit that reads something from outside the repository."""
    return (
        f"{reason}: gitops renders charts and their values only from the repository and never "
        "fetches them (offline by design, like remote bases); vendor it into the repository"
    )
