"""The seed's runbook (its README's "Troubleshooting" and each service's "Verificar"/"Uso"), run
verbatim against the deployed stack: each command exactly as an operator types it, with only
`kubectl` resolved to the suite's binary and KUBECONFIG set.

Where the seed and our objects disagreed, the objects changed (docs/node-tier.md, "The seed's
runbook"):
* `curl http://healthz.integration.svc.cluster.local/health` has no port, so 80: the healthz
  Service also listens on 80 (same container port as 8080, which the seed's port-forward
  uses); kpis-api's image ships curl; base/shared allows kpis-api -> healthz through the
  namespace's default-deny-ingress (the check is exactly what that policy would drop).
* `kubectl get pods -l app=airbyte` cannot match our Airbyte pods: `app` is each Airbyte
  component's own selector label (app=airbyte-server, ...), immutable in a live Deployment and
  single-valued. The runbook's command is `-l app.kubernetes.io/part-of=airbyte`; the test
  shows both what the seed's command lists (nothing) and that ours lists every Airbyte pod.
"""

from __future__ import annotations

import json
import shlex
import urllib.request
from collections.abc import Iterator

import pytest

from gitops.runner import Command, CommandResult
from tests.e2e.harness.deploy import NAMESPACE, find
from tests.e2e.harness.environment import E2EEnvironment
from tests.e2e.harness.kube import TRANSIENT
from tests.e2e.harness.portforward import forwarding
from tests.e2e.harness.wait import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.needs_containers]

GET_HEALTHZ = "kubectl get pods -n integration -l app=healthz"
GET_KPIS = "kubectl get pods -n integration -l app=kpis-api"
GET_AIRBYTE = "kubectl get pods -n integration -l app=airbyte"
GET_AIRBYTE_OURS = "kubectl get pods -n integration -l app.kubernetes.io/part-of=airbyte"
LOGS_HEALTHZ = "kubectl logs -n integration deployment/healthz"
EXEC_CURL = (
    "kubectl exec -n integration deployment/kpis-api -- "
    "curl http://healthz.integration.svc.cluster.local/health"
)
FORWARD_HEALTHZ = "kubectl port-forward -n integration service/healthz 8080:8080"
FORWARD_KPIS = "kubectl port-forward -n integration service/kpis-api 3001:3001"


def argv(env: E2EEnvironment, command: str) -> tuple[str, ...]:
    words = shlex.split(command)
    assert words[0] == "kubectl", command
    return (env.cluster.kubectl, *words[1:])


def run(env: E2EEnvironment, command: str, timeout: float = 60) -> CommandResult:
    return env.runner(Command(argv(env, command), timeout=timeout, env=env.cluster.kubectl_env()))


def pod_names(env: E2EEnvironment, selector: str) -> set[str]:
    return {p["metadata"]["name"] for p in env.k.pods(NAMESPACE, selector)}


def listed(output: str) -> set[str]:
    """Pod names from `kubectl get pods` table output (NAME column)."""
    return {line.split()[0] for line in output.splitlines()[1:] if line.strip()}


@pytest.mark.parametrize(
    ("command", "selector"), [(GET_HEALTHZ, "app=healthz"), (GET_KPIS, "app=kpis-api")]
)
def test_get_pods_lists_every_pod_of_the_service(
    stack: E2EEnvironment, command: str, selector: str
) -> None:
    expected = pod_names(stack, selector)
    assert expected, f"no pod matches {selector}: the stack is not deployed"
    result = run(stack, command)
    assert listed(result.stdout) == expected, result.stdout
    assert all(" Running " in line for line in result.stdout.splitlines()[1:]), result.stdout


def test_logs_of_the_healthz_deployment(stack: E2EEnvironment) -> None:
    # One request we can recognise: dev logs every access at LOG_LEVEL debug.
    run(stack, EXEC_CURL)

    def logged() -> CommandResult | None:
        result = run(stack, LOGS_HEALTHZ)
        return result if '"/health"' in result.stdout else None

    result = wait_until(
        logged,
        timeout=30,
        what="healthz's access log to show a /health request",
        retry_on=TRANSIENT,
    )
    assert result is not None
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert records, f"healthz logs no JSON records: {result.stdout[:500]}"


def test_exec_curl_from_kpis_api_reaches_healthz_by_its_cluster_name(stack: E2EEnvironment) -> None:
    result = run(stack, EXEC_CURL)
    body = json.loads(result.stdout)
    assert body["status"] == "healthy", result.stdout


@pytest.mark.parametrize(
    ("command", "path"), [(FORWARD_HEALTHZ, "/health"), (FORWARD_KPIS, "/health")]
)
def test_port_forward_to_the_service(stack: E2EEnvironment, command: str, path: str) -> None:
    with forwarding(argv(stack, command), stack.cluster.kubectl_env(), command) as port:
        assert port == int(command.rsplit(":", 1)[1]), "the runbook's local port"

        def get() -> tuple[int, bytes]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return answer.status, answer.read()

        status, body = wait_until(
            get, timeout=30, what=f"{path} through {command}", retry_on=(OSError,)
        )
    assert status == 200, (status, body)


@pytest.fixture
def airbyte(stack: E2EEnvironment) -> Iterator[set[str]]:
    """The dev Airbyte overlay, applied as rendered; its pods run on the simulated pool (the
    node backend's placement policy). Yields the names of the pods it created; removed after."""
    documents = stack.render_dev_overlays(services=("airbyte",))
    stack.apply(documents, "airbyte")
    try:
        workloads = {d["metadata"]["name"] for d in find(documents, "Deployment")}

        def running() -> set[str] | None:
            pods = stack.k.pods(NAMESPACE, "app.kubernetes.io/part-of=airbyte")
            # <deployment>-<replicaset hash>-<pod hash>; the bootloader Job's pod completes.
            served = {p["metadata"]["name"].rsplit("-", 2)[0]: p for p in pods}
            up = all(
                served.get(w, {}).get("status", {}).get("phase") == "Running" for w in workloads
            )
            return {p["metadata"]["name"] for p in pods} if up else None

        names = wait_until(running, timeout=180, what="Airbyte's pods Running", retry_on=TRANSIENT)
        assert names is not None
        yield names
    finally:
        manifest = stack.workdir / "airbyte.yaml"
        stack.kubectl(
            "delete", "--filename", str(manifest), "--ignore-not-found", "--wait=false", timeout=120
        )


@pytest.mark.needs_simulated_pool
def test_get_pods_of_airbyte_seed_selector_matches_nothing_ours_lists_them(
    stack: E2EEnvironment, airbyte: set[str]
) -> None:
    seed = run(stack, GET_AIRBYTE)
    assert not listed(seed.stdout), f"the seed's selector now matches pods: {seed.stdout}"
    assert "No resources found" in seed.stdout + seed.stderr
    ours = run(stack, GET_AIRBYTE_OURS)
    assert listed(ours.stdout) == airbyte, ours.stdout
