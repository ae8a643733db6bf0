"""What the e2e suite deploys: the real dev overlays plus tests/e2e/component, rendered by
the repository's own kustomize settings (gitops.yaml buildOptions, the pinned kubectl).

The overlays are never edited. At run time a throw-away kustomization is written in a temp
dir; its ``resources:`` point (relative paths) at overlays/dev/<service>, its ``components:``
at tests/e2e/component, and its ``images:`` swap the registry images for the local tags:

    >>> stack = E2EStack(repo, ("overlays/dev/healthz", "overlays/dev/kpis-api"), images)
    >>> documents = stack.render(config, kustomize)
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops.config import RepoConfig
from gitops.k8s import pod_spec_of, spec_containers
from gitops.kustomize import Kustomize
from gitops.runner import Command, CommandResult, run
from tests.e2e.harness.expectations import simulated_ready_delay
from tests.e2e.harness.images import LocalImage, NamedImage

Runner = Callable[[Command], CommandResult]
Document = dict[str, Any]

E2E_DIR = Path(__file__).resolve().parent.parent
COMPONENT_DIR = E2E_DIR / "component"
MANIFESTS_DIR = E2E_DIR / "manifests"
NAMESPACE = "integration"
DEV_SERVICES = ("healthz", "kpis-api")
# What the stack deploys: the two services and the namespace's shared objects (its Ingress and
# NetworkPolicies, default-deny-ingress included), as Argo CD syncs them into every env.
STACK_SERVICES = (*DEV_SERVICES, "shared")
# Label on every object that exists only for the test (manifests/*/kustomization.yaml).
TEST_ONLY_LABEL = ("app.kubernetes.io/part-of", "integration-e2e")
FIELD_MANAGER = "integration-e2e"
# Read by the KWOK cluster tier's pod-ready stage (tests/cluster/harness.py): a simulated pod
# turns Ready that long after it starts, as a real one does once its probes pass.
READY_DELAY_ANNOTATION = "pod-ready.stage.kwok.x-k8s.io/delay"


class RenderError(RuntimeError):
    """The e2e kustomization did not render; the message carries kustomize's error."""


def overlay_paths(env: str = "dev", services: Sequence[str] = DEV_SERVICES) -> tuple[str, ...]:
    return tuple(f"overlays/{env}/{service}" for service in services)


def kustomization_text(
    directory: Path,
    repo: Path,
    resources: Sequence[str],
    components: Sequence[Path],
    images: Mapping[str, LocalImage | NamedImage],
) -> str:
    """The temp kustomization: relative paths (kustomize refuses absolute ones), ``images:``
    keyed by the image name the overlays use (e.g. ``ghcr.io/example-org/healthz``)."""

    def rel(path: Path) -> str:
        return os.path.relpath(path.resolve(), directory.resolve())

    document: Document = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [rel(repo / r) for r in resources],
    }
    if components:
        document["components"] = [rel(c) for c in components]
    if images:
        document["images"] = [
            {"name": name, "newName": image.repository, "newTag": image.tag}
            for name, image in sorted(images.items())
        ]
    header = "# Written by the e2e harness in a temp dir; never committed.\n"
    return header + yaml.safe_dump(document, sort_keys=False)


@dataclass(frozen=True)
class Renderer:
    """The repository's own kustomize settings (gitops.yaml buildOptions, the pinned binary)."""

    repo: Path
    config: RepoConfig
    kustomize: Kustomize
    runner: Runner = run


def render_kustomization(
    renderer: Renderer,
    resources: Sequence[str],
    components: Sequence[Path] = (),
    images: Mapping[str, LocalImage | NamedImage] | None = None,
) -> list[Document]:
    """Render resources (+ components, + image swaps) through a temp kustomization."""
    repo, config = renderer.repo, renderer.config
    with tempfile.TemporaryDirectory(prefix="gitops-e2e-") as temp:
        directory = Path(temp)
        (directory / "kustomization.yaml").write_text(
            kustomization_text(directory, repo, resources, components, images or {}),
            encoding="utf-8",
        )
        command = Command(
            renderer.kustomize.build_argv(str(directory), config.kustomize.build_options),
            cwd=repo,
            timeout=config.kustomize.timeout,
        )
        try:
            result = renderer.runner(command)
        except Exception as exc:
            raise RenderError(f"rendering {', '.join(resources)} for e2e failed: {exc}") from exc
    return parse_documents(result.stdout)


def parse_documents(text: str) -> list[Document]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def dump_documents(documents: Iterable[Document]) -> str:
    return yaml.safe_dump_all(list(documents), sort_keys=False)


