"""Locate the helm binary that renders charts, and say plainly when there is none.

One helm renders every chart of a run, in both of Argo CD's ways (kustomize's
``--helm-command`` and Argo CD chart sources), so every machine renders the same bytes:

1. ``$HELM`` (read once, by the CLI, and passed here as ``override``);
2. ``kustomize.helmCommand`` in gitops.yaml;
3. the pinned build of ``make helm`` (``tools/cluster/build.py --group helm``):
   ``${XDG_CACHE_HOME:-~/.cache}/integration-gitops/helm/helm-<PINNED_VERSION>/helm``.

Nothing else: a helm that happens to be on PATH is another version (a chart's output depends
on helm's template functions); ``HELM=helm`` uses it on purpose.

    >>> helm = find_helm(config, override=os.environ.get("HELM"))
    >>> helm.describe()
    '/root/.cache/integration-gitops/helm/helm-v4.3.2/helm (pinned v4.3.2, make helm)'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops.config import RepoConfig
from gitops.errors import ToolNotFoundError
from gitops.runner import configured_executable

# The version `make helm` builds (tools/cluster/build.py HELM_VERSION; a test keeps them equal).
PINNED_VERSION = "v4.3.2"
BINARY = "helm"
INSTALL_HINT = (
    "run `make helm` (builds the pinned helm from Go modules; needs Go >= 1.26), or set "
    "HELM=/path/to/helm or kustomize.helmCommand in gitops.yaml"
)


@dataclass(frozen=True)
class Helm:
    binary: str  # absolute path
    origin: str  # "$HELM", "kustomize.helmCommand in gitops.yaml", "make helm"

    def describe(self) -> str:
        return f"{self.binary} (from {self.origin})"


class HelmNotFoundError(ToolNotFoundError):
    """A unit needs helm and none is configured or built: exit 2, naming the unit."""


def helm_cache_root(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integration-gitops" / "helm"


def pinned_helm(environ: Mapping[str, str] | None = None) -> Path:
    return helm_cache_root(environ) / f"helm-{PINNED_VERSION}" / BINARY


def find_helm(
    config: RepoConfig, override: str | None = None, environ: Mapping[str, str] | None = None
) -> Helm | None:
    """The helm to render charts with, or None when none is configured or built (a unit that
    needs one then fails with :func:`missing_helm`). A configured path that is not an
    executable is an error at once: the user asked for that binary."""
    configured = configured_executable(
        "helm",
        [
            (override, "$HELM"),
            (config.kustomize.helm_command, "kustomize.helmCommand in gitops.yaml"),
        ],
        "the pinned helm (make helm)",
        HelmNotFoundError,
    )
    if configured is not None:
        return Helm(*configured)
    built = pinned_helm(environ)
    if (built.parent / ".complete").is_file() and os.access(built, os.X_OK):
        return Helm(str(built), f"pinned {PINNED_VERSION}, make helm")
    return None


def missing_helm(unit: str, why: str) -> HelmNotFoundError:
    """The one line for a unit that needs helm when there is none: which unit, why it needs
    helm, and how to get one."""
    return HelmNotFoundError(
        f"{unit}: {why} needs helm, and no helm binary was found: {INSTALL_HINT}"
    )
