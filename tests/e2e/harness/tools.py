"""The external tools the e2e suite drives, where to find them, and how to say one is missing.

Subprocesses go through :func:`gitops.runner.run` (argv lists, a timeout on every call, the
quoted command and stderr in the error): the harness adds no second way to run commands,
except the long-lived ``kubectl port-forward`` in :mod:`tests.e2e.harness.portforward`.

    >>> toolchain = find_toolchain()
    >>> toolchain.missing_message()   # None when everything is there
"""

from __future__ import annotations

import json
import os
import shutil
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops.errors import CommandError
from gitops.runner import Command, CommandResult, run
from tests.e2e.harness.backend import Backend
from tests.e2e.harness.versions import (
    KUBECTL_SKEW_MINORS,
    parse_version,
    pinned_versions,
    within_skew,
)

Runner = Callable[[Command], CommandResult]

INSTALL_HINTS: Mapping[str, str] = {
    "container engine": (
        "install Docker (https://docs.docker.com/engine/install/) or Podman "
        "(https://podman.io/docs/installation) and start it"
    ),
    # the pinned version (tests/e2e/versions.yaml) is filled in by install_hint()
    "kind": (
        "install kind {kind}: `go install sigs.k8s.io/kind@{kind}` or a release "
        "binary from https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
    ),
    "kubectl": (
        "run `make setup` (installs the pinned kubectl into .venv) or install kubectl: "
        "https://kubernetes.io/docs/tasks/tools/"
    ),
    "cluster": "start it, or point GITOPS_E2E_KUBECONFIG at the kubeconfig of a running one",
}


def install_hint(tool: str) -> str:
    """How to get ``tool`` (a key of INSTALL_HINTS), with the pinned versions filled in."""
    return INSTALL_HINTS[tool].format(kind=pinned_versions().kind)


def kubectl_download_hint(cluster_version: str) -> str:
    """Where to get the kubectl matching the cluster (the same patch release)."""
    version = "v" + ".".join(str(p) for p in parse_version(cluster_version))
    return (
        f"install kubectl {version} (https://dl.k8s.io/release/{version}/bin/linux/amd64/kubectl"
        f", or your platform's from https://kubernetes.io/docs/tasks/tools/) and put it first "
        "on PATH or set $KUBECTL"
    )


def kubectl_version_command(kubectl: str) -> Command:
    return Command((kubectl, "version", "--client", "--output=json"), timeout=30)


def server_version_command(kubectl: str, kubeconfig: Path) -> Command:
    return Command(
        (kubectl, "version", "--output=json", "--request-timeout=20s"),
        timeout=60,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )


