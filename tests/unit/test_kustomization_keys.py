"""``gitops.kustomization_keys``: keys kustomize reads silently wrong, found with their lines,
and each claim of which key kustomize reads checked against the pinned kustomize itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config import RepoConfig
from gitops.kustomization_keys import (
    DUPLICATE_KEY,
    IGNORED_FIELD,
    KeyProblem,
    kustomization_key_problems,
)
from gitops.model import Overlay
from gitops.workspace import Workspace

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  MODE: base\n"


def _problems(tmp_path: Path, files: dict[str, str]) -> list[KeyProblem]:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return kustomization_key_problems(tmp_path, "kustomization.yaml")


def _rendered_mode(tmp_path: Path) -> str:
    """What the pinned kustomize made of the kustomization: the ConfigMap's MODE."""
    workspace = Workspace.open(tmp_path, RepoConfig(envs=("dev",)), use_cache=False)
    (result,) = workspace.render([Overlay(0, "dev", "web", ".")])
    assert result.ok, result.error
    (configmap,) = [r for r in result.resources if r.kind == "ConfigMap"]
    return str(configmap.body["data"]["MODE"])


def test_a_second_resources_key_drops_the_first_and_is_named_with_both_lines(
    tmp_path: Path,
) -> None:
    problems = _problems(
        tmp_path,
        {
            "cm.yaml": CONFIGMAP,
            "other.yaml": CONFIGMAP.replace("name: web", "name: other"),
            "kustomization.yaml": (
                "resources:\n  - cm.yaml\nnamePrefix: a-\nresources:\n  - other.yaml\n"
            ),
        },
    )
    assert problems == [
        KeyProblem(
            "kustomization.yaml",
            1,
            DUPLICATE_KEY,
            "duplicate key 'resources' at lines 1 and 4 of kustomization.yaml: kustomize reads "
            "line 4 and drops line 1",
        )
    ]
    workspace = Workspace.open(tmp_path, RepoConfig(envs=("dev",)), use_cache=False)
    (result,) = workspace.render([Overlay(0, "dev", "web", ".")])
    assert [r.name for r in result.resources] == ["a-other"]  # line 4 read, line 1 dropped


@pytest.mark.parametrize(
    ("patch", "kept"),
    [
        # strategic merge (kyaml): the first of two equal keys
        (
            CONFIGMAP.replace("  MODE: base\n", "  MODE: one\n  MODE: two\n"),
            "one",
        ),
        # JSON 6902 (YAML to JSON): the last
        ("- op: replace\n  path: /data/MODE\n  value: one\n  value: two\n", "two"),
    ],
    ids=["strategic-merge", "json6902"],
)
def test_a_key_twice_in_a_patch_file_names_the_line_kustomize_reads(
    tmp_path: Path, patch: str, kept: str
) -> None:
    target = "    target: {kind: ConfigMap, name: web}\n" if patch.startswith("-") else ""
    (problem,) = _problems(
        tmp_path,
        {
            "cm.yaml": CONFIGMAP,
            "patch.yaml": patch,
            "kustomization.yaml": (
                f"resources:\n  - cm.yaml\npatches:\n  - path: patch.yaml\n{target}"
            ),
        },
    )
    lines = [n + 1 for n, line in enumerate(patch.splitlines()) if "one" in line or "two" in line]
    read = lines[0] if kept == "one" else lines[1]
    assert (problem.path, problem.rule) == ("patch.yaml", DUPLICATE_KEY)
    assert f"kustomize reads line {read} and drops line {sum(lines) - read}" in problem.message
    assert _rendered_mode(tmp_path) == kept


def test_an_inline_patch_is_located_in_its_kustomization(tmp_path: Path) -> None:
    kustomization = (
        "resources:\n  - cm.yaml\npatches:\n  - patch: |-\n      apiVersion: v1\n"
        "      kind: ConfigMap\n      metadata:\n        name: web\n      data:\n"
        "        MODE: one\n        MODE: two\n"
    )
    (problem,) = _problems(tmp_path, {"cm.yaml": CONFIGMAP, "kustomization.yaml": kustomization})
    assert (problem.path, problem.line) == ("kustomization.yaml", 11)
    assert problem.message == (
        "duplicate key 'MODE' at lines 10 and 11 of kustomization.yaml (patches[0], an inline "
        "patch): kustomize reads line 10 and drops line 11"
    )
    assert _rendered_mode(tmp_path) == "one"


def test_a_field_spelled_twice_names_the_spelling_kustomize_ignores(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        {
            "cm.yaml": CONFIGMAP,
            "kustomization.yaml": (
                "resources:\n  - cm.yaml\nnamePrefix: read-\nNamePrefix: ignored-\n"
                "commonLabels:\n  team: a\n  Team: b\n"  # a Go map: two labels, not one field
            ),
        },
    )
    assert [(p.line, p.rule) for p in problems] == [(4, IGNORED_FIELD)]
    assert problems[0].message.endswith("it reads 'namePrefix' and ignores 'NamePrefix' (line 4)")
    workspace = Workspace.open(tmp_path, RepoConfig(envs=("dev",)), use_cache=False)
    (result,) = workspace.render([Overlay(0, "dev", "web", ".")])
    (configmap,) = result.resources
    assert configmap.name == "read-web"
    assert configmap.labels == {"team": "a", "Team": "b"}


def test_unreadable_or_clean_kustomizations_have_no_problems(tmp_path: Path) -> None:
    assert _problems(tmp_path, {"kustomization.yaml": "resources: [cm.yaml\n"}) == []
    assert _problems(tmp_path, {"kustomization.yaml": "resources:\n  - cm.yaml\n"}) == []
    assert kustomization_key_problems(tmp_path, "missing/kustomization.yaml") == []
