"""Plan a release edit: which kustomization files change, and which image moves from what to what.

Planning reads and renders, it never writes. The overlays are rendered with the same kustomize
and cache as ``gitops render``, because what an env runs is what kustomize emits (an image may
be pinned in the base, renamed by ``newName``, or overridden per env); the edit itself is one
``images:`` entry of ``overlays/<env>/<service>/kustomization.yaml``.

    >>> plan = plan_set_image(workspace, "dev", "healthz", parse_version("1.2.0"))
    >>> [c.line() for c in plan.changes], list(plan.files)
    (['dev/healthz: ghcr.io/example-org/healthz 1.1.0-rc.1 -> 1.2.0'],
     ['overlays/dev/healthz/kustomization.yaml'])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.discovery import Overlay, select_overlays
from gitops.errors import EXIT_PROBLEMS
from gitops.k8s import CONTAINER_LISTS
from gitops.kustomization import find_kustomization
from gitops.model import ImageRef, Resource, image_name, parse_image
from gitops.release.refs import ImagePin, ReleaseError, Version, check_version
from gitops.release.yamledit import read_image_entries, set_image_entry
from gitops.workspace import Workspace


class OverlayRenderError(ReleaseError):
    """An overlay involved in the edit does not render: the repository has a problem (exit 1)."""

    exit_code = EXIT_PROBLEMS


@dataclass(frozen=True)
class ContainerImage:
    workload: str  # "Deployment/healthz"
    container: str
    image: ImageRef

    @property
    def version(self) -> Version:
        return Version(self.image.tag, self.image.digest)


@dataclass(frozen=True)
class OverlayImages:
    """The images one rendered overlay runs, and its kustomization's ``images:`` entries."""

    overlay: Overlay
    kustomization: str  # repo-relative path
    text: str  # the kustomization as read (bytes decoded, line endings kept)
    entries: tuple[dict[str, Any], ...]
    containers: tuple[ContainerImage, ...]

    def source_name(self, rendered_name: str) -> str:
        """The name an ``images:`` entry must carry to match a rendered image: the rendered
        name itself, unless an entry of this overlay renamed it with ``newName``."""
        for entry in self.entries:
            if entry.get("newName") == rendered_name and entry.get("name"):
                return str(entry["name"])
        return rendered_name

    def by_source_name(self) -> dict[str, list[ContainerImage]]:
        groups: dict[str, list[ContainerImage]] = {}
        for container in self.containers:
            groups.setdefault(self.source_name(container.image.name), []).append(container)
        return groups

    def versions(self, source_name: str) -> set[Version]:
        return {c.version for c in self.by_source_name().get(source_name, [])}


@dataclass(frozen=True)
class ImageChange:
    env: str
    service: str
    image: str  # the name an images: entry matches
    old: tuple[Version, ...]  # what the overlay renders today (usually one version)
    new: Version
    path: str  # the kustomization that changes

    def old_text(self) -> str:
        return ", ".join(str(v) for v in self.old) or "(none)"

    def line(self) -> str:
        return f"{self.env}/{self.service}: {self.image} {self.old_text()} -> {self.new}"

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "service": self.service,
            "image": self.image,
            "old": [str(v) for v in self.old],
            "new": str(self.new),
            "newTag": self.new.tag,
            "digest": self.new.digest,
            "file": self.path,
        }


@dataclass(frozen=True)
class ReleasePlan:
    action: str  # "set-image" | "promote"
    changes: tuple[ImageChange, ...]
    # repo-relative path -> (text as read, text to write)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    from_env: str | None = None
    to_env: str | None = None

    @property
    def services(self) -> list[str]:
        return sorted({c.service for c in self.changes})

    def commit_message(self) -> str:
        """A conventional-commit subject naming the env as scope, then one line per change."""
        envs = sorted({c.env for c in self.changes})
        scope = ",".join(envs)
        services = ", ".join(self.services)
        if self.action == "promote":
            subject = f"chore({scope}): promote {services} from {self.from_env}"
        elif len(self.changes) == 1:
            subject = f"chore({scope}): set {services} image to {self.changes[0].new}"
        else:
            subject = f"chore({scope}): set {services} images"
        body = "\n".join(c.line() for c in self.changes)
        return f"{subject}\n\n{body}\n"


