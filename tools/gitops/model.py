"""The objects every check works on: rendered resources that know where they came from, and
findings about them.

    >>> key = ResourceKey("apps/v1", "Deployment", "integration", "healthz")
    >>> str(key)
    'apps/v1/Deployment/integration/healthz'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

from gitops.helm.source import ChartSource


@dataclass(frozen=True, order=True)
class Overlay:
    """A unit ``gitops`` renders: one kustomization directory, with its env and service, or a
    chart directory as one Argo CD Application renders it (``chart``)."""

    env_index: int  # position of the env in gitops.yaml: sorts overlays in promotion order
    env: str
    service: str
    rel_path: str  # "overlays/<env>/<service>", always with forward slashes
    reason: str = field(default="", compare=False)  # why this is a unit (render --list)
    # An Argo CD chart source: helm template of rel_path with this Application's arguments.
    chart: ChartSource | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"{self.env}/{self.service}"

    @property
    def label(self) -> str:
        """The unit as a person names it: its folder, and a chart source's Application."""
        if self.chart is None:
            return self.rel_path
        return f"{self.rel_path} (Argo CD Application {self.chart.application})"

    @property
    def key(self) -> str:
        """What tells units apart (renders, caches, resources' ``overlay_path``): the folder,
        and for a chart source also its Application (one chart may serve several)."""
        return self.rel_path if self.chart is None else f"{self.rel_path}@{self.chart.application}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def image_name(image: str) -> str:
    """An image reference without tag or digest: ``host:5000/team/web:1.2@sha256:..`` ->
    ``host:5000/team/web`` (a registry port is not a tag)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way kustomize's ``images:`` transformer splits it:
    ``ghcr.io/org/web:1.2@sha256:ab..`` -> name ``ghcr.io/org/web``, tag ``1.2``, digest
    ``sha256:ab..``."""

    name: str
    tag: str | None = None
    digest: str | None = None

    @property
    def version(self) -> str:
        """What follows the name: ``1.2``, ``@sha256:..``, ``1.2@sha256:..`` or ``""``."""
        return (self.tag or "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return (
            self.name
            + (f":{self.tag}" if self.tag else "")
            + (f"@{self.digest}" if self.digest else "")
        )


def parse_image(image: str) -> ImageRef:
    """Split an image reference into name, tag and digest (the name as :func:`image_name`)."""
    reference, _, digest = image.partition("@")
    name = image_name(image)
    rest = reference[len(name) :]
    tag = rest[1:] if rest.startswith(":") and len(rest) > 1 else None
    return ImageRef(name, tag, digest or None)


@dataclass(frozen=True, order=True)
class ResourceKey:
    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> ResourceKey:
        """The key of a manifest; missing or mistyped fields read as ``""`` (the schema rule
        reports the document itself).

        >>> str(ResourceKey.of({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "w"}}))
        'v1/Service//w'
        """
        raw_metadata = doc.get("metadata")
        metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, Mapping) else {}
        return cls(
            str(doc.get("apiVersion", "")),
            str(doc.get("kind", "")),
            str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""),
        )

    def __str__(self) -> str:
        return f"{self.api_version}/{self.kind}/{self.namespace}/{self.name}"

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    def short(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Resource:
    """One rendered document of one overlay."""

    env: str
    service: str
    key: ResourceKey
    body: dict[str, Any] = field(hash=False, compare=False, repr=False)
    source: str | None = None  # repo-relative file that defined it (kustomize origin)
    patches: tuple[str, ...] = ()  # repo-relative files that modified it
    overlay_path: str = ""  # "overlays/<env>/<service>"

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def namespace(self) -> str:
        return self.key.namespace

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.body.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def annotations(self) -> dict[str, str]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, dict) else {}


# A path into an object's body: mapping keys and list indexes ("spec", "rules", 0, "host").
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Location:
    """A line of a file of the repository: where a reviewer is shown a finding."""

    path: str  # repo-relative, an existing file
    line: int  # 1-based

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}


@dataclass(frozen=True, order=True)
class Finding:
    env: str
    service: str
    rule: str
    resource: str  # "apiVersion/Kind/namespace/name", or "" for findings about files
    message: str
    severity: Severity = Severity.ERROR
    source: str | None = None
    patches: tuple[str, ...] = ()
    # Where a finding points, not what it is (identity, order and hash leave them out):
    # the value the rule read (a path into the resource), and the line that set it
    # (gitops.locate), with the other files that shaped the resource.
    field: FieldPath = dataclass_field(default=(), compare=False)
    location: Location | None = dataclass_field(default=None, compare=False)
    related: tuple[Location, ...] = dataclass_field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "env": self.env,
            "service": self.service,
            "resource": self.resource,
            "message": self.message,
            "source": self.source,
            "patches": list(self.patches),
            "location": self.location.to_json() if self.location else None,
        }


# A field path as the API server prints one (k8s.io/apimachinery field.Path.String()): names
# joined by dots, list indexes and map keys in brackets (``nodeSelector[kubernetes.io/os]``).
_SEGMENT = r"[A-Za-z0-9_$-]+(?:\[[^\]\s]+\])*"
_MESSAGE_FIELD = re.compile(rf"({_SEGMENT}(?:\.{_SEGMENT})*): ")
_PART = re.compile(r"([A-Za-z0-9_$-]+)|\[([^\]]+)\]|\.")


def message_field(message: str) -> FieldPath:
    """The field a schema or API-rule message starts with (``spec.template.spec.containers[0]
    .image: ...``) as a path, so the finding is shown on the line that set it; () when the
    message names none."""
    match = _MESSAGE_FIELD.match(message)
    if match is None or ("." not in match.group(1) and "[" not in match.group(1)):
        return ()
    return field_path(match.group(1))


# How the API server names a field strict decoding refused (apimachinery's strict errors).
_UNKNOWN_FIELD = re.compile(r'unknown field "([^"]+)"')


def problem_field(message: str) -> FieldPath:
    """The field a validation message is about: the one it starts with, else the unknown field
    a strict decoding error names; () when it names none."""
    found = message_field(message)
    if found:
        return found
    unknown = _UNKNOWN_FIELD.search(message)
    return field_path(unknown.group(1)) if unknown else ()


def field_path(text: str) -> FieldPath:
    """A field path as the API server prints one, as a path: ``spec.containers[0].env[1]``
    gives ("spec", "containers", 0, "env", 1), a map key stays a string
    (``nodeSelector[kubernetes.io/os]``)."""
    path: list[str | int] = []
    for name, key in (m.groups() for m in _PART.finditer(text)):
        if name is not None:
            path.append(name)
        elif key is not None:
            path.append(int(key) if key.isdigit() else key)
    return tuple(path)
