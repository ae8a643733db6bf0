from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitops.config import DEFAULT_KUBERNETES_VERSION, load_config
from gitops.errors import ConfigError
from tests.conftest import FIXTURES


def test_reads_every_field_of_gitops_yaml() -> None:
    config = load_config(FIXTURES / "render-ok")
    assert config.kubernetes_version == "1.33"
    assert config.minor_version == 33
    assert config.envs == ("dev", "prod")
    assert config.repo_url == "https://git.example.test/team/render-ok.git"
    assert config.kustomize.build_options == ("--load-restrictor=LoadRestrictionsRootOnly",)
    assert config.source == "gitops.yaml"


def test_without_gitops_yaml_envs_come_from_overlays_in_promotion_order(tmp_path: Path) -> None:
    for env in ("qa", "prod", "dev", "staging", "zeta"):
        (tmp_path / "overlays" / env).mkdir(parents=True)
    config = load_config(tmp_path)
    assert config.envs == ("dev", "qa", "staging", "prod", "zeta")
    assert config.source is None
    assert config.kubernetes_version == DEFAULT_KUBERNETES_VERSION == "1.36"


def test_build_options_as_one_string_like_argocd_cm(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(
        "envs: [dev]\nkustomize:\n  buildOptions: --load-restrictor LoadRestrictionsNone\n"
    )
    assert load_config(tmp_path).kustomize.build_options == (
        "--load-restrictor",
        "LoadRestrictionsNone",
    )


def test_helm_settings_say_whether_builds_inflate_charts_and_with_which_helm(
    tmp_path: Path,
) -> None:
    config = load_config(FIXTURES / "helm-chart")
    assert config.kustomize.helm_enabled
    assert config.kustomize.helm_command is None
    (tmp_path / "gitops.yaml").write_text(
        "envs: [dev]\nkustomize:\n  buildOptions: --enable-helm=false\n"
        "  helmCommand: /opt/helm/bin/helm\n"
    )
    settings = load_config(tmp_path).kustomize
    assert not settings.helm_enabled
    assert settings.helm_command == "/opt/helm/bin/helm"
    assert not load_config(FIXTURES / "render-ok").kustomize.helm_enabled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("envs: [dev\n", "gitops.yaml:2: invalid YAML"),
        ("- dev\n", "expected a mapping at the top level"),
        ("envs: [dev]\nenvironments: [x]\n", "unknown key(s) environments"),
        ("kubernetesVersion: 33\n", 'kubernetesVersion must look like "1.33"'),
        ("envs: [dev, dev]\n", "envs lists a name twice"),
        ("envs: [Dev]\n", "envs must be a non-empty list of lower-case names"),
        ("kustomize:\n  options: []\n", "unknown key(s) under kustomize: options"),
        ("kustomize:\n  timeoutSeconds: 0\n", "timeoutSeconds must be a positive number"),
        ("kustomize:\n  helmCommand: ''\n", "kustomize.helmCommand must be the path of a helm"),
        ("featureGates: [HPAScaleToZero]\n", "featureGates must be a mapping"),
        (
            "featureGates:\n  HPAScaleToZer0: true\n",
            "unknown feature gate 'HPAScaleToZer0'; did you mean HPAScaleToZero?",
        ),
        ("featureGates:\n  hpa-scale: true\n", "'hpa-scale' is not a feature gate name"),
        ("featureGates:\n  HPAScaleToZero: 'yes'\n", "HPAScaleToZero must be true or false"),
    ],
)
def test_malformed_config_names_the_file_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "gitops.yaml").write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path)
    assert expected in str(excinfo.value)
    assert str(excinfo.value).startswith("gitops.yaml")


