"""``gitops.probe.spec``: a rendered probe read as the kubelet reads it."""

from __future__ import annotations

import pytest

from gitops.probe import (
    ProbeSpec,
)
from gitops.probe.spec import ProbeSetupError, build_target, resolve_port


def test_probe_spec_reads_an_explicit_zero_as_the_api_server_default() -> None:
    # `gitops probe` must wait as long as the kubelet would: timeoutSeconds 0 is 1 s on the
    # cluster, periodSeconds 0 is 10 s (SetDefaults_Probe), never "no time at all".
    raw = {"httpGet": {"path": "/health", "port": 8080}, "timeoutSeconds": 0, "periodSeconds": 0}
    spec = ProbeSpec.parse("readiness", "app", {**raw, "failureThreshold": 0})
    assert (spec.period, spec.timeout, spec.failure_threshold) == (10.0, 1.0, 3)
    assert spec.budget == 30.0


def test_ports_resolve_by_number_or_declared_name_only() -> None:
    assert resolve_port(8080, {}) == 8080
    assert resolve_port("8080", {}) == 8080
    assert resolve_port("http", {"http": 8000}) == 8000
    with pytest.raises(
        ProbeSetupError, match=r"port 'metrics' is not declared .*\(declared: http\)"
    ):
        resolve_port("metrics", {"http": 8000})


def test_targets_map_container_ports_to_local_ones_and_refuse_what_cannot_run_here() -> None:
    raw = {"httpGet": {"path": "health", "port": "http", "scheme": "HTTPS"}}
    spec = ProbeSpec.parse("liveness", "app", raw)
    target = build_target(spec, {"http": 8000}, {8000: 41234}, minor=33)
    assert target.description == "GET https://127.0.0.1:41234/health"
    tcp = ProbeSpec.parse("readiness", "app", {"tcpSocket": {"port": 5432}})
    assert build_target(tcp, {}, {}, minor=33).description == "TCP 127.0.0.1:5432"
    exec_spec = ProbeSpec.parse("liveness", "app", {"exec": {"command": ["true"]}})
    with pytest.raises(ProbeSetupError, match="exec probes cannot be executed"):
        build_target(exec_spec, {}, {}, minor=33)
    two = ProbeSpec.parse("liveness", "app", {"exec": {}, "tcpSocket": {"port": 1}})
    assert two.handler == "invalid"
    with pytest.raises(ProbeSetupError, match="exactly one handler"):
        build_target(two, {}, {}, minor=33)
