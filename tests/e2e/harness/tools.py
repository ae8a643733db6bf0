"""The external tools the e2e suite drives, where to find them, and how to say one is missing.

Subprocesses go through :func:`gitops.runner.run` (argv lists, a timeout on every call, the
quoted command and stderr in the error): the harness adds no second way to run commands,
except the long-lived ``kubectl port-forward`` in :mod:`tests.e2e.harness.portforward`.

    >>> toolchain = find_toolchain()
    >>> toolchain.missing_message()   # None when everything is there
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops.errors import CommandError
from gitops.runner import Command, CommandResult, run

Runner = Callable[[Command], CommandResult]

# Versions the suite is written and documented against (README); newer ones usually work.
KIND_VERSION = "v0.29.0"

INSTALL_HINTS: Mapping[str, str] = {
    "container engine": (
        "install Docker (https://docs.docker.com/engine/install/) or Podman "
        "(https://podman.io/docs/installation) and start it"
    ),
    "kind": (
        f"install kind {KIND_VERSION}: `go install sigs.k8s.io/kind@{KIND_VERSION}` or a release "
        "binary from https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
    ),
    "kubectl": (
        "run `make setup` (installs the pinned kubectl into .venv) or install kubectl: "
        "https://kubernetes.io/docs/tasks/tools/"
    ),
}


@dataclass(frozen=True)
class Engine:
    """The container engine: ``docker`` or ``podman`` (kind's KIND_EXPERIMENTAL_PROVIDER)."""

    name: str  # "docker" | "podman"
    binary: str


@dataclass(frozen=True)
class Problem:
    tool: str  # a key of INSTALL_HINTS
    detail: str  # what exactly is wrong


@dataclass(frozen=True)
class Toolchain:
    engine: Engine | None
    kind: str | None
    kubectl: str | None
    problems: tuple[Problem, ...] = field(default=())

    def missing_message(self) -> str | None:
        """One message naming everything missing and how to install it; None if complete."""
        if not self.problems:
            return None
        lines = [
            "the e2e suite needs docker (or podman), kind and kubectl; missing: "
            + ", ".join(p.tool for p in self.problems)
        ]
        for problem in self.problems:
            lines.append(f"  - {problem.tool}: {problem.detail}; {INSTALL_HINTS[problem.tool]}")
        return "\n".join(lines)


def _which(name: str, environ: Mapping[str, str]) -> str | None:
    return shutil.which(name, path=environ.get("PATH", os.defpath))


def find_kubectl(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str, Mapping[str, str]], str | None] = _which,
    venv_scripts: Path | None = None,
) -> str | None:
    """``$KUBECTL``, else ``kubectl`` on PATH, else the one ``make setup`` put into .venv."""
    env = os.environ if environ is None else environ
    if env.get("KUBECTL"):
        explicit = env["KUBECTL"]
        return explicit if os.access(explicit, os.X_OK) else which(explicit, env)
    found = which("kubectl", env)
    if found:
        return found
    pinned = (venv_scripts or Path(sysconfig.get_path("scripts"))) / "kubectl"
    return str(pinned) if os.access(pinned, os.X_OK) else None


def find_toolchain(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str, Mapping[str, str]], str | None] = _which,
    runner: Runner = run,
    venv_scripts: Path | None = None,
) -> Toolchain:
    """Look for every tool and report all problems at once (one run shows the whole list).

    The engine must answer ``<engine> info``: a docker CLI without a running daemon would
    otherwise fail minutes later inside ``kind create cluster``.
    """
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    preferred = env.get("KIND_EXPERIMENTAL_PROVIDER", "")
    candidates = ["podman", "docker"] if preferred == "podman" else ["docker", "podman"]
    engine: Engine | None = None
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
        engine = Engine(name, binary)
        break
    if engine is None:
        detail = "; ".join(not_running) if not_running else "neither docker nor podman on PATH"
        problems.append(Problem("container engine", detail))
    kind = which("kind", env)
    if kind is None:
        problems.append(Problem("kind", "not on PATH"))
    kubectl = find_kubectl(env, which, venv_scripts)
    if kubectl is None:
        problems.append(Problem("kubectl", "not on PATH, $KUBECTL unset, none in .venv"))
    return Toolchain(engine, kind, kubectl, tuple(problems))
