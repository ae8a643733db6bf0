"""Which cluster the e2e suite runs against: a kind cluster it creates (the default), the
node tier's real nodes, or an existing cluster given by a kubeconfig, such as the KWOK tier
(simulated nodes and pods).

    GITOPS_E2E_BACKEND=kind                       # default: create/reuse kind, build images
    GITOPS_E2E_BACKEND=node GITOPS_E2E_KUBECONFIG=<kubeconfig> GITOPS_E2E_NODES=<nodes.json>
    GITOPS_E2E_BACKEND=kwok GITOPS_E2E_KUBECONFIG=/path/to/kubeconfig

On an existing cluster nothing is created, built, loaded or deleted: the suite deploys the
stack and runs the tests that only need the API (HPA, PDB). Tests that need real containers
(probes answering HTTP, Argo CD pulling from a git server) are marked ``needs_containers`` and
skip there with :data:`NEEDS_CONTAINERS_REASON`. The node backend (`make test-node`) runs real
containers on kubelets of ours: the images `make images` built are already in every node's
containerd (GITOPS_E2E_NODES names them), the suite only names them as the rendered manifests
do. What it cannot do skips with its own reason: Argo CD (``kind_only``: its install manifests
and images come from GitHub and quay.io). Two capabilities only it has: an enforcing
NetworkPolicy engine (``needs_network_policy``) and a simulated node pool for workloads whose
images cannot be built here (``needs_simulated_pool``).

    >>> backend_from_env({"GITOPS_E2E_BACKEND": "kwok", "GITOPS_E2E_KUBECONFIG": "/k"}).name
    'kwok'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BACKEND_ENV = "GITOPS_E2E_BACKEND"
KUBECONFIG_ENV = "GITOPS_E2E_KUBECONFIG"
NODES_ENV = "GITOPS_E2E_NODES"
KIND = "kind"
NODE = "node"
# Names of the existing-cluster backend: `kwok` for the KWOK tier, `existing` for any other.
EXISTING = ("kwok", "existing")
NEEDS_CONTAINERS_MARKER = "needs_containers"
KIND_ONLY_MARKER = "kind_only"
NEEDS_NETWORK_POLICY_MARKER = "needs_network_policy"
NEEDS_SIMULATED_POOL_MARKER = "needs_simulated_pool"


class BackendError(ValueError):
    """GITOPS_E2E_BACKEND / GITOPS_E2E_KUBECONFIG do not describe a usable backend."""


@dataclass(frozen=True)
class Backend:
    name: str  # "kind", "node", "kwok" or "existing"
    kubeconfig: Path | None = None  # the existing cluster's; kind writes its own
    nodes: Path | None = None  # the node tier's nodes file (GITOPS_E2E_NODES)

    @property
    def runs_containers(self) -> bool:
        """kind and the node tier run real containers: probes answer, CPU is burnt."""
        return self.name in (KIND, NODE)

    @property
    def owns_cluster(self) -> bool:
        """kind clusters are created (and deleted) by the suite; existing ones never are."""
        return self.name == KIND

    @property
    def enforces_network_policy(self) -> bool:
        """The node tier runs kube-router's policy controller; kind's CNI is not ours to
        promise, and KWOK moves no packets."""
        return self.name == NODE

    @property
    def simulated_pool(self) -> bool:
        """The node tier's tainted KWOK nodes, where Airbyte's pods are placed."""
        return self.name == NODE

    def skip_reason(
        self,
        needs_containers: bool,
        *,
        kind_only: bool = False,
        needs_network_policy: bool = False,
        needs_simulated_pool: bool = False,
    ) -> str | None:
        """Why a test cannot run on this backend, or None when it can."""
        if needs_containers and not self.runs_containers:
            return (
                f"needs real containers (probes, Argo CD); the {self.name} backend "
                f"({BACKEND_ENV}={self.name}) simulates pods: run it with {BACKEND_ENV}=kind"
            )
        if kind_only and self.name != KIND:
            return (
                f"kind only: Argo CD's install manifests and images come from GitHub and "
                f"quay.io, which the {self.name} backend cannot reach (no registry)"
            )
        if needs_network_policy and not self.enforces_network_policy:
            return (
                f"needs an enforcing NetworkPolicy engine: the {NODE} backend runs "
                f"kube-router's; the {self.name} backend promises none"
            )
        if needs_simulated_pool and not self.simulated_pool:
            return (
                f"needs the {NODE} backend's simulated node pool (Airbyte's images are not "
                f"built by the suite)"
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
    if name not in (NODE, *EXISTING):
        raise BackendError(
            f"{BACKEND_ENV}={name!r}: expected one of {', '.join((KIND, NODE, *EXISTING))}"
        )
    if not kubeconfig:
        raise BackendError(
            f"{BACKEND_ENV}={name} needs {KUBECONFIG_ENV}=<path to the cluster's kubeconfig>"
        )
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        raise BackendError(f"{KUBECONFIG_ENV}: {path} does not exist (expected a kubeconfig file)")
    if name != NODE:
        return Backend(name, path.resolve())
    nodes = environ.get(NODES_ENV, "").strip()
    if not nodes or not Path(nodes).expanduser().is_file():
        raise BackendError(
            f"{BACKEND_ENV}={NODE} needs {NODES_ENV}=<the nodes file `python -m tests.node up` "
            f"prints>" + (f"; {nodes} does not exist" if nodes else "")
        )
    return Backend(name, path.resolve(), Path(nodes).expanduser().resolve())
