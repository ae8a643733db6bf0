"""Image references as the kubelet parses them: a container whose image the kubelet cannot parse
never starts (the pod waits in ``InvalidImageName``), although the API server accepted it.

The kubelet's ``applyDefaultImageTag`` (pkg/kubelet/images/image_manager.go, k8s.io/kubernetes
v1.36.3) calls ``parsers.ParseImageName``, which is ``ParseNormalizedNamed`` of
github.com/distribution/reference v0.6.0 (normalize.go; the grammar in regexp.go, the length
limit in reference.go); any error there is ``ErrInvalidImageName``. This module restates that
grammar:

    >>> reference_problem("registry.example.com/Team/web:1.0")
    'repository name (Team/web) must be lowercase'
    >>> reference_problem("Registry.Example.com:5000/team/web:1.0") is None  # a host may not
    True
"""

from __future__ import annotations

import re

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN_AND_PORT = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
REFERENCE = re.compile(
    rf"^((?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII
)
_NAME = re.compile(rf"^(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})$", re.ASCII)
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")
REPOSITORY_NAME_MAX = 255  # RepositoryNameTotalLengthMax
DEFAULT_DOMAIN = "docker.io"


def reference_problem(image: str) -> str | None:
    """Why the kubelet cannot parse ``image`` (the error of ParseNormalizedNamed), or None."""
    if _IDENTIFIER.match(image):
        return "a 64-character hexadecimal string is an image ID, not a repository name"
    domain, remainder = _split_domain(image)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        return f"repository name ({remote}) must be lowercase"
    full = f"{domain}/{remainder}"
    match = REFERENCE.match(full)
    if match is None:
        if not image:
            return "an empty image name"
        if REFERENCE.match(full.lower()):
            return "repository name must be lowercase"
        return "not a valid image reference ([host[:port]/]path[:tag][@digest])"
    name = _NAME.match(match.group(1))
    path = name.group(2) if name is not None else match.group(1)
    if len(path) > REPOSITORY_NAME_MAX:
        return f"repository name must not be more than {REPOSITORY_NAME_MAX} characters"
    return None


def _split_domain(name: str) -> tuple[str, str]:
    """splitDockerDomain: the first path element is a registry host when it is ``localhost``,
    holds a ``.`` or ``:``, or has upper-case letters; otherwise the image is on Docker Hub."""
    first, slash, rest = name.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, f"library/{name}"
    if first == "localhost" or any(c in first for c in ".:") or first.lower() != first:
        domain, remote = ("docker.io" if first == "index.docker.io" else first), rest
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = f"library/{remote}"
    return domain, remote
