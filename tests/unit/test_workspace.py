"""``gitops.workspace``: the render core. The tools found once, argocd/ built and expanded once,
the units discovered from it, overlays rendered (plain or traced) through one runner; and
``--no-cache`` with its environment alias."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path

import pytest

from gitops.cache import RenderCache
from gitops.config import load_config
from gitops.errors import CommandError, ConfigError
from gitops.helm.binary import HelmNotFoundError
from gitops.kustomize import Kustomize, find_kustomize
from gitops.render import RenderedOverlay
from gitops.runner import Command, CommandResult, Runner, run
from gitops.workspace import Workspace, no_cache_requested
from tests.conftest import FIXTURES


def _workspace(repo: Path, **options: object) -> Workspace:
    return Workspace.open(repo, load_config(repo), use_cache=False, **options)  # type: ignore[arg-type]


def _plain(repo: Path, **options: object) -> list[RenderedOverlay]:
    workspace = _workspace(repo, **options)
    return workspace.render(workspace.layout().overlays, trace=False)


def test_the_environment_alias_of_no_cache() -> None:
    for value in ("1", "true", "YES"):
        assert no_cache_requested({"GITOPS_NO_CACHE": value}), value
    for environ in ({}, {"GITOPS_NO_CACHE": "0"}, {"GITOPS_NO_CACHE": ""}):
        assert not no_cache_requested(environ), environ


def test_open_finds_the_tools_once_and_for_tree_keeps_them(tmp_path: Path) -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    kustomize = find_kustomize(config)

    def runner(command: Command) -> CommandResult:
        return CommandResult(command, 0, "", "")

    cached = Workspace.open(repo, config, kustomize=kustomize, runner=runner)
    assert cached.kustomize is kustomize and cached.cache is not None
    uncached = Workspace.open(repo, config, kustomize=kustomize, use_cache=False)
    assert uncached.cache is None
    other = tmp_path / "base-checkout"
    base = cached.for_tree(other, config)
    # Same binary, runner and cache; the other tree's own root and resolver.
    assert (base.repo, base.kustomize, base.runner) == (other, kustomize, runner)
    assert base.resolver.root == other and base.resolver is not cached.resolver
    assert base.cache is not None and cached.cache is not None
    assert base.cache.directory == cached.cache.directory
    assert base.cache.identity == cached.cache.identity
    assert uncached.for_tree(other, config).cache is None


def test_plain_renders_every_overlay_with_real_kustomize() -> None:
    results = _plain(FIXTURES / "render-ok")
    assert [r.overlay.name for r in results] == ["dev/web", "dev/worker", "prod/web"]
    assert all(r.ok and r.resources == () for r in results)
    dev_web = results[0].manifest or ""
    assert "LOG_LEVEL: debug" in dev_web  # the overlay's patch applied
    assert "namespace: demo" in dev_web
    assert "LOG_LEVEL: info" in (results[2].manifest or "")


def test_traced_renders_are_parsed_once_and_name_their_files() -> None:
    workspace = _workspace(FIXTURES / "render-ok")
    results = workspace.render(workspace.layout().overlays)
    assert all(r.ok and r.manifest is None for r in results)
    configmaps = [r for r in results[0].resources if r.kind == "ConfigMap"]
    assert configmaps and configmaps[0].body["data"]["LOG_LEVEL"] == "debug"
    assert all(r.source and r.overlay_path == "overlays/dev/web" for r in results[0].resources)


def test_one_broken_overlay_never_hides_the_others() -> None:
    for trace in (False, True):
        workspace = _workspace(FIXTURES / "broken-overlays")
        results = {
            r.overlay.service: r for r in workspace.render(workspace.layout().overlays, trace)
        }
        assert results["ok"].ok
        failures = {name: r.failure_line() for name, r in results.items() if not r.ok}
        assert failures["missing-resource"] == (
            "overlays/dev/missing-resource: resource 'deployment.yaml' listed in "
            "overlays/dev/missing-resource/kustomization.yaml does not exist (expected a file "
            "or a kustomization directory at overlays/dev/missing-resource/deployment.yaml)"
        )
        assert failures["malformed-yaml"].startswith(
            "overlays/dev/malformed-yaml: invalid Kustomization: yaml: line 4"
        )
        assert failures["remote-base-offline"].startswith(
            "overlays/dev/remote-base-offline: remote resource "
            "https://git.invalid/example-org/platform//base/web?ref=v1.2.0 could not be fetched"
        )
        assert "\n" not in "".join(failures.values())
        assert str(FIXTURES) not in "".join(failures.values())  # repo-relative only


def test_argv_cwd_timeout_and_options_come_from_config() -> None:
    seen: list[Command] = []
    lock = threading.Lock()

    def fake(command: Command) -> CommandResult:
        with lock:
            seen.append(command)
        return CommandResult(command, 0, "kind: ConfigMap\n", "")

    repo = FIXTURES / "render-ok"
    _plain(repo, kustomize=Kustomize("/bin/kubectl", "test"), runner=fake)
    argvs = sorted(c.argv for c in seen)
    assert argvs[0] == (
        "/bin/kubectl",
        "kustomize",
        "overlays/dev/web",
        "--load-restrictor=LoadRestrictionsRootOnly",
    )
    assert {c.cwd for c in seen} == {repo}
    assert {c.timeout for c in seen} == {120.0}
    assert all(c.env is not None and c.env["GIT_TERMINAL_PROMPT"] == "0" for c in seen)
    assert all(c.env is not None and c.env["GOMEMLIMIT"] == "1536MiB" for c in seen)


def test_timeout_is_reported_per_overlay() -> None:
    def fake(command: Command) -> CommandResult:
        if command.argv[2] == "overlays/prod/web":
            raise CommandError(f"{command.quoted()} timed out after 120s")
        return CommandResult(command, 0, "kind: ConfigMap\n", "")

    results = _plain(FIXTURES / "render-ok", kustomize=Kustomize("/bin/kubectl", "t"), runner=fake)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].error is not None and "timed out after 120s" in results[2].error


def test_argocd_is_built_and_expanded_once_and_feeds_discovery() -> None:
    builds: list[str] = []

    def counting(command: Command) -> CommandResult:
        builds.append(command.argv[2])
        from gitops.runner import run

        return run(command)

    workspace = _workspace(FIXTURES / "render-ok", runner=counting)
    argo = workspace.argocd()
    assert argo is not None and argo.error is None
    assert builds == ["argocd"]
    discovery = workspace.discover(argo)
    assert discovery.source == "argocd"
    assert [o.name for o in discovery.overlays] == ["dev/web", "dev/worker", "prod/web"]
    assert builds == ["argocd"]  # discovery reads the expansion, it builds nothing


def test_an_argocd_build_failure_is_the_states_error(tmp_path: Path) -> None:
    def failing(command: Command) -> CommandResult:
        raise CommandError(f"{command.quoted()} exited 1: boom")

    workspace = _workspace(FIXTURES / "render-ok", runner=failing)
    argo = workspace.argocd()
    assert argo is not None and isinstance(argo.error, ConfigError)
    assert str(argo.error) == "argocd: boom"
    # Discovery falls back to the overlays/ layout, with a note.
    discovery = workspace.discover(argo)
    assert discovery.source == "overlays"
    assert any(
        n.startswith("argocd: not used for discovery (argocd: boom)") for n in discovery.notes
    )
    assert _workspace(tmp_path).argocd() is None


# --- charts (gitops.helm): Argo CD chart sources and kustomize's helmCharts ------------------

CHARTS = FIXTURES / "helm-chart"


def _recording(commands: list[Command]) -> Runner:
    def record(command: Command) -> CommandResult:
        commands.append(command)
        return run(command)

    return record


def test_argocd_is_read_once_per_workspace_and_again_for_another_tree(tmp_path: Path) -> None:
    builds: list[Command] = []
    workspace = _workspace(FIXTURES / "render-ok", runner=_recording(builds))
    assert workspace.argocd() is workspace.argocd()
    assert len(builds) == 1
    workspace.for_tree(FIXTURES / "render-ok", workspace.config).argocd()
    assert len(builds) == 2


def test_a_helmcharts_overlay_renders_byte_identically_to_kustomize_with_the_pinned_helm(
    pinned_helm: Path,
) -> None:
    """gitops render of an overlay with helmCharts is what `kustomize build --enable-helm
    --helm-command <pinned helm>` prints (gitops adds Argo CD's --helm-kube-version and
    --helm-api-versions; the chart does not read .Capabilities, so they change no byte)."""
    workspace = _workspace(CHARTS)
    (staging,) = [o for o in workspace.discover(workspace.argocd()).overlays if o.env == "staging"]
    (result,) = workspace.render([staging], trace=False)
    argv = (
        workspace.kustomize.binary, "kustomize", "overlays/staging/web",
        "--enable-helm", "--load-restrictor=LoadRestrictionsNone",
        "--helm-command", str(pinned_helm),
    )  # fmt: skip
    reference = run(Command(argv, cwd=CHARTS, timeout=120)).stdout
    assert result.ok and result.manifest == reference
    assert "kind: PodDisruptionBudget" in reference  # the overlay's valuesInline enabled it


def test_kustomize_gets_the_pinned_helm_and_argo_cds_helm_flags(pinned_helm: Path) -> None:
    commands: list[Command] = []
    workspace = _workspace(CHARTS, runner=_recording(commands))
    units = workspace.discover(workspace.argocd()).overlays
    workspace.render([o for o in units if o.env == "staging"], trace=False)
    argv = commands[-1].argv
    assert argv[argv.index("--helm-command") + 1] == str(pinned_helm)
    assert argv[argv.index("--helm-kube-version") + 1] == "1.36"
    versions = {argv[i + 1] for i, a in enumerate(argv) if a == "--helm-api-versions"}
    assert {"apps/v1", "apps/v1/Deployment", "policy/v1/PodDisruptionBudget"} <= versions
    assert set(workspace.api_versions()) == versions


def test_chart_sources_render_as_each_application_says_and_name_their_templates(
    pinned_helm: Path,
) -> None:
    workspace = _workspace(CHARTS)
    discovery = workspace.discover(workspace.argocd())
    assert [(o.name, o.rel_path, o.key) for o in discovery.overlays] == [
        ("dev/web", "charts/web", "charts/web@dev-web"),
        ("staging/web", "overlays/staging/web", "overlays/staging/web"),
        ("prod/web", "charts/web", "charts/web@prod-web"),
    ]
    dev, staging, prod = workspace.render(discovery.overlays)
    kinds = {r.overlay.name: sorted(x.kind for x in r.resources) for r in (dev, staging, prod)}
    assert kinds == {  # the Helm test pod is rendered, and left out: Argo CD never applies it
        "dev/web": ["Deployment", "Service"],
        "staging/web": ["Deployment", "PodDisruptionBudget", "Service"],
        "prod/web": ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"],
    }
    dev_deployment = next(r for r in dev.resources if r.kind == "Deployment")
    assert dev_deployment.name == "dev-web"  # the release name defaults to the Application's
    assert dev_deployment.spec["replicas"] == 1  # values-dev.yaml over values.yaml
    assert dev_deployment.source == "charts/web/templates/deployment.yaml"
    assert dev_deployment.patches == ("charts/web/values.yaml", "charts/web/values-dev.yaml")
    assert dev_deployment.overlay_path == "charts/web@dev-web"
    prod_deployment = next(r for r in prod.resources if r.kind == "Deployment")
    assert "replicas" not in prod_deployment.spec  # the HPA owns it (values-prod.yaml)
    pdb = next(r for r in prod.resources if r.kind == "PodDisruptionBudget")
    assert pdb.spec["minAvailable"] == 2  # valuesObject over the value files
    # kustomize's helmCharts: the template, found by helm's own render of the entry.
    assert {r.kind: r.source for r in staging.resources} == {
        "Service": "charts/web/templates/service.yaml",
        "Deployment": "charts/web/templates/deployment.yaml",
        "PodDisruptionBudget": "charts/web/templates/pdb.yaml",
    }


APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: web
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements: [{env: dev}, {env: prod}]
  template:
    metadata:
      name: "{{.env}}-web"
    spec:
      project: default
      source:
        repoURL: https://git.example.test/team/web.git
        targetRevision: HEAD
        path: charts/web
        helm:
          valueFiles: ["values-{{.env}}.yaml"]
      destination:
        name: "{{.env}}"
        namespace: web
"""


