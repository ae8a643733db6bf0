"""A scratch git repo for ``gitops diff``: a small three-env layout written to a temp dir,
committed, then changed (committed or left in the working tree) and compared with the real
kustomize. Shared by the diff, gitworktree, snapshot and simulate tests."""

from __future__ import annotations

import base64
from pathlib import Path

from gitops.config import load_config
from gitops.diff import DiffResult, format_json, format_markdown, format_text, run_diff
from gitops.workspace import Workspace
from tests.fixturelib import commit as commit
from tests.fixturelib import git as git

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


def secret_yaml(value: str) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n"
        f"type: Opaque\ndata:\n  password: {encoded}\n"
    )


def replicas_patch(count: int) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        f"spec:\n  replicas: {count}\n"
    )


def overlay_kustomization(*patches: str, resources: tuple[str, ...] = ()) -> str:
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
    "base/web/secret.yaml": secret_yaml(OLD_SECRET_VALUE),
    "overlays/dev/web/kustomization.yaml": overlay_kustomization("replicas.yaml"),
    "overlays/dev/web/replicas.yaml": replicas_patch(1),
    "overlays/staging/web/kustomization.yaml": overlay_kustomization("replicas.yaml"),
    "overlays/staging/web/replicas.yaml": replicas_patch(2),
    "overlays/prod/web/kustomization.yaml": overlay_kustomization("replicas.yaml"),
    "overlays/prod/web/replicas.yaml": replicas_patch(3),
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


def user_state(repo: Path) -> tuple[str, str, str]:
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "stash", "list"),
        git(repo, "worktree", "list", "--porcelain"),
    )


def changed(result: DiffResult) -> list[tuple[str, str, str]]:
    return [(c.action, c.overlay, c.key.short() if c.key else c.side) for c in result.changes]


def all_formats(result: DiffResult) -> dict[str, str]:
    return {
        "text": format_text(result),
        "text-color": format_text(result, color=True),
        "markdown": format_markdown(result),
        "json": format_json(result),
    }


def many_changes(repo: Path) -> None:
    lines = "".join(f"  KEY_{i:04}: {'x' * 60}\n" for i in range(400))
    for env in ("dev", "staging", "prod"):
        write(
            repo,
            {
                f"overlays/{env}/web/kustomization.yaml": overlay_kustomization(
                    "replicas.yaml", resources=("big.yaml",)
                ),
                f"overlays/{env}/web/big.yaml": (
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + lines
                ),
            },
        )


def workspace_of(repo: Path) -> Workspace:
    """The workspace the CLI opens for ``repo`` (render cache on, no schema validator)."""
    return Workspace.open(repo, load_config(repo))


def diff(repo: Path, base: str | None = None, head: str | None = None) -> DiffResult:
    """``gitops diff --base BASE [--head HEAD]`` of ``repo``, as the library runs it."""
    return run_diff(workspace_of(repo), base=base, head=head)
