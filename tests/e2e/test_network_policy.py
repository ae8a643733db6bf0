"""The namespace's NetworkPolicies (base/shared, as the stack deploys them) enforced for real:
default-deny-ingress drops what no policy allows, and each allowed path works.

Clients are pods of the kpis-api image (it ships curl) in the namespaces the policies name
(ingress-nginx, monitoring), in a namespace no policy names, and inside `integration` under a
label no policy names. Each asks a healthz and a kpis-api pod for /health by pod IP on their
`http` port (no Service in between: what a policy judges is the packet to the pod). A path is
allowed when curl gets HTTP 200; denied when it gets no answer at all within the timeout, while
an allowed client asks the same pod at the same moment and gets its 200 (so the denial is the
policy, not the network). Needs an enforcing engine: the node backend's kube-router.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops.runner import Command
from tests.e2e.harness.deploy import NAMESPACE
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.images import NamedImage
from tests.e2e.harness.kube import TRANSIENT
from tests.e2e.harness.wait import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.needs_containers, pytest.mark.needs_network_policy]

CLIENT_LABEL = "e2e-netpol-client"
OUTSIDER = "e2e-outsider"
# namespace -> whether base/shared lets it reach healthz and kpis-api on `http`
CLIENT_NAMESPACES = {"ingress-nginx": True, "monitoring": True, OUTSIDER: False, NAMESPACE: False}
TARGETS = {"healthz": ("app=healthz", 8080), "kpis-api": ("app=kpis-api", 3001)}
CURL_SECONDS = 4


def client_pod(image: str) -> dict[str, Any]:
    """A pod that idles until exec'd into; restricted-compliant (so it may run in
    `integration` too), labelled so no policy of ours selects it as a source."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": CLIENT_LABEL, "labels": {"app": CLIENT_LABEL}},
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "client",
                    "image": image,
                    "command": ["sleep", "infinity"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


@dataclass(frozen=True)
class Clients:
    env: E2EEnvironment
    targets: dict[str, str]  # target name -> http://<pod ip>:<port>/health


@pytest.fixture(scope="module")
def clients(stack: E2EEnvironment) -> Iterator[Clients]:
    image = stack.images["kpis-api"]
    assert isinstance(image, NamedImage), "the node backend names the rendered image"
    reference = f"{image.repository}:{image.tag}"
    created = [ns for ns in CLIENT_NAMESPACES if ns != NAMESPACE]
    try:
        for namespace in created:
            body: Any = {"metadata": {"name": namespace}}  # the client sends a dict as it is
            stack.k.core.create_namespace(body)
        for namespace in CLIENT_NAMESPACES:
            pod: Any = client_pod(reference)
            stack.k.core.create_namespaced_pod(namespace, pod)
        for namespace in CLIENT_NAMESPACES:
            wait_until(
                functools.partial(_running, stack, namespace),
                timeout=120,
                what=f"the client pod in {namespace} Running",
                retry_on=TRANSIENT,
            )
        targets = {}
        for name, (selector, port) in TARGETS.items():
            pod = stack.k.ready_pods(NAMESPACE, selector)[0]
            targets[name] = f"http://{pod['status']['podIP']}:{port}/health"
        yield Clients(stack, targets)
    finally:
        with contextlib.suppress(ApiException):  # not created: setup failed before it
            stack.k.core.delete_namespaced_pod(CLIENT_LABEL, NAMESPACE, grace_period_seconds=0)
        for namespace in created:
            with contextlib.suppress(ApiException):
                stack.k.core.delete_namespace(namespace)
        wait_until(
            lambda: not _namespaces(stack) & set(created),
            timeout=120,
            what=f"namespaces {created} deleted",
            retry_on=TRANSIENT,
        )


def _namespaces(env: E2EEnvironment) -> set[str]:
    return {n["metadata"]["name"] for n in map(env.k.to_dict, env.k.core.list_namespace().items)}


def _running(env: E2EEnvironment, namespace: str) -> bool:
    pod = env.k.to_dict(env.k.core.read_namespaced_pod(CLIENT_LABEL, namespace))
    return bool(pod.get("status", {}).get("phase") == "Running")


def curl(env: E2EEnvironment, namespace: str, url: str) -> tuple[int, str]:
    """(curl's exit status, the HTTP status it printed) from the client in ``namespace``."""
    command = Command(
        (
            env.cluster.kubectl,
            "exec",
            "--namespace",
            namespace,
            CLIENT_LABEL,
            "--",
            "curl",
            "--silent",
            "--output",
            "/dev/null",
            "--max-time",
            str(CURL_SECONDS),
            "--write-out",
            "%{http_code}",
            url,
        ),
        timeout=CURL_SECONDS + 30,
        env=env.cluster.kubectl_env(),
        ok_codes=frozenset(range(256)),
    )
    result = env.runner(command)
    return result.returncode, result.stdout.strip()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_default_deny_drops_what_no_policy_allows_and_each_allowed_path_answers(
    clients: Clients, target: str
) -> None:
    url = clients.targets[target]
    outcomes = {ns: curl(clients.env, ns, url) for ns in CLIENT_NAMESPACES}
    for namespace, allowed in CLIENT_NAMESPACES.items():
        code, http = outcomes[namespace]
        if allowed:
            assert (code, http) == (0, "200"), f"{namespace} -> {target} should answer: {outcomes}"
        else:
            # No HTTP answer at all (curl prints 000): dropped or rejected before the pod.
            assert code != 0 and http == "000", (
                f"{namespace} -> {target} must be denied: {outcomes}"
            )
