"""``gitops.probe.scenarios``: the rendered probes of real overlays, run against the real
processes. Passing overlays come from this repository; broken copies are the same overlays with
one patch added (wrong path, unknown port name, too-short startup budget, liveness on a
database-dependent endpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config import load_config
from gitops.probe import ProbeSetupError, probe_overlay
from gitops.workspace import Workspace
from tests.conftest import REPO_ROOT
from tests.unit.probe.overlays import SPEED, add_patch, failures, needs_postgres


def test_dev_healthz_passes_and_reports_timing() -> None:
    result = probe_overlay(
        Workspace.open(REPO_ROOT, load_config(REPO_ROOT)), "dev", "healthz", speed=SPEED
    )
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
    result = probe_overlay(
        Workspace.open(REPO_ROOT, load_config(REPO_ROOT)), "dev", "kpis-api", speed=SPEED
    )
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
    result = probe_overlay(
        Workspace.open(repo_copy, load_config(repo_copy)), "dev", "healthz", speed=SPEED
    )
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
    result = probe_overlay(
        Workspace.open(repo_copy, load_config(repo_copy)), "dev", "healthz", speed=SPEED
    )
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
    result = probe_overlay(
        Workspace.open(repo_copy, load_config(repo_copy)), "dev", "healthz", speed=1
    )
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
    result = probe_overlay(
        Workspace.open(repo_copy, load_config(repo_copy)), "dev", "kpis-api", speed=SPEED
    )
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
        probe_overlay(
            Workspace.open(repo_copy, load_config(repo_copy)), "dev", "kpis-api", speed=SPEED
        )