def read_text(path: Path) -> str:
    # Bytes decoded as they are: "\r\n" stays "\r\n", so untouched lines stay byte-identical.
    return path.read_bytes().decode("utf-8")


def container_images(resources: Iterable[Resource]) -> list[ContainerImage]:
    """Every container image of a rendered overlay's objects (parsed once, as check reads them),
    wherever a pod spec sits (Deployments, CronJobs, Pods...): kustomize's images transformer
    also looks in every container list."""
    found: list[ContainerImage] = []
    for resource in resources:
        body = resource.body
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        workload = f"{body.get('kind')}/{(metadata or {}).get('name')}"
        for container in _containers(body):
            image = container.get("image")
            if isinstance(image, str) and image.strip():
                found.append(
                    ContainerImage(workload, str(container.get("name")), parse_image(image.strip()))
                )
    return found


def _containers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


def load_overlay_images(
    workspace: Workspace, overlays: Sequence[Overlay]
) -> dict[str, OverlayImages]:
    """Render ``overlays`` (in parallel, cached) and collect their images, by ``env/service``.
    An overlay that does not render stops the edit (exit 1), naming every failure."""
    loaded, failures = read_overlay_images(workspace, overlays)
    if failures:
        raise OverlayRenderError(
            "; ".join(failures) + " (the images of an overlay that does not render are unknown)"
        )
    return loaded


def read_overlay_images(
    workspace: Workspace, overlays: Sequence[Overlay]
) -> tuple[dict[str, OverlayImages], list[str]]:
    """Like :func:`load_overlay_images`, but the overlays that do not render are returned as
    one failure line each next to the images of the others."""
    repo = workspace.repo
    results = workspace.render(list(overlays))
    loaded: dict[str, OverlayImages] = {}
    failures: list[str] = []
    for result in results:
        if not result.ok:
            failures.append(result.failure_line())
            continue
        overlay = result.overlay
        path = find_kustomization(repo / overlay.rel_path)
        assert path is not None  # discovery only lists overlays with a kustomization
        rel = path.relative_to(repo).as_posix()
        text = read_text(path)
        loaded[overlay.name] = OverlayImages(
            overlay,
            rel,
            text,
            tuple(read_image_entries(text, rel)),
            tuple(container_images(result.resources)),
        )
    return loaded, failures


def _overlay(workspace: Workspace, env: str, service: str) -> Overlay:
    selected = select_overlays(workspace.layout(), workspace.config, env, service)
    if not selected:
        raise ReleaseError(f"no overlay overlays/{env}/{service} (the service has none in {env})")
    return selected[0]


# --- set-image ----------------------------------------------------------------------------------


# Over six parameters: the docstring says why (one per option, no hidden state).
def plan_set_image(
    workspace: Workspace,
    env: str,
    service: str,
    version: Version,
    image: str | None = None,
    container: str | None = None,
) -> ReleasePlan:
    """Pin one image of ``env/service`` to ``version``. The image is named by ``image`` (an
    ``images:`` entry name, its ``newName``, or a rendered image name), by ``container``, or
    is the overlay's only image; it must be one a container of the rendered overlay uses.
    Six parameters: the workspace and ``gitops set-image``'s arguments, one each."""
    return plan_set_images(workspace, env, service, [ImagePin(version, image, container)])


