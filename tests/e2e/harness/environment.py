"""Bring the e2e cluster to the state every test starts from, step by step, each step
idempotent so a kept cluster (--keep-cluster) is brought up to date rather than rebuilt:

1. kind cluster (create, or reuse when kept);
2. metrics-server (pinned) with --kubelet-insecure-tls, until `kubectl top nodes` answers;
3. the ServiceMonitor CRD the overlays need;
4. images of apps/healthz and apps/kpis-api (content-hash tags, built without attestations)
   and the digest-pinned third-party images of tests/e2e/manifests (pulled once for the
   host's platform), all saved to archives and loaded into kind: nodes never pull;
5. the stack: namespace (Pod Security labels from the ApplicationSet), the test-only
   database and Secret, then the dev overlays + e2e component; the PreSync migrate Job is
   awaited before the Deployments are expected Ready.
"""

from __future__ import annotations

import datetime
import functools
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops.config import RepoConfig, load_config
from gitops.errors import CommandError
from gitops.kustomize import Kustomize
from gitops.runner import Command, CommandResult, run
from gitops.workspace import Workspace
from tests.e2e.harness import argocd as argo
from tests.e2e.harness.backend import Backend
from tests.e2e.harness.cluster import ExistingCluster, KindCluster, NodeCluster
from tests.e2e.harness.deploy import (
    COMPONENT_DIR,
    DEV_SERVICES,
    MANIFESTS_DIR,
    NAMESPACE,
    STACK_SERVICES,
    Document,
    Renderer,
    apply_command,
    argo_hooks,
    delete_command,
    dump_documents,
    find,
    find_one,
    images_by_app,
    managed_namespace_labels,
    namespace_document,
    overlay_paths,
    parse_documents,
    partition_test_only,
    render_kustomization,
    with_ready_delays,
)
from tests.e2e.harness.images import (
    LocalImage,
    NamedImage,
    PulledImage,
    built_by_the_suite,
    host_platform_name,
    short_name,
    third_party_images,
    unpinned,
)
from tests.e2e.harness.kube import TRANSIENT, Kube
from tests.e2e.harness.load import HttpLoad, LoadDriver, SimulatedCpuLoad
from tests.e2e.harness.tools import Runner, Toolchain
from tests.e2e.harness.versions import pinned_versions
from tests.e2e.harness.wait import Backoff, wait_until

TEST_DB = "kpis-db"
TEST_IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"


