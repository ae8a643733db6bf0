"""gitops probe: the rendered probes of real overlays, run against the real processes.

Passing overlays come from this repository; broken copies are the same overlays with one
patch added in a temp copy (wrong path, unknown port name, too-short startup budget, liveness on
a database-dependent endpoint). ``speed`` shortens kubelet's periods so the suite stays fast.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops.cli import main
from gitops.config import load_config
from gitops.pglocal import find_pg_bin_dir
from gitops.probe import (
    ProbeSetupError,
    ProbeSpec,
    container_argv,
    container_env,
    find_app_source,
    parse_dockerfile_command,
    probe_overlay,
)
from tests.conftest import REPO_ROOT

SPEED = 5.0
needs_postgres = pytest.mark.skipif(
    find_pg_bin_dir() is None,
    reason="PostgreSQL binaries (pg_ctl) not found: apt-get install postgresql",
)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The parts of this repository that the dev healthz and kpis-api overlays read."""
    target = tmp_path / "repo"
    for part in ("base", "components", "overlays/dev/healthz", "overlays/dev/kpis-api"):
        shutil.copytree(REPO_ROOT / part, target / part)
    shutil.copy(REPO_ROOT / "gitops.yaml", target / "gitops.yaml")
    for app in ("healthz", "kpis-api"):
        (target / "apps" / app).mkdir(parents=True)
        shutil.copy(REPO_ROOT / "apps" / app / "Dockerfile", target / "apps" / app / "Dockerfile")
    return target


def add_patch(repo: Path, service: str, name: str, patch: str) -> None:
    overlay = repo / "overlays" / "dev" / service
    (overlay / name).write_text(patch)
    kustomization = overlay / "kustomization.yaml"
    text = kustomization.read_text()
    assert "patches:\n" in text
    kustomization.write_text(
        text.replace(
            "patches:\n",
            f"patches:\n  - path: {name}\n    target:\n      kind: Deployment\n",
            1,
        )
    )


def failures(result: object) -> dict[str, str]:
    return {c.kind: c.message for c in result.checks if not c.passed}  # type: ignore[attr-defined]


def test_dev_healthz_passes_and_reports_timing() -> None:
    result = probe_overlay(REPO_ROOT, load_config(REPO_ROOT), "dev", "healthz", speed=SPEED)
    assert failures(result) == {}
    assert {c.kind for c in result.checks} == {"readiness", "liveness"}
    (timing,) = result.timings
    # dev healthz liveness: initialDelay 5 + failureThreshold 3 x period 10
    assert timing.startup_budget == 35
    assert timing.measured_startup is not None and timing.measured_startup < 35 / SPEED
    assert timing.time_to_ready is not None
    readiness = next(c for c in result.checks if c.kind == "readiness")
    assert readiness.url.startswith("GET http://127.0.0.1:") and readiness.url.endswith("/health")
    assert readiness.attempts[-1].detail == "HTTP 200"


@needs_postgres
def test_dev_kpis_api_passes_including_database_down() -> None:
    result = probe_overlay(REPO_ROOT, load_config(REPO_ROOT), "dev", "kpis-api", speed=SPEED)
    assert failures(result) == {}
    kinds = [c.kind for c in result.checks]
    assert kinds == [
        "startup",
        "readiness",
        "liveness",
        "readiness-db-down",
        "liveness-db-down",
        "readiness-db-back",
    ]
    down = next(c for c in result.checks if c.kind == "readiness-db-down")
    assert any(a.detail == "HTTP 503" for a in down.attempts)


def test_wrong_path_fails_readiness_naming_the_url(repo_copy: Path) -> None:
    add_patch(
        repo_copy,
        "healthz",
        "wrong-path.yaml",
        "- op: replace\n"
        "  path: /spec/template/spec/containers/0/readinessProbe/httpGet/path\n"
        "  value: /healthz\n",
    )
    result = probe_overlay(repo_copy, load_config(repo_copy), "dev", "healthz", speed=SPEED)
    failed = failures(result)
    assert set(failed) == {"readiness"}, failed
    assert "readinessProbe of container healthz failed" in failed["readiness"]
    assert "/healthz: HTTP 404" in failed["readiness"]
    assert "the pod would never become Ready" in failed["readiness"]


def test_unknown_port_name_fails(repo_copy: Path) -> None:
    add_patch(
        repo_copy,
        "healthz",
        "port-name.yaml",
        "- op: replace\n  path: /spec/template/spec/containers/0/livenessProbe/httpGet/port\n"
        "  value: metrics\n",
    )
    result = probe_overlay(repo_copy, load_config(repo_copy), "dev", "healthz", speed=SPEED)
    assert failures(result) == {
        "liveness": "livenessProbe of container healthz: port 'metrics' is not declared by the "
        "container (declared: http)"
    }


