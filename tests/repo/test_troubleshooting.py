"""docs/troubleshooting.md against this repository's rendered overlays: every label selector,
Deployment, Service and port its commands name exists in every env, the seed's Airbyte label
matches nothing, the Airbyte components it lists are exactly the rendered ones, and its table of
Services, HPAs and PDBs is what each env renders. A change of the manifests that the page does
not follow fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gitops.config import RepoConfig
from tests.conftest import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "troubleshooting.md"
TEXT = PAGE.read_text(encoding="utf-8")
Docs = dict[str, list[dict[str, Any]]]


def _commands() -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```", TEXT, flags=re.MULTILINE | re.DOTALL)
    return [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]


def _env_objects(docs: Docs, env: str) -> list[dict[str, Any]]:
    return [d for name, found in docs.items() if name.startswith(f"{env}/") for d in found]


def _pod_labels(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The labels of every pod template (Deployments, StatefulSets, Jobs...)."""
    found = []
    for obj in objects:
        template = (obj.get("spec") or {}).get("template")
        if isinstance(template, dict):
            found.append(dict((template.get("metadata") or {}).get("labels") or {}))
    return found


def _matches(selector: str, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in (term.split("=", 1) for term in selector.split(",")))


def test_the_page_has_commands_to_check() -> None:
    assert sum(c.startswith("kubectl ") for c in _commands()) >= 10


def test_every_pod_selector_deployment_and_service_of_the_commands_exists_in_every_env(
    docs: Docs, repo_config: RepoConfig
) -> None:
    problems = []
    for env in repo_config.envs:
        objects = [
            o for o in _env_objects(docs, env) if o["metadata"].get("namespace") == "integration"
        ]
        for command in _commands():
            problems += [f"{env}: {p}: {command}" for p in _command_problems(command, objects)]
    assert not problems, problems


def _command_problems(command: str, objects: list[dict[str, Any]]) -> list[str]:
    """What one command names that the env does not render."""
    pods = _pod_labels(objects)
    names = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    problems = []
    for selector in re.findall(r"-l (\S+)", command):
        if "endpointslices" in command:  # the EndpointSlice controller's label
            service = selector.split("=", 1)[1]
            if ("Service", service) not in names:
                problems.append(f"no Service {service}")
        elif not any(_matches(selector, labels) for labels in pods):
            problems.append(f"-l {selector} matches no pod")
    problems += [
        f"no Deployment {name}"
        for name in re.findall(r"deployment/(\S+)", command)
        if ("Deployment", name) not in names
    ]
    for name, _local, remote in re.findall(r"service/(\S+) (\d+):(\d+)", command):
        service = names.get(("Service", name))
        ports = [p["port"] for p in (service or {}).get("spec", {}).get("ports", [])]
        if int(remote) not in ports:
            problems.append(f"Service {name} has no port {remote}")
    return problems


def test_the_seeds_airbyte_label_matches_nothing_and_the_components_are_listed(
    docs: Docs, repo_config: RepoConfig
) -> None:
    assert "`app=airbyte` | **matches nothing**" in TEXT
    row = next(line for line in TEXT.splitlines() if line.startswith("| Airbyte |"))
    listed = set(re.findall(r"`(airbyte-[a-z-]+)`", row))
    for env in repo_config.envs:
        pods = _pod_labels(_env_objects(docs, env))
        assert not any(_matches("app=airbyte", labels) for labels in pods)
        airbyte = {
            labels["app"]
            for labels in pods
            if _matches("app.kubernetes.io/part-of=airbyte", labels)
        }
        assert airbyte == listed, env


def _rendered_cell(objects: list[dict[str, Any]], kind: str, name: str) -> str:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if not found:
        return "-"
    spec = found[0]["spec"]
    if kind == "Service":
        return str(next(p["port"] for p in spec["ports"] if p.get("name") == "http"))
    if kind == "HorizontalPodAutoscaler":
        return f"{spec.get('minReplicas', 1)}..{spec['maxReplicas']}"
    key = "minAvailable" if "minAvailable" in spec else "maxUnavailable"
    return f"{key} {spec[key]}"


KINDS = {"Service": "Service", "HPA": "HorizontalPodAutoscaler", "PDB": "PodDisruptionBudget"}


@pytest.mark.parametrize("kind", ["Service", "HPA", "PDB"])
def test_the_table_is_what_every_env_renders(
    kind: str, docs: Docs, repo_config: RepoConfig
) -> None:
    rows = [line for line in TEXT.splitlines() if line.startswith(f"| {kind} `")]
    envs = list(repo_config.envs)
    header = next(line for line in TEXT.splitlines() if line.startswith("| object |"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == envs
    table = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        named = re.search(r"`([^`]+)`", cells[0])
        assert named is not None, row
        table[named.group(1)] = cells[1:]
    rendered = {
        o["metadata"]["name"]
        for env in envs
        for o in _env_objects(docs, env)
        if o["kind"] == KINDS[kind]
        and (kind != "Service" or o["metadata"]["name"] in ("healthz", "kpis-api"))
    }
    assert set(table) == rendered
    for name, cells in table.items():
        expected = [_rendered_cell(_env_objects(docs, env), KINDS[kind], name) for env in envs]
        assert cells == expected, name
