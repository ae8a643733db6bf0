"""`gitops validate` library: files, folders and stdin through to the text report."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config import RepoConfig, load_config
from gitops.schema import SchemaError
from gitops.validate import ValidateUsageError, format_text, run_validate
from tests.conftest import FIXTURES

CONFIG = RepoConfig(kubernetes_version="1.33")
# A folder of manifests (the fixture root also holds its expected.yaml, not a manifest).
VALID = FIXTURES / "validate-valid-workloads" / "manifests"


def test_directory_of_valid_documents() -> None:
    result = run_validate([str(VALID)], None, CONFIG, None)
    assert result.ok
    assert [(d.kind, d.name, d.namespace, d.line) for d in result.documents] == [
        ("ConfigMap", "web-config", "integration", 2),
        ("Service", "web", "integration", 11),
        ("Deployment", "web", "integration", 27),
        ("HorizontalPodAutoscaler", "web", "integration", 67),
        ("PodDisruptionBudget", "web", "integration", 87),
    ]
    assert format_text(result) == "5 documents, 0 invalid (Kubernetes 1.33)\n"


def test_text_report_lists_each_problem_with_file_line_and_object() -> None:
    path = FIXTURES / "validate-duplicate-key" / "web.yaml"
    result = run_validate([str(path)], None, CONFIG, None)
    assert not result.ok
    assert format_text(result) == (
        f"{path}:1: Deployment/web: duplicate key 'replicas' at line 10 (first at line 6)\n"
        "1 documents, 1 invalid (Kubernetes 1.33)\n"
    )


def test_stdin_and_files_together_and_unparseable_stdin() -> None:
    stdin = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n"
    path = VALID / "web.yaml"
    result = run_validate(["-", str(path)], stdin, CONFIG, None)
    assert [d.source for d in result.documents][:2] == ["-", str(path)]
    assert result.file_errors == (
        "-:6: invalid YAML: did not find expected node content (while parsing a flow node)",
    )
    assert not result.ok
    # Documents and unparseable inputs are counted apart: never "N documents, N+1 invalid".
    assert format_text(result).splitlines()[-1] == (
        "6 documents, 0 invalid, 1 unreadable or unparseable input(s) (Kubernetes 1.33)"
    )


def test_version_flag_overrides_gitops_yaml() -> None:
    path = VALID
    assert run_validate([str(path)], None, CONFIG, "1.30").kubernetes_version == "1.30"
    with pytest.raises(SchemaError, match=r"no schemas for Kubernetes 1\.99"):
        run_validate([str(path)], None, CONFIG, "1.99")


def test_missing_path_is_a_usage_error_before_any_validation(tmp_path: Path) -> None:
    with pytest.raises(ValidateUsageError, match=r"nope.yaml: no such file or directory"):
        run_validate(
            [str(FIXTURES / "validate-argocd"), str(tmp_path / "nope.yaml")], None, CONFIG, None
        )


def test_folder_walk_takes_yaml_yml_json_and_skips_hidden(tmp_path: Path) -> None:
    doc = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "%s"}}'
    (tmp_path / "a.yaml").write_text(doc % "a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(doc % "b")
    (tmp_path / "sub" / "c.json").write_text(doc % "c")
    (tmp_path / "notes.txt").write_text(doc % "txt")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "d.yaml").write_text(doc % "git")
    result = run_validate([str(tmp_path)], None, CONFIG, None)
    assert sorted(d.name or "" for d in result.documents) == ["a", "b", "c"]
    assert result.ok


def test_skip_kinds_from_gitops_yaml_and_unknown_kind() -> None:
    repo = FIXTURES / "validate-unknown-kind"
    result = run_validate([str(repo / "objects.yaml")], None, load_config(repo), None, repo=repo)
    gadget, gizmo = result.documents
    assert gadget.skipped and gadget.ok
    assert not gizmo.ok and gizmo.messages[0].startswith("no schema for example.com/v1/Gizmo")
    assert format_text(result).splitlines()[-1] == (
        "2 documents, 1 invalid, 1 skipped (schemas.skipKinds) (Kubernetes 1.36)"
    )


def test_user_crds_from_the_repo_config() -> None:
    repo = FIXTURES / "validate-custom-crd"
    result = run_validate([str(repo / "rendered")], None, load_config(repo), None, repo=repo)
    assert [(d.name, d.ok) for d in result.documents] == [("good", True), ("bad", False)]
    assert len(result.invalid[0].messages) == 5


def test_cli_exit_codes_and_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from gitops.cli import main

    valid = str(VALID)
    invalid = str(FIXTURES / "validate-invalid-deployment" / "web.yaml")
    assert main(["validate", valid, "--repo", valid]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 documents, 0 invalid (Kubernetes 1.36)"
    assert main(["validate", invalid]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("Deployment/web: spec.replicas: expected integer, got string '2'")
    assert out[-1] == "1 documents, 1 invalid (Kubernetes 1.36)"
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {a: b}\n"),
    )
    assert main(["validate", "-", "--repo", valid]) == 0
    assert main(["validate", str(FIXTURES / "does-not-exist"), "--repo", valid]) == 2
    assert main(["validate", valid, "--repo", valid, "--k8s-version", "1.9"]) == 2


def test_cli_rejects_the_hpas_the_api_server_rejects(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 21: `minReplicas: 5, maxReplicas: 2` and `minReplicas: 0` with a Resource metric
    # gave "0 invalid", exit 0, although the API server (and check's hpa-bounds) rejects both.
    from gitops.cli import main

    fixture = FIXTURES / "validate-hpa-bounds"
    assert main(["validate", str(fixture / "hpas.yaml"), "--repo", str(fixture)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "4 documents, 3 invalid (Kubernetes 1.36)"
    assert any(
        line.endswith(
            "HorizontalPodAutoscaler/inverted: spec.maxReplicas: 2 must be "
            "greater than or equal to minReplicas 5"
        )
        for line in out
    )


def test_help_says_which_rules_are_schema_and_which_are_api_server_checks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gitops.cli import main

    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Schema rules (the version's OpenAPI schemas, strict, and CRDs" in text
    assert "API-server rules (cross-field and value checks" in text
    assert "HPA bounds (1 <= minReplicas <= maxReplicas; minReplicas 0 only with the " in text


@pytest.mark.parametrize("name", ["empty.json", "empty.yaml", "blank.json"])
def test_an_empty_file_holds_no_document_whatever_its_suffix(tmp_path: Path, name: str) -> None:
    # Issue 22: an empty .json exited 1 (a JSON syntax error) and an empty .yaml 2.
    from gitops.cli import main

    (tmp_path / name).write_text("  \n" if name.startswith("blank") else "")
    assert main(["validate", str(tmp_path / name), "--repo", str(tmp_path)]) == 2


def test_allow_no_documents_makes_empty_input_exit_0_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    argv = ["validate", str(tmp_path / "empty.yaml"), "--repo", str(tmp_path)]
    assert main([*argv, "--allow-no-documents"]) == 0
    assert capsys.readouterr().out == ("0 documents: nothing to validate (--allow-no-documents)\n")
    # an invalid document is still exit 1 with the option
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: A}\n")
    empty, bad = str(tmp_path / "empty.yaml"), str(tmp_path / "bad.yaml")
    assert main(["validate", empty, bad, "--repo", str(tmp_path), "--allow-no-documents"]) == 1
    assert "1 documents, 1 invalid" in capsys.readouterr().out