def plan_set_images(
    workspace: Workspace, env: str, service: str, pins: Sequence[ImagePin]
) -> ReleasePlan:
    """Pin several images of ``env/service`` at once, in one edit of its kustomization: every
    pin is resolved (and any refused) before the file's new text is made, so the plan is all
    of them or an error. An image that already runs its version is a note, not a change."""
    for pin in pins:
        check_version(pin.version, str(pin.version))
    overlay = _overlay(workspace, env, service)
    images = load_overlay_images(workspace, [overlay])[overlay.name]
    names = [_choose_image(images, pin.image, pin.container) for pin in pins]
    _refuse_repeats(images.overlay.rel_path, pins, names)
    text = images.text
    changes: list[ImageChange] = []
    notes: list[str] = []
    for name, pin in zip(names, pins, strict=True):
        old = tuple(sorted(images.versions(name), key=str))
        if old == (pin.version,):
            notes.append(f"{env}/{service}: {name} already runs {pin.version}; nothing to change")
            continue
        text = set_image_entry(text, images.kustomization, name, pin.version)
        changes.append(ImageChange(env, service, name, old, pin.version, images.kustomization))
    files = {images.kustomization: (images.text, text)} if changes else {}
    return ReleasePlan("set-image", tuple(changes), files, tuple(notes), to_env=env)


def _refuse_repeats(where: str, pins: Sequence[ImagePin], names: Sequence[str]) -> None:
    """Two arguments naming one image (the same name twice, or a name and its ``newName``)
    would leave the later one's version in the file: refused, naming both."""
    seen: dict[str, ImagePin] = {}
    for pin, name in zip(pins, names, strict=True):
        if name in seen:
            first = seen[name]
            raise ReleaseError(
                f"{where}: {first.image or first.container}={first.version} and "
                f"{pin.image or pin.container}={pin.version} both name image {name}; give it once"
            )
        seen[name] = pin


def _choose_image(images: OverlayImages, image: str | None, container: str | None) -> str:
    where = images.overlay.rel_path
    groups = images.by_source_name()
    used = ", ".join(sorted(groups)) or "none"
    if image is not None:
        # "--image ghcr.io/org/web:1.2" names the image ghcr.io/org/web: the tag is not part
        # of what an images: entry matches.
        name = images.source_name(image_name(image))
        if name not in groups:
            raise ReleaseError(
                f"{where}: no container of the rendered overlay uses image {image!r} "
                f"(images used: {used})"
            )
        return name
    if container is not None:
        names = sorted(
            {
                images.source_name(c.image.name)
                for c in images.containers
                if c.container == container
            }
        )
        if not names:
            containers = ", ".join(sorted({c.container for c in images.containers})) or "none"
            raise ReleaseError(
                f"{where}: no container named {container!r} in the rendered overlay "
                f"(containers: {containers})"
            )
        if len(names) > 1:
            raise ReleaseError(
                f"{where}: containers named {container!r} use several images "
                f"({', '.join(names)}); name one with --image"
            )
        return names[0]
    if len(groups) != 1:
        raise ReleaseError(
            f"{where}: the overlay uses {len(groups)} images ({used}); name one with "
            "--image or --container"
        )
    return next(iter(groups))


# --- promote ------------------------------------------------------------------------------------


def check_order(envs: Sequence[str], from_env: str, to_env: str, force: bool) -> str | None:
    """Promotion goes one step along ``gitops.yaml envs``. Returns a note when ``force``
    allowed a backward or skipping promotion; raises otherwise."""
    for env in (from_env, to_env):
        if env not in envs:
            raise ReleaseError(f"unknown env {env!r}: gitops.yaml envs are {', '.join(envs)}")
    if from_env == to_env:
        raise ReleaseError(f"--from and --to are both {from_env!r}: nothing to promote")
    order = " -> ".join(envs)
    source, target = envs.index(from_env), envs.index(to_env)
    if target == source + 1:
        return None
    if target < source:
        why = f"{to_env} comes before {from_env} in gitops.yaml envs ({order}): a rollback"
    else:
        skipped = ", ".join(envs[source + 1 : target])
        why = f"promoting {from_env} -> {to_env} skips {skipped} (gitops.yaml envs: {order})"
    if not force:
        raise ReleaseError(f"{why}; pass --force to do it anyway")
    return f"forced: {why}"


