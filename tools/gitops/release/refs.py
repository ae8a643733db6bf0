"""What an image tag and digest may look like, and the errors of a refused release edit.

>>> parse_version("1.4.2@sha256:" + "a" * 64)
Version(tag='1.4.2', digest='sha256:aaaa...')
>>> parse_version("latest")
Traceback (most recent call last):
ReleaseError: tag "latest" is mutable ...
>>> parse_pins(["airbyte/server=1.8.6", "airbyte/worker=1.8.6"])[1]
ImagePin(version=Version(tag='1.8.6', digest=None), image='airbyte/worker', container=None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitops.errors import GitopsError

# The tag grammar of the OCI distribution spec / distribution/reference: a word character, then
# up to 127 word characters, dots and dashes.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# kustomize's images transformer only re-matches "@sha256:" digests (api/image/image.go,
# IsImageMatched), and a sha256 digest is 64 lowercase hex digits (OCI image spec, descriptor.md).
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
MUTABLE_TAGS = frozenset({"latest"})


class ReleaseError(GitopsError):
    """A release edit was refused: bad tag or digest, unknown image, wrong promotion order...
    Nothing is written; exit 2."""


@dataclass(frozen=True)
class Version:
    """What an ``images:`` entry pins: ``newTag``, ``digest`` or both."""

    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return (self.tag or "") + (f"@{self.digest}" if self.digest else "") or "(untagged)"


def parse_version(text: str) -> Version:
    """``TAG``, ``@DIGEST`` or ``TAG@DIGEST`` as typed on the command line."""
    tag_text, at, digest_text = text.strip().partition("@")
    if not at and not tag_text:
        raise ReleaseError("expected TAG, @DIGEST or TAG@DIGEST, got an empty string")
    version = Version(tag_text or None, digest_text if at else None)
    check_version(version, f"{text!r}")
    return version


def check_version(version: Version, what: str, allow_mutable: bool = False) -> None:
    """Refuse a malformed tag or digest, an untagged reference (an ``images:`` entry cannot
    express "no tag") and, unless ``allow_mutable``, a mutable tag. ``promote`` allows it: the
    check that follows the edit applies the env's own ``image-tag-mutable`` severity."""
    if version.tag is not None and not _TAG.fullmatch(version.tag):
        raise ReleaseError(
            f"{what}: malformed tag {version.tag!r} (expected up to 128 letters, digits, '_', "
            "'.' and '-', not starting with '.' or '-')"
        )
    if version.digest is not None and not _DIGEST.fullmatch(version.digest):
        raise ReleaseError(
            f"{what}: malformed digest {version.digest!r} (expected sha256: and 64 lowercase "
            "hex digits)"
        )
    if version.tag is None and version.digest is None:
        raise ReleaseError(f"{what}: no tag and no digest, which means :latest")
    if version.tag in MUTABLE_TAGS and not allow_mutable:
        raise ReleaseError(
            f'{what}: tag "{version.tag}" is mutable (expected a version tag or a digest; see '
            "the image-tag-mutable rule)"
        )


@dataclass(frozen=True)
class ImagePin:
    """One image ``gitops set-image`` pins to ``version``: named by ``image`` (an ``images:``
    entry's name, its ``newName`` or a rendered image name) or by ``container``; neither: the
    overlay's only image."""

    version: Version
    image: str | None = None
    container: str | None = None


def parse_pins(arguments: list[str]) -> list[ImagePin]:
    """``NAME=REF`` arguments, as ``kustomize edit set image`` takes several at once (REF as
    in :func:`parse_version`). Every one is read before anything is planned: one bad argument
    refuses them all."""
    pins: list[ImagePin] = []
    for argument in arguments:
        name, equals, ref = argument.partition("=")
        if not equals or not name.strip() or not ref.strip():
            raise ReleaseError(
                f"{argument!r}: expected NAME=TAG, NAME=@DIGEST or NAME=TAG@DIGEST (several "
                "images at once), or one TAG|@DIGEST|TAG@DIGEST"
            )
        pins.append(ImagePin(parse_version(ref), image=name.strip()))
    return pins
