"""policy: in gitops.yaml is validated when it is opened for a command (gitops.repo.open_config:
the file's structure, then the rule ids against the registry), not when a rule fires."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.check import severity_for
from gitops.config import load_config
from gitops.errors import ConfigError
from gitops.policy import get_rule
from gitops.repo import open_config


def _config(tmp_path: Path, policy: str) -> Path:
    (tmp_path / "gitops.yaml").write_text(f"envs: [dev, prod]\npolicy:\n{policy}")
    return tmp_path


def test_bare_off_reads_as_off_not_false(tmp_path: Path) -> None:
    config = load_config(
        _config(
            tmp_path,
            "  severity:\n    pdb-missing: {dev: off, default: error}\n    probe-identical: off\n",
        )
    )
    assert config.policy["severity"] == {
        "pdb-missing": {"dev": "off", "default": "error"},
        "probe-identical": "off",
    }
    assert severity_for(get_rule("probe-identical"), "prod", config) is None
    assert severity_for(get_rule("pdb-missing"), "dev", config) is None


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            "  severity:\n    pdb-mising: off\n",
            "unknown rule id 'pdb-mising' (did you mean pdb-missing?)",
        ),
        (
            "  severity:\n    pdb-missing: eror\n",
            "policy.severity.pdb-missing must be error, warning or off, got 'eror'",
        ),
        (
            "  severity:\n    pdb-missing: {qa: off}\n",
            "'qa' is not an env (dev, prod) nor 'default'",
        ),
        ("  severty: {}\n", "policy: unknown key(s) severty"),
        ("  pdbRequiredEnvs: prod\n", "pdbRequiredEnvs must be a list of env names"),
    ],
)
def test_mistakes_fail_at_load(tmp_path: Path, policy: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_config(_config(tmp_path, policy))
    assert message in str(caught.value)


def test_non_utf8_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_bytes(b"envs: [dev]\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"gitops.yaml: not UTF-8 text \(byte offset 17\)"):
        load_config(tmp_path)


def test_kustomize_memory_limit_setting(tmp_path: Path) -> None:
    (tmp_path / "gitops.yaml").write_text("envs: [dev]\nkustomize: {memoryLimitMiB: 4096}\n")
    assert load_config(tmp_path).kustomize.memory_limit == 4096 * 2**20
    (tmp_path / "gitops.yaml").write_text("envs: [dev]\nkustomize: {memoryLimitMiB: 32}\n")
    with pytest.raises(ConfigError, match=r"kustomize.memoryLimitMiB must be an integer >= 64"):
        load_config(tmp_path)


def test_render_memory_flag_below_the_floor_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    (tmp_path / "gitops.yaml").write_text("envs: [dev]\n")
    assert main(["render", "--repo", str(tmp_path), "--render-memory", "32"]) == 2
    assert capsys.readouterr().err == "error: --render-memory must be at least 64 (MiB)\n"
