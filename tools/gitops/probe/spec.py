"""Probe specs as kubelet reads them, and single probe attempts (httpGet, tcpSocket)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops.errors import GitopsError
from gitops.k8s_math import probe_timings

KUBELET_USER_AGENT = "kube-probe/{minor}"
PROBE_KINDS = ("startup", "readiness", "liveness")


class ProbeSetupError(GitopsError):
    """The overlay cannot be probed (no app source, missing Secret value, no PostgreSQL)."""


# --- probe specs and single attempts --------------------------------------------------------


@dataclass(frozen=True)
class ProbeSpec:
    kind: str  # startup | readiness | liveness
    container: str
    handler: str  # httpGet | tcpSocket | grpc | exec
    raw: dict[str, Any]
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @classmethod
    def parse(cls, kind: str, container: str, raw: dict[str, Any]) -> ProbeSpec:
        handlers = [h for h in ("httpGet", "tcpSocket", "grpc", "exec") if h in raw]
        values = probe_timings(raw)  # an explicit 0 means the API server's default
        return cls(
            kind=kind,
            container=container,
            handler=handlers[0] if len(handlers) == 1 else "invalid",
            raw=raw,
            initial_delay=float(values["initialDelaySeconds"]),
            period=float(values["periodSeconds"]),
            timeout=float(values["timeoutSeconds"]),
            success_threshold=int(values["successThreshold"]),
            failure_threshold=int(values["failureThreshold"]),
        )

    @property
    def budget(self) -> float:
        """Seconds until kubelet gives up: initialDelay + failureThreshold x period."""
        return self.initial_delay + self.failure_threshold * self.period


@dataclass(frozen=True)
class Attempt:
    at: float  # seconds since the process started
    success: bool
    detail: str  # "HTTP 200", "connection refused", "timeout after 1s"


def resolve_port(port: Any, container_ports: dict[str, int]) -> int:
    """A probe's port: a number, or a name the container must declare (else kubelet errors)."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    if port in container_ports:
        return container_ports[port]
    declared = ", ".join(sorted(container_ports)) or "none"
    raise ProbeSetupError(f"port {port!r} is not declared by the container (declared: {declared})")


@dataclass(frozen=True)
class Target:
    """Where one probe's requests go on this machine."""

    description: str  # "GET http://127.0.0.1:40123/health"
    attempt: Callable[[float], tuple[bool, str]]  # timeout -> (success, detail)


def build_target(
    spec: ProbeSpec, container_ports: dict[str, int], local_ports: dict[int, int], minor: int
) -> Target:
    """Translate a rendered probe into a callable; container ports map to local ports."""
    handler = spec.raw.get(spec.handler) if spec.handler in spec.raw else None
    if spec.handler == "httpGet" and isinstance(handler, dict):
        container_port = resolve_port(handler.get("port"), container_ports)
        port = local_ports.get(container_port, container_port)
        scheme = str(handler.get("scheme", "HTTP")).upper()
        path = str(handler.get("path") or "/")
        if not path.startswith("/"):
            path = "/" + path
        headers = {"User-Agent": KUBELET_USER_AGENT.format(minor=minor), "Accept": "*/*"}
        for header in handler.get("httpHeaders") or []:
            headers[str(header.get("name"))] = str(header.get("value", ""))
        url = f"{scheme.lower()}://127.0.0.1:{port}{path}"
        return Target(
            f"GET {url}", lambda timeout: _http_attempt(scheme, port, path, headers, timeout)
        )
    if spec.handler == "tcpSocket" and isinstance(handler, dict):
        container_port = resolve_port(handler.get("port"), container_ports)
        port = local_ports.get(container_port, container_port)
        return Target(f"TCP 127.0.0.1:{port}", lambda timeout: _tcp_attempt(port, timeout))
    if spec.handler in ("exec", "grpc"):
        raise ProbeSetupError(f"{spec.handler} probes cannot be executed outside the container")
    raise ProbeSetupError("the probe must have exactly one handler (httpGet, tcpSocket, ...)")


def _http_attempt(
    scheme: str, port: int, path: str, headers: dict[str, str], timeout: float
) -> tuple[bool, str]:
    if scheme == "HTTPS":
        # kubelet does not verify the certificate of an HTTPS probe.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read(10 * 1024)  # kubelet reads at most 10 KiB of the body
        status = response.status
    except TimeoutError:
        return False, f"timeout after {timeout:g}s"
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        return False, _describe_error(exc)
    finally:
        connection.close()
    return 200 <= status < 400, f"HTTP {status}"


def _tcp_attempt(port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True, "connected"
    except TimeoutError:
        return False, f"timeout after {timeout:g}s"
    except OSError as exc:
        return False, _describe_error(exc)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return f"{type(exc).__name__}: {exc}"
