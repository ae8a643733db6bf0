"""Tags and digests as typed on the command line, and what a release edit refuses."""

from __future__ import annotations

import pytest

from gitops.errors import EXIT_USAGE
from gitops.release.refs import (
    ImagePin,
    ReleaseError,
    Version,
    check_version,
    parse_pins,
    parse_version,
)

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


def test_name_ref_pins_read_every_argument_or_refuse() -> None:
    assert parse_pins(["airbyte/server=1.8.6", f"airbyte/worker=@{DIGEST}"]) == [
        ImagePin(Version("1.8.6"), image="airbyte/server"),
        ImagePin(Version(None, DIGEST), image="airbyte/worker"),
    ]
    for bad in ("airbyte/server", "=1.8.6", "airbyte/server="):
        with pytest.raises(ReleaseError, match="expected NAME=TAG, NAME=@DIGEST"):
            parse_pins(["airbyte/cron=1.8.6", bad])
    with pytest.raises(ReleaseError, match=r"malformed tag 'airbyte/server:1\.8\.6'"):
        parse_pins(["airbyte/server=airbyte/server:1.8.6"])
