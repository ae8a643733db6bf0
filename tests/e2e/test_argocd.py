"""Argo CD on the real cluster: this repository's HEAD (or, with E2E_SERVE_WORKING_TREE=1,
its working tree), served from inside the cluster, synced by
the repo's own AppProjects and ApplicationSet; the dev Applications of healthz and kpis-api
reach Synced + Healthy, and an HPA-driven replica change does not make them OutOfSync.

Runs last (conftest orders it): it takes the `integration` namespace over from the directly
deployed stack. The database and its Secret stay, as they must exist before a sync.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.argocd import expand_application_set, list_repo_directories
from gitops.config import RepoConfig
from gitops.workspace import Workspace
from tests.e2e.harness import argocd as argo
from tests.e2e.harness import gitserver
from tests.e2e.harness.cluster import env_flag
from tests.e2e.harness.deploy import (
    MANIFESTS_DIR,
    NAMESPACE,
    find,
    find_one,
    namespace_document,
    overlay_paths,
    partition_test_only,
    render_kustomization,
)
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.expectations import HpaBounds, container, load_plan, startup_budget
from tests.e2e.harness.images import LocalImage
from tests.e2e.harness.kube import TRANSIENT
from tests.e2e.harness.wait import Backoff, Sampler, wait_until

# Real containers answer the probes / Argo CD pulls from a git server; its install manifests
# and images come from GitHub and quay.io, which only the kind backend can fetch.
pytestmark = [pytest.mark.e2e, pytest.mark.needs_containers, pytest.mark.kind_only]

SYNC_TIMEOUT_SECONDS = 600
LOAD_DEPLOYMENT = "healthz-load"
LOAD_CONTAINER = "load"
REFRESH_ROUNDS_AFTER_SCALE = 6


def _argocd_objects(repo: Path, config: RepoConfig) -> list[dict[str, Any]]:
    """argocd/ as gitops builds it (gitops.workspace.Workspace.argocd)."""
    argo_state = Workspace.open(repo, config).argocd()
    assert argo_state is not None and argo_state.error is None, argo_state
    return list(argo_state.objects)


def install_argocd(env: E2EEnvironment) -> None:
    env.apply([namespace_document(argo.ARGOCD_NAMESPACE, {})], "argocd-namespace")
    # Server-side: the ApplicationSet CRD is too large for client-side apply's annotation.
    env.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--namespace",
        argo.ARGOCD_NAMESPACE,
        "--filename",
        argo.ARGOCD_INSTALL_URL,
        timeout=300,
    )
    env.kubectl(
        "patch",
        "configmap",
        "argocd-cm",
        "--namespace",
        argo.ARGOCD_NAMESPACE,
        "--type=merge",
        "--patch",
        argo.argocd_cm_patch(env.config.kustomize.build_options),
    )
    for kind, name in argo.ARGOCD_WORKLOADS:
        env.kubectl(
            "rollout",
            "status",
            f"{kind}/{name}",
            "--namespace",
            argo.ARGOCD_NAMESPACE,
            "--timeout=300s",
            timeout=330,
        )


def serve_working_tree(env: E2EEnvironment) -> None:
    documents = render_kustomization(
        env.renderer, [str((MANIFESTS_DIR / "git-daemon").relative_to(env.repo))]
    )
    env.apply(documents, "git-daemon")
    env.kubectl(
        "rollout",
        "status",
        f"deployment/{gitserver.GIT_DEPLOYMENT}",
        "--namespace",
        gitserver.GIT_NAMESPACE,
        "--timeout=180s",
        timeout=200,
    )
    pod = env.k.ready_pods(gitserver.GIT_NAMESPACE, f"app={gitserver.GIT_DEPLOYMENT}")[0]
    working_tree = env_flag(os.environ, gitserver.WORKING_TREE_ENV)
    print(
        "\ne2e: serving "
        + ("the working tree (E2E_SERVE_WORKING_TREE=1)" if working_tree else "HEAD (committed)")
        + " to Argo CD"
    )
    bundle = gitserver.make_snapshot_bundle(env.repo, env.workdir, env.runner, working_tree)
    for command in gitserver.publish_commands(
        env.cluster.kubectl, env.cluster.kubectl_env(), bundle, pod["metadata"]["name"]
    ):
        env.runner(command)
    served = env.runner(
        gitserver.ls_remote_command(env.cluster.kubectl, env.cluster.kubectl_env())
    ).stdout
    assert "HEAD" in served, f"git daemon does not serve the snapshot: {served!r}"


def hand_namespace_to_argocd(env: E2EEnvironment) -> None:
    """Remove what the direct deploy created from the overlays (Argo CD creates it anew),
    keep or create the test-only prerequisites, and alias the local images under the
    references the real overlays deploy, so the synced pods find them on the nodes."""
    stack = env.stack or env.render_stack()
    prerequisites, _ = partition_test_only(stack)
    for document in env.render_dev_overlays():
        env.kubectl(
            "delete",
            document["kind"],
            document["metadata"]["name"],
            "--namespace",
            NAMESPACE,
            "--ignore-not-found",
            "--wait=true",
            "--timeout=120s",
            timeout=150,
        )
    env.ensure_namespace()
    env.deploy_prerequisites(prerequisites)
    engine = env.toolchain.engine
    assert engine is not None
    for app, image in env.images.items():
        assert isinstance(image, LocalImage), "Argo CD runs on kind, which builds the images"
        name, tag = env.overlay_images[app]
        alias = f"{name}:{tag}"
        env.runner(image.alias_command(engine, alias))
        env.load_into_kind(alias)


@pytest.fixture(scope="module")
def synced(e2e: E2EEnvironment) -> Iterator[tuple[E2EEnvironment, list[str]]]:
    install_argocd(e2e)
    serve_working_tree(e2e)
    hand_namespace_to_argocd(e2e)
    assert e2e.config.repo_url, "gitops.yaml has no repoURL"
    directories = list(overlay_paths())
    objects = argo.objects_for_test(
        _argocd_objects(e2e.repo, e2e.config),
        e2e.config.repo_url,
        gitserver.GIT_URL,
        directories,
    )
    appset = find(objects, "ApplicationSet")[0]
    # Expanded offline (gitops apps) from the restricted set before its URL is rewritten:
    # the expansion reads directories from this checkout, which the git daemon serves.
    original = find(_argocd_objects(e2e.repo, e2e.config), "ApplicationSet")[0]
    apps = expand_application_set(
        argo.restrict_directories(original, directories),
        list_repo_directories(e2e.repo),
        e2e.config,
    )
    assert sorted(a.path for a in apps) == sorted(directories)
    assert {a.destination.get("name") for a in apps} == {"dev"}
    e2e.apply([argo.cluster_secret("dev"), *objects], "argocd-objects")
    try:
        yield e2e, [a.name for a in apps]
    finally:
        e2e.kubectl(
            "delete",
            "applicationsets.argoproj.io",
            appset["metadata"]["name"],
            "--namespace",
            argo.ARGOCD_NAMESPACE,
            "--ignore-not-found",
            "--timeout=120s",
            timeout=150,
        )


@pytest.fixture(scope="module")
def sync_gate() -> argo.SyncGate:
    return argo.SyncGate()


def _states(env: E2EEnvironment, names: list[str]) -> dict[str, tuple[str, str]]:
    return {
        n: argo.application_state(env.k.argo_application(argo.ARGOCD_NAMESPACE, n)) for n in names
    }


def test_dev_applications_sync_and_become_healthy(
    synced: tuple[E2EEnvironment, list[str]], sync_gate: argo.SyncGate
) -> None:
    try:
        _sync_and_become_healthy(synced)
    except BaseException as exc:
        sync_gate.fail("test_dev_applications_sync_and_become_healthy", exc)
        raise


def _sync_and_become_healthy(synced: tuple[E2EEnvironment, list[str]]) -> None:
    env, names = synced

    last: list[dict[str, tuple[str, str]]] = [{}]

    def all_synced_and_healthy() -> dict[str, tuple[str, str]] | None:
        last[0] = states = _states(env, names)
        return states if all(v == ("Synced", "Healthy") for v in states.values()) else None

    # describe shows the states check() saw: a second API call there could raise outside
    # retry_on (e.g. 404 before the ApplicationSet has generated an Application).
    states = wait_until(
        all_synced_and_healthy,
        timeout=SYNC_TIMEOUT_SECONDS,
        what=f"Applications {names} Synced and Healthy",
        backoff=Backoff(initial=5, maximum=10),
        retry_on=TRANSIENT,
        describe=lambda _: str(last[0]),
    )
    assert states is not None and set(states) == set(names)
    # The PreSync hook ran under Argo CD too: the migrate Job exists and succeeded.
    for hook in find(env.render_dev_overlays(), "Job"):
        assert env.k.job_succeeded(NAMESPACE, hook["metadata"]["name"])


def test_hpa_driven_replica_change_does_not_make_apps_out_of_sync(
    synced: tuple[E2EEnvironment, list[str]], sync_gate: argo.SyncGate
) -> None:
    sync_gate.require()  # a failed sync above fails this at once, not after another timeout
    env, names = synced
    wait_until(
        lambda: all(v == ("Synced", "Healthy") for v in _states(env, names).values()),
        timeout=SYNC_TIMEOUT_SECONDS,
        what="Applications Synced before the load",
        backoff=Backoff(initial=5, maximum=10),
        retry_on=TRANSIENT,
    )
    plain = env.render_dev_overlays()
    bounds = HpaBounds.from_hpa(find_one(plain, "HorizontalPodAutoscaler", "healthz-hpa"))
    healthz = container(find_one(plain, "Deployment", "healthz"), "healthz")
    pod_start = startup_budget(healthz)
    plan = load_plan(bounds, healthz)

    def sync_states() -> dict[str, str]:
        for name in names:
            env.k.refresh_argo_application(argo.ARGOCD_NAMESPACE, name)
        return {n: s for n, (s, _h) in _states(env, names).items()}

    # From the minimum, so the scale-up below is one the HPA made while the sampler ran (not a
    # leftover of pod start-up; plain dev has the default 300 s scale-down window).
    wait_until(
        lambda: env.k.deployment(NAMESPACE, "healthz")["spec"]["replicas"] == bounds.min_replicas,
        timeout=bounds.scale_down_budget(),
        what=f"healthz at its dev minimum {bounds.min_replicas} before the load",
        backoff=Backoff(initial=5, maximum=10),
        retry_on=TRANSIENT,
    )
    scaled_at = 0
    sampler = Sampler(sync_states, interval=5.0).start()
    try:
        env.k.run_load(NAMESPACE, LOAD_DEPLOYMENT, LOAD_CONTAINER, plan.clients)
        try:
            wait_until(
                lambda: (
                    env.k.deployment(NAMESPACE, "healthz")["spec"]["replicas"] > bounds.min_replicas
                ),
                timeout=bounds.scale_up_budget(pod_start),
                what="the HPA to scale healthz above its dev minimum",
                backoff=Backoff(initial=5, maximum=5),
                retry_on=TRANSIENT,
            )
            # Several refresh rounds after the change, each compared against git. Counted from
            # now: the samples taken while waiting for the scale-up prove nothing about it.
            scaled_at = len(sampler.samples)
            wait_until(
                lambda: len(sampler.samples) >= scaled_at + REFRESH_ROUNDS_AFTER_SCALE,
                timeout=120,
                what="refresh rounds after the scale-up",
            )
        finally:
            env.k.scale_deployment(NAMESPACE, LOAD_DEPLOYMENT, 0)
    finally:
        samples = sampler.stop()
    assert not sampler.errors, sampler.errors
    assert len(samples) >= scaled_at + REFRESH_ROUNDS_AFTER_SCALE, "no refreshes after the scale"
    out_of_sync = [(t, s) for t, s in samples if any(v != "Synced" for v in s.values())]
    assert not out_of_sync, f"Applications left Synced after an HPA scale: {out_of_sync}"
