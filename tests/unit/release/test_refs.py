"""Tags and digests as typed on the command line, and what a release edit refuses."""

from __future__ import annotations

import pytest

from gitops.errors import EXIT_USAGE
from gitops.release.refs import ReleaseError, Version, check_version, parse_version

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.4.2", Version("1.4.2")),
        ("v2.0.0-rc.1", Version("v2.0.0-rc.1")),
        (f"@{DIGEST}", Version(None, DIGEST)),
        (f"1.4.2@{DIGEST}", Version("1.4.2", DIGEST)),
        ("_build.7", Version("_build.7")),
    ],
)
def test_tag_digest_and_both_are_accepted(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


def test_version_prints_as_typed() -> None:
    assert str(Version("1.4.2", DIGEST)) == f"1.4.2@{DIGEST}"
    assert str(Version(None, DIGEST)) == f"@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-rc1", "malformed tag '-rc1'"),
        (".hidden", "malformed tag '.hidden'"),
        ("1.0/evil", "malformed tag '1.0/evil'"),
        ("x" * 129, "malformed tag"),
        ("1.0@sha256:abc", "malformed digest 'sha256:abc' (expected sha256: and 64 lowercase"),
        ("@sha256:" + "A" * 64, "malformed digest"),
        ("@sha512:" + "a" * 128, "malformed digest"),
        ("@", "malformed digest ''"),
        ("latest", 'tag "latest" is mutable'),
        (f"latest@{DIGEST}", 'tag "latest" is mutable'),
        ("", "expected TAG, @DIGEST or TAG@DIGEST"),
    ],
)
def test_refused_versions_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        parse_version(text)
    assert message in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE


def test_promote_may_copy_a_mutable_tag_for_the_check_to_judge() -> None:
    check_version(Version("latest"), "dev/web", allow_mutable=True)
    with pytest.raises(ReleaseError, match="no tag and no digest"):
        check_version(Version(), "dev/web", allow_mutable=True)