def _promoted_services(
    overlays: Sequence[Overlay], from_env: str, to_env: str, services: Iterable[str] | None
) -> list[str]:
    """The services to promote: those asked for (each must exist in both envs), or every
    service both envs have."""
    names = {o.name for o in overlays}
    in_both = sorted(
        {o.service for o in overlays if o.env == from_env}
        & {o.service for o in overlays if o.env == to_env}
    )
    if services is None:
        chosen = in_both
    else:
        chosen = sorted(set(services))
        for service in chosen:
            for env in (from_env, to_env):
                if f"{env}/{service}" not in names:
                    raise ReleaseError(
                        f"no overlay overlays/{env}/{service}: cannot promote {service} "
                        f"(services in both {from_env} and {to_env}: {', '.join(in_both)})"
                    )
    if not chosen:
        raise ReleaseError(f"{from_env} and {to_env} have no service in common")
    return chosen


def _promote_overlay(
    source: OverlayImages, target: OverlayImages, from_env: str, service: str
) -> tuple[str, list[ImageChange], list[str]]:
    """The target overlay's kustomization with the source's image versions, the changes made
    and notes (an image the target does not use)."""
    to_env = target.overlay.env
    target_groups = target.by_source_name()
    text = target.text
    changes: list[ImageChange] = []
    notes: list[str] = []
    for name, containers in sorted(source.by_source_name().items()):
        versions = sorted({c.version for c in containers}, key=str)
        if len(versions) > 1:
            raise ReleaseError(
                f"{source.overlay.rel_path}: image {name} runs in several versions "
                f"({', '.join(str(v) for v in versions)}); promote cannot choose one"
            )
        if name not in target_groups:
            notes.append(f"{to_env}/{service}: does not use {name}; not promoted")
            continue
        version = versions[0]
        current = tuple(sorted({c.version for c in target_groups[name]}, key=str))
        if current == (version,):
            continue
        check_version(version, f"{from_env}/{service}: {name}", allow_mutable=True)
        text = set_image_entry(text, target.kustomization, name, version)
        changes.append(ImageChange(to_env, service, name, current, version, target.kustomization))
    return text, changes, notes


def plan_promote(
    workspace: Workspace,
    from_env: str,
    to_env: str,
    services: Iterable[str] | None = None,
    force: bool = False,
) -> ReleasePlan:
    """Make ``to_env`` run the image versions (tags and digests) ``from_env`` runs, for the
    given services (None: every service both envs have). Only versions are copied: an env's
    ``newName`` (a registry mirror, say) stays."""
    notes: list[str] = []
    forced = check_order(workspace.config.envs, from_env, to_env, force)
    if forced:
        notes.append(forced)
    layout = workspace.layout()
    by_name = {o.name: o for o in layout.overlays}
    chosen = _promoted_services(layout.overlays, from_env, to_env, services)
    overlays = [by_name[f"{env}/{s}"] for s in chosen for env in (from_env, to_env)]
    loaded = load_overlay_images(workspace, overlays)
    changes: list[ImageChange] = []
    files: dict[str, tuple[str, str]] = {}
    for service in chosen:
        source, target = loaded[f"{from_env}/{service}"], loaded[f"{to_env}/{service}"]
        text, service_changes, service_notes = _promote_overlay(source, target, from_env, service)
        changes += service_changes
        notes += service_notes
        if text != target.text:
            files[target.kustomization] = (target.text, text)
    if not changes:
        notes.append(
            f"{to_env} already runs the images of {from_env} for {', '.join(chosen)}; "
            "nothing to change"
        )
    return ReleasePlan(
        "promote", tuple(changes), files, tuple(notes), from_env=from_env, to_env=to_env
    )