def version_from_json(text: str, key: str) -> str:
    """``gitVersion`` under ``key`` (clientVersion / serverVersion) of `kubectl version -o json`."""
    try:
        data = json.loads(text)
        return str(data[key]["gitVersion"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"no {key}.gitVersion in `kubectl version` output") from exc


@dataclass(frozen=True)
class Engine:
    """The container engine: ``docker`` or ``podman`` (kind's KIND_EXPERIMENTAL_PROVIDER)."""

    name: str  # "docker" | "podman"
    binary: str


@dataclass(frozen=True)
class Problem:
    tool: str  # a key of INSTALL_HINTS
    detail: str  # what exactly is wrong
    hint: str = ""  # overrides INSTALL_HINTS[tool] when the fix is more specific


@dataclass(frozen=True)
class Toolchain:
    engine: Engine | None
    kind: str | None
    kubectl: str | None
    problems: tuple[Problem, ...] = field(default=())
    backend: Backend = field(default_factory=lambda: Backend("kind"))
    kubectl_version: str | None = None  # the chosen kubectl's client version, when checked
    cluster_version: str | None = None  # what it was checked against

    def missing_message(self) -> str | None:
        """One message naming everything missing and how to install it; None if complete."""
        if not self.problems:
            return None
        needs = (
            "docker (or podman), kind and kubectl"
            if self.backend.owns_cluster
            else f"kubectl and a reachable cluster ({self.backend.describe()})"
        )
        lines = [
            f"the e2e suite needs {needs}; missing: " + ", ".join(p.tool for p in self.problems)
        ]
        for problem in self.problems:
            hint = problem.hint or install_hint(problem.tool)
            lines.append(f"  - {problem.tool}: {problem.detail}; {hint}")
        return "\n".join(lines)

    def kubectl_summary(self) -> str:
        """``/usr/bin/kubectl v1.33.1 (cluster v1.33.1)`` for the preflight line."""
        parts = [self.kubectl or "?"]
        if self.kubectl_version:
            parts.append(self.kubectl_version)
        if self.cluster_version:
            parts.append(f"(cluster v{self.cluster_version.lstrip('v')})")
        return " ".join(parts)


def _which(name: str, environ: Mapping[str, str]) -> str | None:
    return shutil.which(name, path=environ.get("PATH", os.defpath))


def kubectl_candidates(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str, Mapping[str, str]], str | None] = _which,
    venv_scripts: Path | None = None,
) -> list[str]:
    """Every kubectl the suite could use, in order of preference: ``$KUBECTL``, ``kubectl`` on
    PATH, the one ``make setup`` put into .venv (which is pinned for kustomize, not for the
    cluster, so it comes last)."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    if env.get("KUBECTL"):
        explicit = env["KUBECTL"]
        resolved = explicit if os.access(explicit, os.X_OK) else which(explicit, env)
        if resolved:
            found.append(resolved)
    on_path = which("kubectl", env)
    if on_path:
        found.append(on_path)
    pinned = (venv_scripts or Path(sysconfig.get_path("scripts"))) / "kubectl"
    if os.access(pinned, os.X_OK):
        found.append(str(pinned))
    return list(dict.fromkeys(found))


def find_kubectl(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str, Mapping[str, str]], str | None] = _which,
    venv_scripts: Path | None = None,
) -> str | None:
    """``$KUBECTL``, else ``kubectl`` on PATH, else the one ``make setup`` put into .venv."""
    candidates = kubectl_candidates(environ, which, venv_scripts)
    return candidates[0] if candidates else None


def choose_kubectl(
    candidates: list[str], cluster_version: str, runner: Runner = run
) -> tuple[str | None, str | None, Problem | None]:
    """The first candidate within one minor of ``cluster_version``: (path, its version,
    None); or (None, None, a Problem naming every candidate's version and what to install)."""
    seen: list[str] = []
    for candidate in candidates:
        try:
            version = version_from_json(
                runner(kubectl_version_command(candidate)).stdout, "clientVersion"
            )
        except (CommandError, ValueError) as exc:
            seen.append(f"{candidate} (version unknown: {exc})")
            continue
        if within_skew(version, cluster_version):
            return candidate, version, None
        seen.append(f"{candidate} is {version}")
    detail = (
        f"the cluster runs Kubernetes v{cluster_version.lstrip('v')} and kubectl must be within "
        f"{KUBECTL_SKEW_MINORS} minor of it; " + ("; ".join(seen) or "none found")
    )
    return None, None, Problem("kubectl", detail, kubectl_download_hint(cluster_version))


def find_toolchain(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str, Mapping[str, str]], str | None] = _which,
    runner: Runner = run,
    venv_scripts: Path | None = None,
    backend: Backend | None = None,
    cluster_version: str | None = None,
) -> Toolchain:
    """Look for every tool the backend needs and report all problems at once.

    kind backend: the engine must answer ``<engine> info`` (a docker CLI without a running
    daemon would otherwise fail minutes later inside ``kind create cluster``); kubectl must be
    within one minor of ``cluster_version`` (the pinned node image's) when it is given.
    Existing-cluster backend: only kubectl, checked against the version the cluster reports.
    """
    env = os.environ if environ is None else environ
    backend = backend or Backend("kind")
    problems: list[Problem] = []
    engine: Engine | None = None
    kind: str | None = None
    if backend.owns_cluster:
        engine, engine_problem = _find_engine(env, which, runner)
        if engine_problem is not None:
            problems.append(engine_problem)
        kind = which("kind", env)
        if kind is None:
            problems.append(Problem("kind", "not on PATH"))
    candidates = kubectl_candidates(env, which, venv_scripts)
    kubectl = candidates[0] if candidates else None
    kubectl_version: str | None = None
    if kubectl is None:
        problems.append(Problem("kubectl", "not on PATH, $KUBECTL unset, none in .venv"))
    elif backend.kubeconfig is not None and cluster_version is None:
        try:
            answer = runner(server_version_command(kubectl, backend.kubeconfig)).stdout
            cluster_version = version_from_json(answer, "serverVersion")
        except (CommandError, ValueError) as exc:
            problems.append(Problem("cluster", f"cannot reach it with {kubectl}: {exc}"))
    if kubectl is not None and cluster_version is not None:
        kubectl, kubectl_version, skew = choose_kubectl(candidates, cluster_version, runner)
        if skew is not None:
            problems.append(skew)
    return Toolchain(
        engine, kind, kubectl, tuple(problems), backend, kubectl_version, cluster_version
    )


def _find_engine(
    env: Mapping[str, str],
    which: Callable[[str, Mapping[str, str]], str | None],
    runner: Runner,
) -> tuple[Engine | None, Problem | None]:
    preferred = env.get("KIND_EXPERIMENTAL_PROVIDER", "")
    candidates = ["podman", "docker"] if preferred == "podman" else ["docker", "podman"]
    not_running: list[str] = []
    for name in candidates:
        binary = which(name, env)
        if binary is None:
            continue
        try:
            runner(Command((binary, "info"), timeout=30))
        except CommandError as exc:
            not_running.append(f"{name} is installed but `{name} info` failed ({exc})")
            continue
        return Engine(name, binary), None
    detail = "; ".join(not_running) if not_running else "neither docker nor podman on PATH"
    return None, Problem("container engine", detail)
