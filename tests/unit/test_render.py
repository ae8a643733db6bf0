from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gitops.config import load_config
from gitops.discovery import discover_overlays
from gitops.errors import CommandError
from gitops.kustomize import Kustomize
from gitops.render import (
    SelectionError,
    join_manifests,
    render_overlays,
    select_overlays,
    write_manifests,
)
from gitops.runner import Command, CommandResult
from tests.conftest import FIXTURES


def _render(repo: Path, **kwargs: object) -> list:  # type: ignore[type-arg]
    config = load_config(repo)
    return render_overlays(repo, discover_overlays(repo, config).overlays, config, **kwargs)  # type: ignore[arg-type]


def test_renders_every_overlay_with_real_kustomize() -> None:
    results = _render(FIXTURES / "render-ok")
    assert [r.overlay.name for r in results] == ["dev/web", "dev/worker", "prod/web"]
    assert all(r.ok for r in results)
    dev_web = results[0].manifest
    assert "LOG_LEVEL: debug" in dev_web  # the overlay's patch applied
    assert "namespace: demo" in dev_web
    assert "LOG_LEVEL: info" in results[2].manifest


def test_output_is_deterministic_across_runs() -> None:
    first = join_manifests(_render(FIXTURES / "render-ok"))
    second = join_manifests(_render(FIXTURES / "render-ok", workers=1))
    assert first == second
    assert first.count("# Source: overlays/") == 3


def test_one_broken_overlay_never_hides_the_others() -> None:
    results = {r.overlay.service: r for r in _render(FIXTURES / "broken-overlays")}
    assert results["ok"].ok
    assert "name: ok" in results["ok"].manifest
    failures = {name: r.failure_line() for name, r in results.items() if not r.ok}
    assert failures["missing-resource"] == (
        "overlays/dev/missing-resource: resource 'deployment.yaml' listed in its kustomization "
        "does not exist (expected a file or a kustomization directory at "
        "overlays/dev/missing-resource/deployment.yaml)"
    )
    assert failures["malformed-yaml"].startswith(
        "overlays/dev/malformed-yaml: invalid Kustomization: yaml: line 4"
    )
    assert failures["remote-base-offline"].startswith(
        "overlays/dev/remote-base-offline: remote resource "
        "https://git.invalid/example-org/platform//base/web?ref=v1.2.0 could not be fetched"
    )
    assert "\n" not in "".join(failures.values())
    assert str(FIXTURES) not in "".join(failures.values())  # repo-relative only


def test_argv_cwd_timeout_and_options_come_from_config() -> None:
    seen: list[Command] = []
    lock = threading.Lock()

    def fake(command: Command) -> CommandResult:
        with lock:
            seen.append(command)
        return CommandResult(command, 0, "kind: ConfigMap\n", "")

    repo = FIXTURES / "render-ok"
    _render(repo, kustomize=Kustomize("/bin/kubectl", "test"), runner=fake)
    argvs = sorted(c.argv for c in seen)
    assert argvs[0] == (
        "/bin/kubectl",
        "kustomize",
        "overlays/dev/web",
        "--load-restrictor=LoadRestrictionsRootOnly",
    )
    assert {c.cwd for c in seen} == {repo}
    assert {c.timeout for c in seen} == {120.0}
    assert all(c.env is not None and c.env["GIT_TERMINAL_PROMPT"] == "0" for c in seen)
    assert all(c.env is not None and c.env["GOMEMLIMIT"] == "1536MiB" for c in seen)


def test_timeout_is_reported_per_overlay() -> None:
    def fake(command: Command) -> CommandResult:
        if command.argv[2] == "overlays/prod/web":
            raise CommandError(f"{command.quoted()} timed out after 120s")
        return CommandResult(command, 0, "kind: ConfigMap\n", "")

    results = _render(FIXTURES / "render-ok", kustomize=Kustomize("/bin/kubectl", "t"), runner=fake)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].error is not None and "timed out after 120s" in results[2].error


def test_selection_by_env_and_service_and_unknown_names() -> None:
    repo = FIXTURES / "render-ok"
    config = load_config(repo)
    discovery = discover_overlays(repo, config)
    assert [o.name for o in select_overlays(discovery, config, "dev", None)] == [
        "dev/web",
        "dev/worker",
    ]
    assert [o.name for o in select_overlays(discovery, config, None, "web")] == [
        "dev/web",
        "prod/web",
    ]
    with pytest.raises(SelectionError, match=r"unknown env 'qa': gitops\.yaml envs are dev, prod"):
        select_overlays(discovery, config, "qa", None)
    with pytest.raises(SelectionError, match="unknown service 'api'"):
        select_overlays(discovery, config, None, "api")


def test_write_manifests_layout(tmp_path: Path) -> None:
    written = write_manifests(_render(FIXTURES / "render-ok"), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "dev/web.yaml",
        "dev/worker.yaml",
        "prod/web.yaml",
    ]
    assert "LOG_LEVEL: debug" in (tmp_path / "dev" / "web.yaml").read_text()
