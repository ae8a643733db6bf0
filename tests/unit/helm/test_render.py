"""``gitops.helm.render``: helm's processes as the Workspace runs them, with the pinned helm
(the happy paths) and a fake runner (what the runner is given)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gitops.config import KustomizeSettings
from gitops.errors import CommandError
from gitops.helm.binary import Helm
from gitops.helm.inflation import inflated_charts
from gitops.helm.render import (
    HelmRun,
    helm_environment,
    helm_message,
    inflated_templates,
    render_chart,
    template_of,
)
from gitops.helm.source import ChartSource
from gitops.model import Location, ResourceKey
from gitops.runner import Command, CommandResult, run
from tests.conftest import FIXTURES

CHART = FIXTURES / "helm-chart"
SOURCE = ChartSource(
    application="prod-web",
    chart_dir="charts/web",
    chart="web",
    release_name="web",
    namespace="web",
    kube_version="1.36",
    api_versions=(),
    value_files=("charts/web/values-prod.yaml",),
    values='{"podDisruptionBudget": {"minAvailable": 2}}\n',
)


def test_a_chart_source_renders_in_its_folder_with_argo_cds_arguments(pinned_helm: Path) -> None:
    runs: list[Command] = []

    def recording(command: Command) -> CommandResult:
        runs.append(command)
        return run(command)

    helm = HelmRun(Helm(str(pinned_helm), "make helm"), KustomizeSettings(timeout=60), recording)
    result = render_chart(helm, CHART, SOURCE)
    assert result.error is None and result.stdout is not None
    assert "# Source: web/templates/hpa.yaml" in result.stdout  # values-prod enables it
    assert "minAvailable: 2" in result.stdout  # valuesObject over the value files
    (command,) = runs
    assert command.cwd == CHART / "charts" / "web"
    assert command.argv[1:4] == ("template", ".", "--name-template")
    assert command.env is not None and command.env["HELM_CONFIG_HOME"].endswith("/config")
    assert command.memory_limit == KustomizeSettings().memory_limit


def test_parameters_win_over_values_and_values_over_the_files_in_helms_own_render(
    pinned_helm: Path,
) -> None:
    """Argo CD passes ``--set`` before the ``--values`` (util/helm/cmd.go template), yet
    parameters are applied last ("parameters last"): helm merges value files in order, then
    --set/--set-string on top. The chart's values.yaml sets minAvailable 1, the values object
    2, a parameter 3; the service port (80 in values.yaml) is changed by a string parameter."""
    source = dataclasses.replace(
        SOURCE,
        parameters=(("podDisruptionBudget.minAvailable", "3"),),
        string_parameters=(("service.port", "8443"),),
    )
    helm = HelmRun(Helm(str(pinned_helm), "make helm"), KustomizeSettings(timeout=60), run)
    plain = render_chart(helm, CHART, SOURCE).stdout
    rendered = render_chart(helm, CHART, source).stdout
    assert plain is not None and rendered is not None
    assert "minAvailable: 2" in plain and "port: 80\n" in plain
    assert "minAvailable: 3" in rendered and "minAvailable: 2" not in rendered
    assert "port: 8443\n" in rendered


def test_a_template_error_is_one_message_on_its_template_line(pinned_helm: Path) -> None:
    broken = FIXTURES / "helm-template-error"
    source = dataclasses.replace(
        SOURCE, chart_dir="charts/api", chart="api", value_files=(), values=""
    )
    helm = HelmRun(Helm(str(pinned_helm), "make helm"), KustomizeSettings(timeout=60), run)
    result = render_chart(helm, broken, source)
    assert result.stdout is None
    assert result.error == (
        "execution error at (charts/api/templates/deployment.yaml:17:52): image.tag is required"
    )
    assert result.location == Location("charts/api/templates/deployment.yaml", 17)


def test_the_values_file_of_the_application_is_named_not_its_temporary_path() -> None:
    def failing(command: Command) -> CommandResult:
        values = command.argv[command.argv.index("--values", 10) + 1]
        raise CommandError(f"{command.quoted()} exited 1: failed to parse {values}: bad")

    helm = HelmRun(Helm("/bin/helm", "test"), KustomizeSettings(), failing)
    result = render_chart(helm, CHART, SOURCE)
    assert result.error == (
        "failed to parse <temp file with values from source.helm.values/valuesObject>: bad"
    )


def test_timeouts_say_which_setting_to_change() -> None:
    command = Command(("helm", "template", "."))
    message = helm_message(f"{command.quoted()} timed out after 5s", command, "web", "charts/web")
    assert message == (
        "helm timed out after 5s (kustomize.timeoutSeconds in gitops.yaml, --render-timeout)"
    )


def test_helm_runs_in_a_home_of_its_own(tmp_path: Path) -> None:
    env = helm_environment(tmp_path, {"PATH": "/bin", "HELM_CONFIG_HOME": "/home/me/.helm"})
    assert env == {
        "PATH": "/bin",
        "HELM_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


def test_an_inflated_charts_objects_name_their_templates(pinned_helm: Path) -> None:
    kustomization = {
        "helmGlobals": {"chartHome": "../../../charts"},
        "helmCharts": [
            {
                "name": "web",
                "releaseName": "web",
                "valuesInline": {"podDisruptionBudget": {"enabled": True}},
            }
        ],
    }
    (chart,) = inflated_charts(CHART, "overlays/staging/web", kustomization)
    helm = HelmRun(Helm(str(pinned_helm), "make helm"), KustomizeSettings(timeout=60), run)
    found = inflated_templates(helm, CHART, chart, ("--helm-kube-version", "1.36"))
    assert found == {
        ResourceKey("", "Service", "", "web"): "charts/web/templates/service.yaml",
        ResourceKey("", "Deployment", "", "web"): "charts/web/templates/deployment.yaml",
        ResourceKey("", "PodDisruptionBudget", "", "web"): "charts/web/templates/pdb.yaml",
        ResourceKey("", "Pod", "", "web-connection"): "charts/web/templates/tests/connection.yaml",
    }


def test_an_inflated_object_finds_its_template_by_kind_and_name_or_kustomizes_prefix() -> None:
    templates = {
        ResourceKey("", "Service", "", "web"): "charts/web/templates/service.yaml",
        ResourceKey("", "Deployment", "", "web"): "charts/web/templates/deployment.yaml",
        ResourceKey("", "Deployment", "", "web-worker"): "charts/web/templates/worker.yaml",
    }
    service = {"kind": "Service", "metadata": {"name": "team-web"}}
    assert template_of(templates, service) == "charts/web/templates/service.yaml"
    exact = {"kind": "Deployment", "metadata": {"name": "web"}}
    assert template_of(templates, exact) == "charts/web/templates/deployment.yaml"
    ambiguous = {"kind": "Deployment", "metadata": {"name": "team-web-worker"}}
    assert template_of(templates, ambiguous) is None  # both names fit: no guess
    assert template_of(templates, {"kind": "ConfigMap", "metadata": {"name": "web"}}) is None