def images_by_app(documents: Iterable[Document], apps: Sequence[str]) -> dict[str, tuple[str, str]]:
    """{app: (image name, tag)} for each app whose image the rendered overlays use, matched
    by the image's last path segment: ``ghcr.io/example-org/healthz:1.1.0-rc.1`` is healthz's.
    Read from what renders, so the suite follows the overlays when an image is renamed."""
    found: dict[str, tuple[str, str]] = {}
    for image in container_images(documents):
        name, tag = image.split("@", 1)[0], ""
        if ":" in name.rsplit("/", 1)[-1]:
            name, tag = name.rsplit(":", 1)
        short = name.rsplit("/", 1)[-1]
        if short in apps:
            found.setdefault(short, (name, tag))
    missing = sorted(set(apps) - set(found))
    if missing:
        raise RenderError(f"no rendered container uses an image for app(s) {', '.join(missing)}")
    return found


# The containers whose images a node pulls before the pod runs.
_IMAGE_LISTS = ("initContainers", "containers")


def pod_spec(document: Document) -> Mapping[str, Any]:
    return pod_spec_of(document)


def container_images(documents: Iterable[Document]) -> list[str]:
    images: list[str] = []
    for document in documents:
        spec = pod_spec(document)
        images.extend(str(c.get("image", "")) for c in spec_containers(spec, _IMAGE_LISTS))
    return images


def find(documents: Iterable[Document], kind: str, name: str | None = None) -> list[Document]:
    return [
        d
        for d in documents
        if d.get("kind") == kind and (name is None or (d.get("metadata") or {}).get("name") == name)
    ]


def find_one(documents: Iterable[Document], kind: str, name: str) -> Document:
    matches = find(documents, kind, name)
    if len(matches) != 1:
        raise LookupError(
            f"expected exactly one {kind}/{name} in the rendered stack, got {len(matches)}"
        )
    return matches[0]


def is_test_only(document: Document) -> bool:
    key, value = TEST_ONLY_LABEL
    return ((document.get("metadata") or {}).get("labels") or {}).get(key) == value


def partition_test_only(documents: Iterable[Document]) -> tuple[list[Document], list[Document]]:
    """(test-only prerequisites, the overlays' objects): the database and its Secret go first,
    as they would exist before an Argo CD sync."""
    prerequisites: list[Document] = []
    workloads: list[Document] = []
    for document in documents:
        (prerequisites if is_test_only(document) else workloads).append(document)
    return prerequisites, workloads


def argo_hooks(documents: Iterable[Document]) -> list[Document]:
    """Objects Argo CD would run as sync hooks (e.g. kpis-api's PreSync migrate Job).
    Applied without Argo CD they are plain objects; the harness waits for them first."""
    return [
        d
        for d in documents
        if "argocd.argoproj.io/hook" in ((d.get("metadata") or {}).get("annotations") or {})
    ]


def namespace_document(name: str, labels: Mapping[str, str]) -> Document:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels)},
    }


def managed_namespace_labels(argocd_objects: Iterable[Document]) -> dict[str, str]:
    """The Pod Security labels the ApplicationSet has Argo CD put on the namespace, so the
    directly deployed stack runs under the same admission rules as a synced one."""
    for obj in argocd_objects:
        if obj.get("kind") != "ApplicationSet":
            continue
        policy = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "syncPolicy"
        ) or {}
        labels = (policy.get("managedNamespaceMetadata") or {}).get("labels") or {}
        return {str(k): str(v) for k, v in labels.items()}
    return {}


def apply_command(kubectl: str, manifest: Path, env: Mapping[str, str]) -> Command:
    """Server-side apply, the way Argo CD syncs these apps (ServerSideApply=true), taking
    ownership from an earlier run or an earlier Argo CD sync on a kept cluster."""
    return Command(
        (
            kubectl,
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={FIELD_MANAGER}",
            "--filename",
            str(manifest),
        ),
        timeout=180,
        env=env,
    )


def delete_command(
    kubectl: str, kind: str, name: str, namespace: str, env: Mapping[str, str]
) -> Command:
    return Command(
        (
            kubectl,
            "delete",
            kind,
            name,
            "--namespace",
            namespace,
            "--ignore-not-found",
            "--wait=true",
            "--timeout=120s",
        ),
        timeout=180,
        env=env,
    )


def with_ready_delays(documents: Sequence[Document]) -> list[Document]:
    """The documents with each Deployment's pods given the readiness delay of its slowest
    container's probes (expectations.simulated_ready_delay), for a backend whose pods run no
    containers: without it a KWOK pod is Ready the moment it starts, and a drain could never
    outpace a replacement. Copies; the rendered stack itself is unchanged."""
    out: list[Document] = []
    for doc in documents:
        if doc.get("kind") == "Deployment":
            doc = copy.deepcopy(doc)
            template = doc["spec"]["template"]
            containers = template["spec"].get("containers") or []
            delay = max((simulated_ready_delay(c) for c in containers), default=0)
            annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
            annotations[READY_DELAY_ANNOTATION] = f"{delay}s"
        out.append(doc)
    return out