def test_an_applicationsets_chart_sources_render_with_each_generated_applications_values(
    pinned_helm: Path, tmp_path: Path
) -> None:
    """An ApplicationSet template whose path is a chart folder: one chart unit per generated
    Application, each with its own value file and release name (the Application's name)."""
    repo = tmp_path / "repo"
    shutil.copytree(CHARTS, repo, ignore=shutil.ignore_patterns("overlays"))
    (repo / "argocd" / "apps.yaml").write_text(APPSET)
    (repo / "gitops.yaml").write_text(
        "envs: [dev, prod]\nrepoURL: https://git.example.test/team/web.git\n"
    )
    workspace = _workspace(repo)
    units = workspace.discover(workspace.argocd()).overlays
    assert [(o.name, o.key) for o in units] == [
        ("dev/web", "charts/web@dev-web"),
        ("prod/web", "charts/web@prod-web"),
    ]
    dev, prod = workspace.render(units)
    assert dev.ok and prod.ok
    deployments = {
        r.overlay.env: next(x for x in r.resources if x.kind == "Deployment") for r in (dev, prod)
    }
    assert deployments["dev"].name == "dev-web" and deployments["dev"].spec["replicas"] == 1
    assert deployments["prod"].name == "prod-web" and "replicas" not in deployments["prod"].spec
    assert sorted(x.kind for x in prod.resources) == [
        "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service",
    ]  # fmt: skip


