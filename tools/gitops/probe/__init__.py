"""``gitops probe``: run an overlay's rendered probes against the real processes, as kubelet would.

For one overlay, every container whose image is built from ``apps/<name>/`` is started locally
as a process: the Dockerfile's ENTRYPOINT/CMD (overridden by the container's ``command``/``args``)
with the Python of this environment, the rendered ``env`` (``$(VAR)`` expanded, Secret values from
a local source), and ``PORT`` moved to a free loopback port that stands in for the container port.
Then the startup, readiness and liveness probes run with kubelet's semantics
(pkg/kubelet/prober): handlers httpGet (path, port by name or number, scheme, headers, success =
200..399, timeoutSeconds) and tcpSocket; initialDelaySeconds, periodSeconds, failureThreshold and
successThreshold; the startup probe gates the other two.

Services configured with a ``postgres`` section in gitops.yaml (``probe.services.<service>``) get a
throwaway local PostgreSQL whose settings fill the Secret keys named there, set up by the
container's own commands (e.g. ``migrate``, ``seed-demo``), and a "database down" scenario:
readiness must go unready, liveness must keep passing, and readiness must come back.

    >>> result = probe_overlay(workspace, "dev", "healthz")
    >>> [(p.kind, p.passed) for p in result.checks]
    [('startup', True), ('readiness', True), ('liveness', True)]

``speed`` divides every initialDelaySeconds and periodSeconds (never timeouts): tests run the real
schedule ten times faster; ``gitops probe`` uses kubelet's timing unless ``--speed`` is given.

The package follows the run: :mod:`~gitops.probe.spec` (probe specs, single attempts),
:mod:`~gitops.probe.schedule` (kubelet's schedule), :mod:`~gitops.probe.container` (the local
process standing in for a container), :mod:`~gitops.probe.scenarios` (orchestration, the
database-down scenario), :mod:`~gitops.probe.results` and :mod:`~gitops.probe.format`.
"""

from __future__ import annotations

from gitops.probe.container import (
    AppSource,
    PostgresPlan,
    container_argv,
    container_env,
    find_app_source,
    load_secret_source,
    parse_dockerfile_command,
    postgres_plan,
    probeable_overlays,
)
from gitops.probe.format import format_json, format_text
from gitops.probe.results import ContainerTiming, ProbeCheck, ProbeResult
from gitops.probe.scenarios import probe_overlay
from gitops.probe.schedule import Schedule, consecutive
from gitops.probe.spec import (
    KUBELET_USER_AGENT,
    PROBE_KINDS,
    Attempt,
    ProbeSetupError,
    ProbeSpec,
    Target,
    build_target,
    resolve_port,
)

__all__ = [
    "KUBELET_USER_AGENT",
    "PROBE_KINDS",
    "AppSource",
    "Attempt",
    "ContainerTiming",
    "PostgresPlan",
    "ProbeCheck",
    "ProbeResult",
    "ProbeSetupError",
    "ProbeSpec",
    "Schedule",
    "Target",
    "build_target",
    "consecutive",
    "container_argv",
    "container_env",
    "find_app_source",
    "format_json",
    "format_text",
    "load_secret_source",
    "parse_dockerfile_command",
    "postgres_plan",
    "probe_overlay",
    "probeable_overlays",
    "resolve_port",
]