def test_api_server_settings_are_checked_as_kube_apiserver_checks_its_flags(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(
        "envs: [dev]\napiServer:\n  allowPrivileged: false\n"
        "  serviceClusterIPRange: 10.100.0.0/16\n  serviceNodePortRange: 30000-30100\n"
    )
    settings = load_config(tmp_path).api_server
    assert not settings.allow_privileged
    assert settings.service_cluster_ip_range == "10.100.0.0/16"
    assert settings.service_node_port_range == "30000-30100"
    assert load_config(tmp_path / "nowhere").api_server.service_cluster_ip_range == "10.96.0.0/12"
    for bad, expected in (
        ("serviceClusterIPRange: 10.100.0.1/16", "serviceClusterIPRange: '10.100.0.1/16' is not"),
        ("serviceNodePortRange: 30100-30000", "expected FIRST-LAST"),
        ("allowPrivileged: yes please", "allowPrivileged must be true or false"),
        ("serviceCIDR: 10.0.0.0/8", "unknown key(s) serviceCIDR"),
    ):
        (tmp_path / "gitops.yaml").write_text(f"envs: [dev]\napiServer:\n  {bad}\n")
        with pytest.raises(ConfigError, match=re.escape(expected)):
            load_config(tmp_path)


def test_gates_gitops_does_not_model_reach_only_the_upstream_validator(tmp_path: Path) -> None:
    from gitops.upstream import UpstreamValidator

    (tmp_path / "gitops.yaml").write_text("featureGates: {DRAAdminAccess: true}\n")
    config = load_config(tmp_path)
    assert config.feature_gates == (("DRAAdminAccess", True),)
    assert config.gates().overrides == ()
    flags = UpstreamValidator(tmp_path, "v1.36.3", "1.36", feature_gates=config.feature_gates)
    assert "--feature-gates=DRAAdminAccess=true" in flags._flags()


def test_feature_gates_override_the_version_defaults(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text(
        'kubernetesVersion: "1.35"\nfeatureGates:\n  HPAScaleToZero: true\n'
        "  RelaxedServiceNameValidation: true\n"
    )
    config = load_config(tmp_path)
    assert config.feature_gates == (
        ("HPAScaleToZero", True),
        ("RelaxedServiceNameValidation", True),
    )
    gates = config.gates()
    assert gates.kubernetes_version == "1.35"
    assert gates.enabled("HPAScaleToZero") and gates.enabled("RelaxedServiceNameValidation")
    assert gates.enabled("ContainerRestartRules")  # not overridden: the 1.35 default
    assert not config.gates("1.33").enabled("ContainerRestartRules")


def test_without_envs_in_gitops_yaml_the_order_comes_from_common_names(tmp_path: Path) -> None:
    # Issue 22: "stg" was not a known name and sorted after prod.
    for env in ("prod", "stg", "dev", "sandbox", "uat", "qa"):
        (tmp_path / "overlays" / env).mkdir(parents=True)
    config = load_config(tmp_path)
    assert config.envs == ("dev", "qa", "uat", "stg", "prod", "sandbox")
    assert config.envs_assumed
    assert [config.env_rank(e) for e in config.envs] == [0, 1, 1, 2, 3, None]
    assert config.comes_before("stg", "prod") and not config.comes_before("prod", "stg")
    assert not config.comes_before("qa", "uat") and not config.comes_before("uat", "qa")
    assert not config.comes_before("dev", "sandbox")
    assert config.env_order_notes() == (
        "env order assumed from the env names (no envs in gitops.yaml): dev -> qa/uat -> stg "
        "-> prod",
        "env sandbox: promotion rank unknown, so rules that compare envs by order "
        "(env-regression) skip it; list envs in gitops.yaml to order it",
    )


def test_envs_listed_in_gitops_yaml_are_the_order_whatever_their_names(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text("envs: [sandbox, prod, canary]\n")
    config = load_config(tmp_path)
    assert not config.envs_assumed
    assert [config.env_rank(e) for e in config.envs] == [0, 1, 2]
    assert config.comes_before("prod", "canary")
    assert config.env_order_notes() == ()
    (tmp_path / "gitops.yaml").write_text('kubernetesVersion: "1.35"\n')
    assert load_config(tmp_path).envs_assumed  # a gitops.yaml without envs assumes too