def test_a_unit_that_needs_helm_without_one_is_one_error_naming_it() -> None:
    workspace = dataclasses.replace(_workspace(CHARTS), helm=None)
    units = {o.env: o for o in workspace.discover(workspace.argocd()).overlays}
    with pytest.raises(HelmNotFoundError) as chart_source:
        workspace.render([units["dev"]])
    assert str(chart_source.value).startswith(
        "charts/web (Argo CD Application dev-web): an Argo CD chart source needs helm, and no "
        "helm binary was found: run `make helm`"
    )
    assert chart_source.value.exit_code == 2
    for trace in (True, False):
        with pytest.raises(
            HelmNotFoundError, match=r"^overlays/staging/web: helmCharts \(kustomize"
        ):
            workspace.render([units["staging"]], trace=trace)


def test_chart_renders_are_cached_by_the_chart_files_and_the_applications_values(
    pinned_helm: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CHARTS, repo)
    commands: list[Command] = []
    cache = RenderCache.for_checkout(repo, load_config(repo), find_kustomize(load_config(repo)))
    cache = dataclasses.replace(cache, directory=tmp_path / "cache")

    def render() -> list[str]:
        workspace = dataclasses.replace(
            _workspace(repo, runner=_recording(commands)), cache=cache.for_root(repo)
        )
        units = [o for o in workspace.discover(workspace.argocd()).overlays if o.chart]
        before = len(commands)
        workspace.render(units)
        return [c.argv[0] for c in commands[before:]]

    assert len(render()) == 2  # dev and prod, one helm each
    assert render() == []  # nothing changed: both from the cache
    values = repo / "argocd" / "apps.yaml"
    values.write_text(values.read_text().replace("minAvailable: 2", "minAvailable: 3"))
    assert render() == [str(pinned_helm)]  # prod's valuesObject changed, dev's render did not
    template = repo / "charts" / "web" / "templates" / "service.yaml"
    template.write_text(template.read_text().replace("name: http", "name: web"))
    assert len(render()) == 2  # a chart file: both