@dataclass
class E2EEnvironment:
    repo: Path
    config: RepoConfig
    kustomize: Kustomize
    toolchain: Toolchain
    cluster: KindCluster | ExistingCluster
    workdir: Path
    runner: Runner = run
    kube: Kube | None = None
    images: dict[str, LocalImage | NamedImage] = field(default_factory=dict)
    # app -> (image name, tag) as the real dev overlays deploy it
    overlay_images: dict[str, tuple[str, str]] = field(default_factory=dict)
    stack: list[Document] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        """gitops's own render core over the repository, with the harness's binary."""
        return Workspace.open(self.repo, self.config, kustomize=self.kustomize, use_cache=False)

    @property
    def renderer(self) -> Renderer:
        return Renderer(self.repo, self.config, self.kustomize, self.runner)

    @property
    def k(self) -> Kube:
        assert self.kube is not None, "cluster not up"
        return self.kube

    def kubectl(self, *args: str, timeout: float = 120) -> CommandResult:
        return self.runner(self.cluster.kubectl_command(*args, timeout=timeout))

    def apply(self, documents: Iterable[Document], label: str) -> None:
        manifest = self.workdir / f"{label}.yaml"
        manifest.write_text(dump_documents(documents), encoding="utf-8")
        self.runner(apply_command(self.cluster.kubectl, manifest, self.cluster.kubectl_env()))

    # --- 1. cluster ---------------------------------------------------------------------

    def cluster_up(self, reuse: bool) -> bool:
        created = self.cluster.up(self.runner, reuse=reuse)
        self.kube = Kube.from_kubeconfig(self.cluster.kubeconfig)
        wait_until(
            lambda: self.kubectl(
                "wait", "--for=condition=Ready", "nodes", "--all", "--timeout=10s", timeout=30
            ),
            timeout=240,
            what="all kind nodes Ready",
            retry_on=(CommandError,),
        )
        return created

    @property
    def backend(self) -> Backend:
        return self.toolchain.backend

    # --- 2. metrics-server ----------------------------------------------------------------

    def install_metrics_server(self) -> None:
        if not self.backend.owns_cluster:
            # An existing cluster serves metrics.k8s.io its own way (KWOK simulates usage);
            # the HPA test's "reading CPU metrics" wait says so if it does not.
            return
        self.kubectl("apply", "--filename", argo.METRICS_SERVER_URL, timeout=180)
        deployment = self.k.deployment("kube-system", "metrics-server")
        args = deployment["spec"]["template"]["spec"]["containers"][0].get("args") or []
        if "--kubelet-insecure-tls" not in args:
            self.kubectl(
                "patch",
                "deployment",
                "metrics-server",
                "--namespace",
                "kube-system",
                "--type=json",
                "--patch",
                argo.METRICS_SERVER_PATCH,
            )
        self.kubectl(
            "rollout",
            "status",
            "deployment/metrics-server",
            "--namespace",
            "kube-system",
            "--timeout=180s",
            timeout=200,
        )
        wait_until(
            lambda: self.kubectl("top", "nodes", timeout=30).stdout,
            timeout=180,
            what="`kubectl top nodes` to answer (metrics-server scraping)",
            backoff=Backoff(initial=5, maximum=10),
            retry_on=(CommandError,),
        )

    def install_servicemonitor_crd(self) -> None:
        if not self.backend.owns_cluster and self.servicemonitor_crd_established():
            # An existing cluster brings its own (the cluster tier installs ours, written from
            # the documented fields); fetching upstream's needs the network that tier lacks.
            return
        self.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "--filename",
            argo.SERVICEMONITOR_CRD_URL,
            timeout=180,
        )
        self.kubectl(
            "wait",
            "--for=condition=Established",
            argo.SERVICEMONITOR_CRD,
            "--timeout=60s",
            timeout=90,
        )

    def servicemonitor_crd_established(self) -> bool:
        found = self.kubectl(*argo.servicemonitor_crd_probe_args(), timeout=30).stdout
        return "True" in found.split()

    # --- 4. images ----------------------------------------------------------------------

    def build_and_load_images(self, apps: Sequence[str] = DEV_SERVICES) -> None:
        if not self.backend.runs_containers:
            return  # simulated pods pull nothing: the overlays' own image references stay
        if isinstance(self.cluster, NodeCluster):
            self.name_node_images(self.cluster, apps)
            return
        engine = self.toolchain.engine
        assert engine is not None
        for app in apps:
            image = LocalImage.for_app(self.repo / "apps" / app)
            # Same content, same tag: an image already built is not rebuilt.
            if self.runner(image.exists_command(engine)).returncode != 0:
                self.runner(image.build_command(engine))
            self.load_into_kind(image.reference)
            self.images[app] = image
        self.load_third_party_images(apps)

    def name_node_images(self, cluster: NodeCluster, apps: Sequence[str]) -> None:
        """Node backend: give the images `make images` built (already in every node's
        containerd) the names the rendered dev overlays and test manifests use."""
        built = cluster.built_images()
        rendered = images_by_app(self.render_dev_overlays(), apps)
        wanted = {app: f"{name}:{tag}" for app, (name, tag) in rendered.items()}
        local = [name for name, _tag in rendered.values()]
        for reference in third_party_images(MANIFESTS_DIR, local):
            if short_name(reference) in built:
                wanted[short_name(reference)] = reference
        for short, reference in wanted.items():
            if short not in built:
                raise AssertionError(f"`make images` built no {short} image for {reference}")
            for command in cluster.name_image_commands(built[short], reference):
                self.runner(command)
        self.images.update({app: NamedImage(*rendered[app]) for app in apps})

    def load_third_party_images(self, apps: Sequence[str]) -> None:
        """The test manifests' other images. Ours (tests/e2e/images: PostgreSQL) are built like
        the apps' and named as the manifests say; the rest (git-daemon), pinned by digest,
        are pulled into the engine once (a laptop re-run pulls nothing: no anonymous Docker
        Hub limits). All are loaded like the app images."""
        engine = self.toolchain.engine
        assert engine is not None
        local = [name for name, _tag in images_by_app(self.render_dev_overlays(), apps).values()]
        found = third_party_images(MANIFESTS_DIR, local)
        for reference in [r for r in found if built_by_the_suite(r)]:
            image = LocalImage.for_test_image(TEST_IMAGES_DIR / short_name(reference))
            if self.runner(image.exists_command(engine)).returncode != 0:
                self.runner(image.build_command(engine))
            self.runner(image.alias_command(engine, reference))
            self.load_into_kind(reference)
        references = [r for r in found if not built_by_the_suite(r)]
        if unpinned(references):
            raise AssertionError(
                f"tests/e2e/manifests: images not pinned by digest: {unpinned(references)}"
            )
        platform = host_platform_name()
        save_platform = platform if self._save_takes_platform() else None
        for reference in references:
            pulled = PulledImage(reference, platform)
            if self.runner(pulled.exists_command(engine)).returncode != 0:
                self.runner(pulled.pull_command(engine))
            self.load_into_kind(reference, save_platform)

    def _save_takes_platform(self) -> bool:
        """`docker save --platform` exists from Docker 28 (with the containerd store, a
        pulled multi-platform image cannot be saved whole); podman saves one platform."""
        engine = self.toolchain.engine
        if engine is None or engine.name != "docker":
            return False
        help_text = self.runner(Command((engine.binary, "save", "--help"), timeout=30)).stdout
        return "--platform" in help_text

    def load_into_kind(self, reference: str, platform: str | None = None) -> None:
        for command in self.cluster.load_image_commands(reference, self.workdir, platform):
            self.runner(command)

    # --- 5. stack -----------------------------------------------------------------------

    def render_dev_overlays(self, services: Sequence[str] = STACK_SERVICES) -> list[Document]:
        """The dev overlays exactly as `gitops render` renders them (no test changes)."""
        wanted = set(overlay_paths(services=services))
        documents: list[Document] = []
        workspace = self.workspace
        overlays = [o for o in workspace.layout().overlays if o.rel_path in wanted]
        for rendered in workspace.render(overlays, trace=False):
            if not rendered.ok or rendered.manifest is None:
                raise AssertionError(f"gitops render failed: {rendered.failure_line()}")
            documents.extend(parse_documents(rendered.manifest))
        return documents

    def render_stack(self) -> list[Document]:
        plain = self.render_dev_overlays()
        self.overlay_images = images_by_app(plain, list(self.images))
        swaps = {self.overlay_images[app][0]: image for app, image in self.images.items()}
        documents = render_kustomization(
            self.renderer, overlay_paths(services=STACK_SERVICES), [COMPONENT_DIR], swaps
        )
        # Simulated pods are Ready at once unless told when: give them the probes' delay.
        return documents if self.backend.runs_containers else with_ready_delays(documents)

    def hpa_load(self, target: str) -> LoadDriver:
        """How the HPA test loads ``target`` on this backend (harness/load.py)."""
        if self.backend.runs_containers:
            return HttpLoad(self.k, NAMESPACE)
        deployment = find_one(self.stack, "Deployment", target)
        labels = deployment["spec"]["selector"]["matchLabels"]
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        containers = deployment["spec"]["template"]["spec"]["containers"]
        return SimulatedCpuLoad(self.k, NAMESPACE, selector, containers)

    def ensure_namespace(self) -> None:
        argo = self.workspace.argocd()
        assert argo is not None and argo.error is None, argo
        labels = managed_namespace_labels(list(argo.objects))
        self.apply([namespace_document(NAMESPACE, labels)], "namespace")

    def deploy_prerequisites(self, documents: Sequence[Document]) -> None:
        self.apply(documents, "prerequisites")
        wait_until(
            lambda: self.k.deployment_rolled_out(NAMESPACE, TEST_DB),
            timeout=300,
            what=f"test PostgreSQL {NAMESPACE}/{TEST_DB} Ready",
            retry_on=TRANSIENT,
        )

    def remove_leftover_argocd_apps(self) -> None:
        if self.kubectl(*argo.leftover_apps_probe_args()).stdout.strip():
            self.kubectl(*argo.leftover_apps_delete_args(), timeout=150)

    def deploy_stack(self) -> list[Document]:
        self.remove_leftover_argocd_apps()
        self.stack = self.render_stack()
        prerequisites, workloads = partition_test_only(self.stack)
        self.ensure_namespace()
        self.deploy_prerequisites(prerequisites)
        hooks = argo_hooks(workloads)
        for hook in hooks:
            # Job specs are immutable: like Argo CD's BeforeHookCreation, delete the last run.
            self.runner(
                delete_command(
                    self.cluster.kubectl,
                    hook["kind"],
                    hook["metadata"]["name"],
                    NAMESPACE,
                    self.cluster.kubectl_env(),
                )
            )
        self.apply(workloads, "stack")
        for hook in find(hooks, "Job"):
            name = hook["metadata"]["name"]
            deadline = float(hook["spec"].get("activeDeadlineSeconds", 600))
            wait_until(
                functools.partial(self.k.job_succeeded, NAMESPACE, name),
                timeout=deadline,
                what=f"PreSync Job {NAMESPACE}/{name} to succeed",
                retry_on=TRANSIENT,
            )
        for deployment in find(workloads, "Deployment"):
            name = deployment["metadata"]["name"]
            wait_until(
                functools.partial(self.k.deployment_rolled_out, NAMESPACE, name),
                timeout=300,
                what=f"Deployment {NAMESPACE}/{name} rolled out",
                retry_on=TRANSIENT,
            )
        return self.stack


def new_environment(repo: Path, toolchain: Toolchain, cluster_name: str) -> E2EEnvironment:
    assert toolchain.kubectl
    config = load_config(repo)
    workdir = Path(tempfile.mkdtemp(prefix="integration-e2e-"))
    backend = toolchain.backend
    cluster: KindCluster | ExistingCluster
    if backend.kubeconfig is not None and backend.nodes is not None:
        cluster = NodeCluster(backend.name, toolchain.kubectl, backend.kubeconfig, backend.nodes)
    elif backend.kubeconfig is not None:
        cluster = ExistingCluster(backend.name, toolchain.kubectl, backend.kubeconfig)
    else:
        assert toolchain.engine and toolchain.kind
        cluster = KindCluster(
            name=cluster_name,
            kind=toolchain.kind,
            kubectl=toolchain.kubectl,
            engine=toolchain.engine,
            kubeconfig=workdir / "kubeconfig",
            node_image=pinned_versions().node_image,
        )
    kustomize = Workspace.open(repo, config, use_cache=False).kustomize
    return E2EEnvironment(repo, config, kustomize, toolchain, cluster, workdir)


def utc_stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