def test_too_short_startup_budget_fails(repo_copy: Path) -> None:
    add_patch(
        repo_copy,
        "healthz",
        "startup.yaml",
        "- op: add\n  path: /spec/template/spec/containers/0/startupProbe\n"
        "  value: {httpGet: {path: /health, port: http}, periodSeconds: 1, "
        "failureThreshold: 1}\n",
    )
    # kubelet timing: the first attempt runs as the process starts, before it listens.
    result = probe_overlay(repo_copy, load_config(repo_copy), "dev", "healthz", speed=1)
    failed = failures(result)
    assert "startup" in failed
    assert "failed 1 time(s) within 1s" in failed["startup"]
    assert "kubelet would kill and restart the container" in failed["startup"]
    # The process answers a moment later, but with failureThreshold 1 there is no second try.
    (timing,) = result.timings
    assert timing.startup_budget == 1
    assert timing.measured_startup is not None and timing.measured_startup > 0
    assert result.checks[0].attempts[0].detail == "connection refused"


@needs_postgres
def test_liveness_on_a_database_dependent_endpoint_fails_when_the_db_is_down(
    repo_copy: Path,
) -> None:
    add_patch(
        repo_copy,
        "kpis-api",
        "liveness-ready.yaml",
        "- op: replace\n  path: /spec/template/spec/containers/0/livenessProbe/httpGet/path\n"
        "  value: /ready\n",
    )
    result = probe_overlay(repo_copy, load_config(repo_copy), "dev", "kpis-api", speed=SPEED)
    failed = failures(result)
    assert set(failed) == {"liveness-db-down"}, failed
    assert "kubelet would restart every pod on a database outage" in failed["liveness-db-down"]
    assert "/ready" in failed["liveness-db-down"]


def test_missing_secret_value_is_a_setup_error(repo_copy: Path) -> None:
    gitops_yaml = repo_copy / "gitops.yaml"
    gitops_yaml.write_text(gitops_yaml.read_text().split("\nprobe:")[0] + "\n")
    with pytest.raises(
        ProbeSetupError,
        match="env KPIS_PG_HOST needs key 'KPIS_PG_HOST' of Secret 'kpis-db-credentials'",
    ):
        probe_overlay(repo_copy, load_config(repo_copy), "dev", "kpis-api", speed=SPEED)


def test_container_semantics_command_args_env() -> None:
    source = find_app_source(REPO_ROOT, "ghcr.io/example-org/kpis-api:1.2.3")
    assert source is not None
    assert source.entrypoint[1:] == ("-m", "kpis_api") and source.cmd == ("serve",)
    entry, args = container_argv({"args": ["migrate"]}, source)
    assert entry[1:] == ("-m", "kpis_api") and args == ("migrate",)
    entry, args = container_argv({"command": ["sh", "-c"], "args": ["x"]}, source)
    assert (entry, args) == (("sh", "-c"), ("x",))
    assert parse_dockerfile_command(
        'ENTRYPOINT ["a"]\nCMD ["b"]\nENTRYPOINT ["c", \\\n "d"]\n'
    ) == (("c", "d"), ())
    env = container_env(
        {
            "env": [
                {"name": "A", "value": "1"},
                {"name": "B", "value": "$(A)-x-$(NOPE)"},
                {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {
                    "name": "D",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "no", "optional": True}},
                },
            ]
        },
        {"s": {"k": "secret"}},
        "here",
    )
    assert env == {"A": "1", "B": "1-x-$(NOPE)", "C": "secret"}


def test_cli_json_and_exit_code(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "probe",
        "--repo",
        str(repo_copy),
        "--env",
        "dev",
        "--service",
        "healthz",
        "--speed",
        str(SPEED),
        "--format",
        "json",
    ]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out  # the JSON names the failed check and why
    document = json.loads(out)
    assert document["results"][0]["passed"] is True
    add_patch(
        repo_copy,
        "healthz",
        "wrong-path.yaml",
        "- op: replace\n  path: /spec/template/spec/containers/0/livenessProbe/httpGet/path\n"
        "  value: /nope\n",
    )
    assert main(args[:-2]) == 1
    captured = capsys.readouterr()
    assert "FAIL liveness" in captured.out
    assert "error: probes failed in dev/healthz" in captured.err


def test_probe_spec_reads_an_explicit_zero_as_the_api_server_default() -> None:
    # `gitops probe` must wait as long as the kubelet would: timeoutSeconds 0 is 1 s on the
    # cluster, periodSeconds 0 is 10 s (SetDefaults_Probe), never "no time at all".
    raw = {"httpGet": {"path": "/health", "port": 8080}, "timeoutSeconds": 0, "periodSeconds": 0}
    spec = ProbeSpec.parse("readiness", "app", {**raw, "failureThreshold": 0})
    assert (spec.period, spec.timeout, spec.failure_threshold) == (10.0, 1.0, 3)
    assert spec.budget == 30.0
