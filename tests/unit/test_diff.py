"""``gitops diff`` on scratch git repos: a small three-env layout is written to tmp_path,
committed, changed (committed or left in the working tree), and compared with the real kustomize.

Every test also relies on the base side being a temporary git worktree: the ``untouched`` helper
asserts the user's status, stash and worktree list are the same before and after.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops.diff import (
    MARKDOWN_MARKER,
    DiffOptions,
    DiffResult,
    diff_command,
    format_json,
    format_markdown,
    format_text,
    run_diff,
)
from gitops.diff import compare as diff_compare
from gitops.errors import GitopsError
from gitops.gitworktree import GitRefError
from gitops.inputs import InputResolver
from tests.fixturelib import commit, git

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""

OLD_SECRET_VALUE = "hunter2-old-password"
NEW_SECRET_VALUE = "s3cr3t-new-password"


def _secret(value: str) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n"
        f"type: Opaque\ndata:\n  password: {encoded}\n"
    )


def _replicas(count: int) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        f"spec:\n  replicas: {count}\n"
    )


def _overlay(*patches: str, resources: tuple[str, ...] = ()) -> str:
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        "  - ../../../base/web",
        *[f"  - {r}" for r in resources],
        "patches:",
        *[f"  - path: {p}" for p in patches],
    ]
    return "\n".join(lines) + "\n"


LAYOUT = {
    "gitops.yaml": (
        'kubernetesVersion: "1.33"\nenvs: [dev, staging, prod]\n'
        "repoURL: https://git.example.test/team/diff.git\n"
        'kustomize:\n  buildOptions: ["--load-restrictor=LoadRestrictionsRootOnly"]\n'
    ),
    "base/web/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: demo\n"
        "resources:\n  - deployment.yaml\n  - configmap.yaml\n  - secret.yaml\n"
    ),
    "base/web/deployment.yaml": DEPLOYMENT,
    "base/web/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  LOG_LEVEL: info\n"
    ),
    "base/web/secret.yaml": _secret(OLD_SECRET_VALUE),
    "overlays/dev/web/kustomization.yaml": _overlay("replicas.yaml"),
    "overlays/dev/web/replicas.yaml": _replicas(1),
    "overlays/staging/web/kustomization.yaml": _overlay("replicas.yaml"),
    "overlays/staging/web/replicas.yaml": _replicas(2),
    "overlays/prod/web/kustomization.yaml": _overlay("replicas.yaml"),
    "overlays/prod/web/replicas.yaml": _replicas(3),
    "argocd/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - applicationset.yaml\n"
    ),
    "argocd/applicationset.yaml": """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: demo
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: https://git.example.test/team/diff.git
        revision: HEAD
        directories:
          - path: overlays/*/*
  template:
    metadata:
      name: "{{index .path.segments 1}}-{{.path.basename}}"
    spec:
      project: "demo-{{index .path.segments 1}}"
      source:
        repoURL: https://git.example.test/team/diff.git
        targetRevision: HEAD
        path: "{{.path.path}}"
      destination:
        name: "{{index .path.segments 1}}"
        namespace: demo
""",
}


def write(repo: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, dict(LAYOUT))
    commit(repo, "initial layout")
    return repo


def user_state(repo: Path) -> tuple[str, str, str]:
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "stash", "list"),
        git(repo, "worktree", "list", "--porcelain"),
    )


@pytest.fixture
def untouched(scratch_repo: Path) -> Iterator[Callable[[], None]]:
    """Call it after the changes a test makes; at teardown the user state must be identical."""
    snapshot: list[tuple[str, str, str]] = []

    def take() -> None:
        snapshot.append(user_state(scratch_repo))

    yield take
    if snapshot:  # empty only for a test skipped before it ran anything
        assert user_state(scratch_repo) == snapshot[0]


def changed(result: DiffResult) -> list[tuple[str, str, str]]:
    return [(c.action, c.overlay, c.key.short() if c.key else c.side) for c in result.changes]


def all_formats(result: DiffResult) -> dict[str, str]:
    return {
        "text": format_text(result),
        "text-color": format_text(result, color=True),
        "markdown": format_markdown(result),
        "json": format_json(result),
    }


def test_base_change_fans_out_to_three_envs(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {"base/web/configmap.yaml": LAYOUT["base/web/configmap.yaml"].replace("info", "warn")},
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")  # head: the uncommitted working tree
    assert result.rendered_base == result.rendered_head == ("dev/web", "staging/web", "prod/web")
    assert changed(result) == [
        ("changed", "dev/web", "ConfigMap/web"),
        ("changed", "staging/web", "ConfigMap/web"),
        ("changed", "prod/web", "ConfigMap/web"),
    ]
    assert "-  LOG_LEVEL: info\n+  LOG_LEVEL: warn\n" in result.changes[0].diff
    assert not result.argocd_compared


def test_patch_change_renders_only_that_env(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(scratch_repo, {"overlays/staging/web/replicas.yaml": _replicas(4)})
    commit(scratch_repo, "staging: 4 replicas")
    untouched()
    result = run_diff(scratch_repo, base="HEAD~1", head="HEAD")
    assert result.rendered_base == result.rendered_head == ("staging/web",)
    assert [(a.name, a.reason) for a in result.affected] == [
        ("staging/web", "overlays/staging/web/replicas.yaml changed")
    ]
    assert changed(result) == [("changed", "staging/web", "Deployment/web")]
    assert "-  replicas: 2\n+  replicas: 4\n" in result.changes[0].diff
    assert result.changes[0].diff.startswith("--- base/staging/web/Deployment/web\n")
    document = json.loads(format_json(result))
    assert document["rendered"] == {"base": ["staging/web"], "head": ["staging/web"]}
    assert document["changes"][0]["kind"] == "Deployment"


def test_added_and_removed_resources(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    write(
        scratch_repo,
        {
            "overlays/dev/web/kustomization.yaml": _overlay(
                "replicas.yaml", resources=("extra.yaml",)
            ),
            "overlays/dev/web/extra.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
            ),
            "base/web/kustomization.yaml": LAYOUT["base/web/kustomization.yaml"].replace(
                "  - configmap.yaml\n", ""
            ),
        },
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    dev = [c for c in changed(result) if c[1] == "dev/web"]
    assert dev == [("removed", "dev/web", "ConfigMap/web"), ("added", "dev/web", "ConfigMap/extra")]
    assert ("removed", "prod/web", "ConfigMap/web") in changed(result)
    rows = {(r["env"], r["service"]): r for r in result.summary_rows()}
    assert (rows["dev", "web"]["added"], rows["dev", "web"]["removed"]) == (1, 1)
    text = format_text(result)
    assert "=== dev/web: added ConfigMap/extra" in text
    assert "+  name: extra" in text


def test_secret_values_never_appear_in_any_format(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "base/web/secret.yaml": _secret(NEW_SECRET_VALUE).replace(
                "  password:", "  token: dG9rZW4tdmFsdWUtMTIz\n  password:"
            )
        },
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    secrets = [c for c in result.changes if c.key and c.key.kind == "Secret"]
    assert len(secrets) == 3
    assert secrets[0].secret is not None
    assert (secrets[0].secret.changed, secrets[0].secret.added) == (("password",), ("token",))
    assert "+  password: <redacted, value changed>" in secrets[0].diff
    forbidden = [OLD_SECRET_VALUE, NEW_SECRET_VALUE, "token-value-123"]
    forbidden += [base64.b64encode(v.encode()).decode() for v in forbidden]
    for name, output in all_formats(result).items():
        assert "password" in output, name  # the key is reported...
        for value in forbidden:
            assert value not in output, (name, value)  # ...never the value


def test_secret_removed_lists_its_keys_without_values(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "base/web/kustomization.yaml": LAYOUT["base/web/kustomization.yaml"].replace(
                "  - secret.yaml\n", ""
            )
        },
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    removed = [c for c in result.changes if c.action == "removed"]
    assert [c.secret.removed for c in removed if c.secret] == [("password",)] * 3
    for output in all_formats(result).values():
        assert base64.b64encode(OLD_SECRET_VALUE.encode()).decode() not in output


def test_render_failure_is_a_change_and_its_fix_a_fixed_finding(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "overlays/dev/web/kustomization.yaml": _overlay(
                "replicas.yaml", resources=("missing.yaml",)
            )
        },
    )
    commit(scratch_repo, "break dev")
    write(scratch_repo, {"overlays/dev/web/kustomization.yaml": _overlay("replicas.yaml")})
    commit(scratch_repo, "fix dev")
    untouched()
    broken = run_diff(scratch_repo, base="HEAD~2", head="HEAD~1")
    assert changed(broken) == [("render-error", "dev/web", "head")]
    assert broken.changes[0].message.startswith("resource 'missing.yaml' listed in its kust")
    assert [f.rule for f in broken.findings_added] == ["render-failed"]
    assert broken.findings_fixed == ()
    fixed = run_diff(scratch_repo, base="HEAD~1", head="HEAD")
    assert [(f.rule, f.env, f.service) for f in fixed.findings_fixed] == [
        ("render-failed", "dev", "web")
    ]
    assert fixed.findings_added == ()
    markdown = format_markdown(fixed)
    assert "#### Findings fixed by this change" in markdown
    assert "Render error on **base**" in markdown


def test_drain_blocking_pdb_is_reported_as_added(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "overlays/prod/web/kustomization.yaml": _overlay(
                "replicas.yaml", resources=("pdb.yaml",)
            ),
            "overlays/prod/web/pdb.yaml": (
                "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n"
                "spec:\n  minAvailable: 3\n  selector:\n    matchLabels: {app: web}\n"
            ),
        },
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    assert ("pdb-blocks-drain", "prod", "web") in {
        (f.rule, f.env, f.service) for f in result.findings_added
    }
    assert all(f.rule != "pdb-blocks-drain" for f in result.findings_fixed)


def test_argocd_change_diffs_the_expanded_applications(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(
        scratch_repo,
        {
            "argocd/applicationset.yaml": LAYOUT["argocd/applicationset.yaml"].replace(
                "namespace: demo", "namespace: demo-apps"
            )
        },
    )
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    assert result.argocd_compared
    assert result.rendered_head == ()
    assert [c[2] for c in changed(result)] == [
        "Application/dev-web",
        "Application/prod-web",
        "Application/staging-web",
        "ApplicationSet/demo",
    ]
    assert "+    namespace: demo-apps" in result.changes[0].diff


def test_unknown_ref_names_the_ref(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    untouched()
    with pytest.raises(GitRefError, match="unknown git ref 'no-such-branch'"):
        run_diff(scratch_repo, base="no-such-branch")
    with pytest.raises(GitRefError, match=r"'v9\.9\.9'"):
        run_diff(scratch_repo, base="HEAD", head="v9.9.9")


def test_default_base_is_the_merge_base_with_main(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    git(scratch_repo, "checkout", "-q", "-b", "feature")
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": _replicas(5)})
    commit(scratch_repo, "prod: 5")
    untouched()
    result = run_diff(scratch_repo)
    assert result.base.label == "merge-base(HEAD, main)"
    assert result.base.sha == git(scratch_repo, "rev-parse", "main").strip()
    assert changed(result) == [("changed", "prod/web", "Deployment/web")]


def _many_changes(repo: Path) -> None:
    lines = "".join(f"  KEY_{i:04}: {'x' * 60}\n" for i in range(400))
    for env in ("dev", "staging", "prod"):
        write(
            repo,
            {
                f"overlays/{env}/web/kustomization.yaml": _overlay(
                    "replicas.yaml", resources=("big.yaml",)
                ),
                f"overlays/{env}/web/big.yaml": (
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + lines
                ),
            },
        )


def test_markdown_is_cut_to_max_bytes_with_a_note(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    _many_changes(scratch_repo)
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    full = format_markdown(result, max_bytes=10**9)
    assert len(full.encode()) > 60_000
    for limit in (60_000, 20_000, 5_000):
        cut = format_markdown(result, max_bytes=limit, full_command="gitops diff --base abc")
        assert len(cut.encode("utf-8")) <= limit
        assert cut.startswith(MARKDOWN_MARKER + "\n")
        assert "| prod | web | 1 | 0 | 0 | 0 | 0 | 0 |" in cut  # the summary always survives
        assert f"**Cut to fit {limit:,} bytes:**" in cut
        assert "See all of it with `gitops diff --base abc`" in cut
        assert cut.count("<details>") == cut.count("</details>")


def test_markdown_fits_without_a_note_when_small(
    scratch_repo: Path, untouched: Callable[[], None]
) -> None:
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": _replicas(6)})
    untouched()
    markdown = format_markdown(run_diff(scratch_repo, base="HEAD"))
    assert "Cut to fit" not in markdown
    assert "<details><summary><code>prod/web: changed Deployment/web</code></summary>" in markdown
    assert "```diff\n--- base/prod/web/Deployment/web" in markdown


def test_working_tree_untouched_when_rendering_fails_or_the_run_is_interrupted(
    scratch_repo: Path, untouched: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(scratch_repo, {"overlays/dev/web/kustomization.yaml": "resources: [nope\n"})
    git(scratch_repo, "add", "overlays/dev/web/kustomization.yaml")  # a staged change too
    git(scratch_repo, "stash", "push", "-q", "--keep-index")
    git(scratch_repo, "stash", "apply", "-q")
    untouched()
    result = run_diff(scratch_repo, base="HEAD")
    assert ("render-error", "dev/web", "head") in changed(result)

    seen: list[Path] = []

    def interrupted(name: str, root: Path) -> object:
        seen.append(root)
        raise KeyboardInterrupt

    monkeypatch.setattr(diff_compare, "load_side", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_diff(scratch_repo, base="HEAD")
    assert seen and not seen[0].exists()  # the temporary base checkout is gone


def test_cli_entry_exit_codes(scratch_repo: Path, untouched: Callable[[], None]) -> None:
    write(scratch_repo, {"overlays/prod/web/replicas.yaml": _replicas(7)})
    untouched()
    out = io.StringIO()
    options = DiffOptions(base="HEAD", format="json")
    assert diff_command(scratch_repo, options, out) == 0
    assert json.loads(out.getvalue())["rendered"]["head"] == ["prod/web"]
    assert diff_command(scratch_repo, DiffOptions(base="HEAD", exit_code=True), io.StringIO()) == 1
    assert (
        diff_command(
            scratch_repo, DiffOptions(base="HEAD~0", head="HEAD", exit_code=True), io.StringIO()
        )
        == 0
    )
    with pytest.raises(GitopsError) as error:
        diff_command(scratch_repo, DiffOptions(base="nope"), io.StringIO())
    assert error.value.exit_code == 2


def test_cli_diff_exit_codes(
    scratch_repo: Path, untouched: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    write(scratch_repo, {"overlays/prod/web/replicas.yaml": _replicas(8)})
    untouched()
    assert main(["diff", "--repo", str(scratch_repo), "--base", "HEAD", "--exit-code"]) == 1
    assert "=== prod/web: changed Deployment/web" in capsys.readouterr().out
    assert main(["diff", "--repo", str(scratch_repo), "--base", "nope"]) == 2
    assert "unknown git ref 'nope'" in capsys.readouterr().err


def test_input_set_follows_bases_components_generators_and_notes_remotes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "overlays/dev/web/kustomization.yaml": """\
resources:
  - ../../../base/web
  - https://github.com/example/remote//base?ref=v1
components:
  - ../../../components/ha
patches:
  - path: replicas.yaml
  - patch: |-
      - op: replace
        path: /spec/replicas
        value: 2
configMapGenerator:
  - name: cfg
    files: [app.conf, extra=extra.txt]
    envs: [cfg.env]
secretGenerator:
  - name: creds
    envs: [creds.env]
transformers:
  - labels.yaml
replacements:
  - path: replacement.yaml
helmCharts:
  - name: chart
    valuesFile: values.yaml
""",
            "overlays/dev/web/labels.yaml": (
                "apiVersion: builtin\nkind: PatchTransformer\npath: p.yaml\n"
            ),
            "base/web/kustomization.yaml": "resources: [deployment.yaml, plain-dir]\n",
            "base/web/plain-dir/x.yaml": "a: 1\n",
            "components/ha/kustomization.yaml": (
                "kind: Component\npatches:\n  - path: pdb.yaml\ncrds: [crd.yaml]\n"
                "openapi:\n  path: schema.json\n"
            ),
        },
    )
    inputs = InputResolver(tmp_path).overlay_inputs("overlays/dev/web")
    assert inputs.files == {
        "overlays/dev/web/kustomization.yaml",
        "overlays/dev/web/replicas.yaml",
        "overlays/dev/web/app.conf",
        "overlays/dev/web/extra.txt",
        "overlays/dev/web/cfg.env",
        "overlays/dev/web/creds.env",
        "overlays/dev/web/labels.yaml",
        "overlays/dev/web/p.yaml",
        "overlays/dev/web/replacement.yaml",
        "overlays/dev/web/values.yaml",
        "base/web/kustomization.yaml",
        "base/web/deployment.yaml",
        "components/ha/kustomization.yaml",
        "components/ha/pdb.yaml",
        "components/ha/crd.yaml",
        "components/ha/schema.json",
    }
    assert inputs.directories == {"base/web/plain-dir", "overlays/dev/web/charts"}
    assert inputs.remote == {"https://github.com/example/remote//base?ref=v1"}
    assert inputs.unresolved == ()
    assert inputs.touched_by(["base/web/plain-dir/x.yaml", "README.md"]) == [
        "base/web/plain-dir/x.yaml"
    ]


def test_unparseable_kustomization_is_unresolved(tmp_path: Path) -> None:
    write(tmp_path, {"overlays/dev/web/kustomization.yaml": "resources: [oops\n"})
    inputs = InputResolver(tmp_path).overlay_inputs("overlays/dev/web")
    assert inputs.unresolved and "cannot parse" in inputs.unresolved[0]
