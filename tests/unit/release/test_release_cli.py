"""The three commands in-process: exact user-visible lines and documented exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.cli import main


@pytest.fixture
def repo(fixture_repo: Callable[[str], Path]) -> Path:
    return fixture_repo("release-edits")


def _kustomization(repo: Path, env: str, service: str) -> str:
    return (repo / "overlays" / env / service / "kustomization.yaml").read_text()


def test_set_image_prints_what_changed_and_writes_only_that_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _kustomization(repo, "staging", "api")
    code = main(["set-image", "--repo", str(repo), "--env", "dev", "--service", "web", "1.2.0"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == (
        "dev/web: ghcr.io/acme/web latest -> 1.2.0\n"
        "wrote overlays/dev/web/kustomization.yaml\n"
        "not committed\n"
    )
    # The end-of-line comment stays at its column.
    assert "    newTag: 1.2.0   # dev follows" in _kustomization(repo, "dev", "web")
    assert _kustomization(repo, "staging", "api") == before


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--env", "staging", "--service", "web", "latest"],
            "error: 'latest': tag \"latest\" is mutable (expected a version tag or a digest; "
            "see the image-tag-mutable rule)\n",
        ),
        (
            ["--env", "staging", "--service", "web", "1.2.0@sha256:1234"],
            "error: '1.2.0@sha256:1234': malformed digest 'sha256:1234' (expected sha256: and "
            "64 lowercase hex digits)\n",
        ),
        (
            ["--env", "staging", "--service", "web", "--image", "nginx", "1.2.0"],
            "error: overlays/staging/web: no container of the rendered overlay uses image "
            "'nginx' (images used: ghcr.io/acme/web)\n",
        ),
        (
            ["--env", "staging", "--service", "cart", "1.2.0"],
            "error: unknown service 'cart': overlays exist for api, web\n",
        ),
    ],
    ids=["latest", "malformed-digest", "unknown-image", "unknown-service"],
)
def test_set_image_refusals_exit_2_with_one_line_and_write_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    before = _kustomization(repo, "staging", "web")
    assert main(["set-image", "--repo", str(repo), *args]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", error)
    assert _kustomization(repo, "staging", "web") == before


def test_promote_skipping_an_env_is_refused_until_forced(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["promote", "--repo", str(repo), "--from", "dev", "--to", "prod", "--service", "api"]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        "error: promoting dev -> prod skips staging (gitops.yaml envs: dev -> staging -> prod); "
        "pass --force to do it anyway\n"
    )
    assert main([*args, "--force", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "note: forced: promoting dev -> prod skips staging" in out
    assert "prod/api: ghcr.io/acme/api 1.0.0 -> 1.3.0-rc.1\n" in out


def test_promote_that_breaks_a_check_exits_1_and_changes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _kustomization(repo, "staging", "web")
    args = ["promote", "--repo", str(repo), "--from", "dev", "--to", "staging", "--all"]
    assert main([*args, "--format", "json"]) == 1
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (document["written"], document["rolledBack"], document["commit"]) == (
        False,
        True,
        None,
    )
    assert [c["file"] for c in document["changes"]] == [
        "overlays/staging/api/kustomization.yaml",
        "overlays/staging/api/kustomization.yaml",
        "overlays/staging/web/kustomization.yaml",
    ]
    assert {f["rule"] for f in document["findings"]["added"]} == {"image-tag-mutable"}
    assert err == "error: 2 new error finding(s); nothing was changed\n"
    assert _kustomization(repo, "staging", "web") == before


def test_promote_dry_run_json_carries_the_diff(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _kustomization(repo, "prod", "web")
    args = ["promote", "--repo", str(repo), "--from", "staging", "--to", "prod"]
    assert main([*args, "--service", "web", "api", "--dry-run", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["dryRun"] is True and document["written"] is False
    assert [(c["service"], c["old"], c["new"]) for c in document["changes"]] == [
        ("api", ["1.0.0"], "1.2.0"),
        ("web", ["1.0.1"], "1.1.0"),
    ]
    changed = sorted((c["service"], c["kind"]) for c in document["diff"]["changes"])
    assert changed == [("api", "Deployment"), ("web", "CronJob"), ("web", "Deployment")]
    assert _kustomization(repo, "prod", "web") == before


def test_promote_needs_services_or_all(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["promote", "--repo", str(repo), "--from", "dev", "--to", "staging"])
    assert caught.value.code == 2
    assert "one of the arguments --service --all is required" in capsys.readouterr().err


def test_dry_run_and_commit_exclude_each_other(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["set-image", "--repo", str(repo), "--env", "dev", "--service", "web", "1.2.0"]
    assert main([*args, "--dry-run", "--commit"]) == 2
    assert capsys.readouterr().err == "error: --dry-run and --commit exclude each other\n"


@pytest.mark.parametrize("command", ["status", "images"])
def test_status_and_its_alias(repo: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert main([command, "--repo", str(repo), "--differing"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["SERVICE", "IMAGE", "DEV", "STAGING", "PROD", "STATUS"]
    assert "web      ghcr.io/acme/web  latest *" in out


def test_nothing_to_change_says_so_and_exits_0(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _kustomization(repo, "staging", "web")
    args = ["set-image", "--repo", str(repo), "--env", "staging", "--service", "web", "1.1.0"]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "note: staging/web: ghcr.io/acme/web already runs 1.1.0; nothing to change\n"
    )
    assert _kustomization(repo, "staging", "web") == before


def test_status_reports_a_broken_overlay_without_hiding_the_others(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "overlays/prod/web/kustomization.yaml").write_text(
        "resources:\n  - ../../../base/missing\n", encoding="utf-8"
    )
    assert main(["status", "--repo", str(repo), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    document = json.loads(out)
    web = next(r for r in document["images"] if r["image"] == "ghcr.io/acme/web")
    assert web["versions"] == {"dev": "latest", "staging": "1.1.0", "prod": None}
    assert [p.split(":")[0] for p in document["problems"]] == ["overlays/prod/web"]
    assert err.startswith("error: overlays/prod/web: ")
    assert err.count("\n") == 1


def test_set_image_pins_a_digest_alone(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digest = "sha256:" + "c" * 64
    args = ["set-image", "--repo", str(repo), "--env", "staging", "--service", "web"]
    assert main([*args, f"@{digest}", "--format", "json"]) == 0
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert (change["newTag"], change["digest"], change["old"]) == (None, digest, ["1.1.0"])
    assert _kustomization(repo, "staging", "web").endswith(
        f"  - name: ghcr.io/acme/web\n    digest: {digest}\n"
    )


def test_set_image_takes_several_images_at_once_in_one_edit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["set-image", "--repo", str(repo), "--env", "staging", "--service", "api"]
    pins = ["ghcr.io/acme/api=1.3.0", "envoyproxy/envoy=v1.32.1"]
    assert main([*args, *pins]) == 0
    assert capsys.readouterr().out == (
        "staging/api: ghcr.io/acme/api 1.2.0 -> 1.3.0\n"
        "staging/api: envoyproxy/envoy v1.31.0 -> v1.32.1\n"
        "wrote overlays/staging/api/kustomization.yaml\n"
        "not committed\n"
    )
    text = _kustomization(repo, "staging", "api")
    assert '    newTag: "1.3.0"  # quoted on purpose: the edit must keep the quotes' in text
    assert "  - name: envoyproxy/envoy\n    newTag: v1.32.1\n" in text


@pytest.mark.parametrize(
    ("pins", "error"),
    [
        (
            ["ghcr.io/acme/api=1.3.0", "nginx=1.27"],
            "error: overlays/staging/api: no container of the rendered overlay uses image "
            "'nginx' (images used: envoyproxy/envoy, ghcr.io/acme/api)\n",
        ),
        (
            ["ghcr.io/acme/api=1.3.0", "envoyproxy/envoy=latest"],
            "error: 'latest': tag \"latest\" is mutable (expected a version tag or a digest; "
            "see the image-tag-mutable rule)\n",
        ),
        (
            ["ghcr.io/acme/api=1.3.0", "envoyproxy/envoy"],
            "error: 'envoyproxy/envoy': expected NAME=TAG, NAME=@DIGEST or NAME=TAG@DIGEST "
            "(several images at once), or one TAG|@DIGEST|TAG@DIGEST\n",
        ),
        (
            ["ghcr.io/acme/api=1.3.0", "ghcr.io/acme/api:9=1.4.0"],
            "error: overlays/staging/api: ghcr.io/acme/api=1.3.0 and ghcr.io/acme/api:9=1.4.0 "
            "both name image ghcr.io/acme/api; give it once\n",
        ),
    ],
    ids=["unknown-image", "latest", "not-name-ref", "twice"],
)
def test_one_refused_image_refuses_them_all(
    repo: Path, capsys: pytest.CaptureFixture[str], pins: list[str], error: str
) -> None:
    before = _kustomization(repo, "staging", "api")
    args = ["set-image", "--repo", str(repo), "--env", "staging", "--service", "api"]
    assert main([*args, *pins]) == 2
    assert capsys.readouterr() == ("", error)
    assert _kustomization(repo, "staging", "api") == before


def test_image_or_container_goes_with_a_single_ref_only(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["set-image", "--repo", str(repo), "--env", "staging", "--service", "api"]
    assert main([*args, "--container", "proxy", "envoyproxy/envoy=v1.32.1"]) == 2
    assert capsys.readouterr().err == (
        "error: --image and --container name the one image of a single TAG|@DIGEST; with "
        "several, give each as NAME=REF\n"
    )
