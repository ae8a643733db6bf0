"""Which cluster the e2e suite runs against: a kind cluster it creates (the default), or an
existing cluster given by a kubeconfig, such as the KWOK tier (simulated nodes and pods).

    GITOPS_E2E_BACKEND=kind                       # default: create/reuse kind, build images
    GITOPS_E2E_BACKEND=kwok GITOPS_E2E_KUBECONFIG=/path/to/kubeconfig

On an existing cluster nothing is created, built, loaded or deleted: the suite deploys the
stack and runs the tests that only need the API (HPA, PDB). Tests that need real containers
(probes answering HTTP, Argo CD pulling from a git server) are marked ``needs_containers`` and
skip there with :data:`NEEDS_CONTAINERS_REASON`.

    >>> backend_from_env({"GITOPS_E2E_BACKEND": "kwok", "GITOPS_E2E_KUBECONFIG": "/k"}).name
    'kwok'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BACKEND_ENV = "GITOPS_E2E_BACKEND"
KUBECONFIG_ENV = "GITOPS_E2E_KUBECONFIG"
KIND = "kind"
# Names of the existing-cluster backend: `kwok` for the KWOK tier, `existing` for any other.
EXISTING = ("kwok", "existing")
NEEDS_CONTAINERS_MARKER = "needs_containers"


class BackendError(ValueError):
    """GITOPS_E2E_BACKEND / GITOPS_E2E_KUBECONFIG do not describe a usable backend."""


@dataclass(frozen=True)
class Backend:
    name: str  # "kind", "kwok" or "existing"
    kubeconfig: Path | None = None  # the existing cluster's; kind writes its own

    @property
    def runs_containers(self) -> bool:
        """Only kind runs real containers: images must be built and loaded, probes answer."""
        return self.name == KIND

    @property
    def owns_cluster(self) -> bool:
        """kind clusters are created (and deleted) by the suite; existing ones never are."""
        return self.name == KIND

    def skip_reason(self, needs_containers: bool) -> str | None:
        """Why a test cannot run on this backend, or None when it can."""
        if needs_containers and not self.runs_containers:
            return (
                f"needs real containers (probes, Argo CD); the {self.name} backend "
                f"({BACKEND_ENV}={self.name}) simulates pods: run it with {BACKEND_ENV}=kind"
            )
        return None

    def describe(self) -> str:
        if self.kubeconfig is None:
            return self.name
        return f"{self.name} (existing cluster, kubeconfig {self.kubeconfig})"


def backend_from_env(environ: Mapping[str, str]) -> Backend:
    """The backend the environment asks for; :class:`BackendError` with one line naming the
    variable and what was expected when it is not usable."""
    name = environ.get(BACKEND_ENV, "").strip().lower() or KIND
    kubeconfig = environ.get(KUBECONFIG_ENV, "").strip()
    if name == KIND:
        if kubeconfig:
            raise BackendError(
                f"{KUBECONFIG_ENV} is set but {BACKEND_ENV} is {KIND!r}: the kind backend "
                f"writes its own kubeconfig; set {BACKEND_ENV}=kwok to use an existing cluster"
            )
        return Backend(KIND)
    if name not in EXISTING:
        raise BackendError(
            f"{BACKEND_ENV}={name!r}: expected one of {', '.join((KIND, *EXISTING))}"
        )
    if not kubeconfig:
        raise BackendError(
            f"{BACKEND_ENV}={name} needs {KUBECONFIG_ENV}=<path to the cluster's kubeconfig>"
        )
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        raise BackendError(f"{KUBECONFIG_ENV}: {path} does not exist (expected a kubeconfig file)")
    return Backend(name, path.resolve())
