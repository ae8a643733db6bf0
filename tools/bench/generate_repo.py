"""Generate a GitOps repository of N overlays (N/3 services x dev/staging/prod) and commit it.

Each service has a small base (Deployment, Service, ConfigMap, PDB) and each overlay a replicas
patch; an ApplicationSet generates one Application per overlay. Used by ``bench_diff.py``.

    $ python tools/bench/generate_repo.py 200 /tmp/bench-200
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ENVS = ("dev", "staging", "prod")

BASE_FILES = {
    "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: bench
labels:
  - pairs: {{app.kubernetes.io/name: {name}}}
    includeSelectors: true
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
  - pdb.yaml
""",
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: registry.example.test/{name}:1.0.0
          ports: [{{containerPort: 8080, name: http}}]
          envFrom: [{{configMapRef: {{name: {name}}}}}]
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
            limits: {{memory: 128Mi}}
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports: [{{port: 80, targetPort: http, name: http}}]
""",
    "configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  LOG_LEVEL: info
""",
    "pdb.yaml": """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
spec:
  maxUnavailable: 1
""",
}

OVERLAY_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../../base/{name}
patches:
  - path: replicas.yaml
"""

REPLICAS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
"""

GITOPS_YAML = """\
kubernetesVersion: "1.33"
envs: [dev, staging, prod]
repoURL: https://git.example.test/bench/gitops.git
kustomize:
  buildOptions: ["--load-restrictor=LoadRestrictionsRootOnly"]
"""

ARGOCD_FILES = {
    "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - applicationset.yaml
""",
    "applicationset.yaml": """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: bench
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: https://git.example.test/bench/gitops.git
        revision: HEAD
        directories:
          - path: overlays/*/*
  template:
    metadata:
      name: "{{index .path.segments 1}}-{{.path.basename}}"
    spec:
      project: default
      source:
        repoURL: https://git.example.test/bench/gitops.git
        targetRevision: HEAD
        path: "{{.path.path}}"
      destination:
        name: "{{index .path.segments 1}}"
        namespace: bench
""",
}


def service_names(overlays: int) -> list[str]:
    return [f"svc-{i:03}" for i in range(max(1, overlays // len(ENVS)))]


def generate(overlays: int, target: Path) -> list[str]:
    """Write the layout into ``target`` and return the overlay paths."""
    written = []
    (target / "gitops.yaml").write_text(GITOPS_YAML, encoding="utf-8")
    for rel, text in ARGOCD_FILES.items():
        (target / "argocd").mkdir(parents=True, exist_ok=True)
        (target / "argocd" / rel).write_text(text, encoding="utf-8")
    for name in service_names(overlays):
        base = target / "base" / name
        base.mkdir(parents=True, exist_ok=True)
        for rel, text in BASE_FILES.items():
            (base / rel).write_text(text.format(name=name), encoding="utf-8")
        for replicas, env in enumerate(ENVS, start=1):
            overlay = target / "overlays" / env / name
            overlay.mkdir(parents=True, exist_ok=True)
            (overlay / "kustomization.yaml").write_text(
                OVERLAY_KUSTOMIZATION.format(name=name), encoding="utf-8"
            )
            (overlay / "replicas.yaml").write_text(
                REPLICAS.format(name=name, replicas=replicas), encoding="utf-8"
            )
            written.append(f"overlays/{env}/{name}")
    return written


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.test",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.test",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overlays", type=int, help="number of overlays (rounded down to x3)")
    parser.add_argument("directory", type=Path, help="new or empty directory")
    args = parser.parse_args(argv)
    target: Path = args.directory
    if target.exists() and any(target.iterdir()):
        parser.error(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    overlays = generate(args.overlays, target)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", f"{len(overlays)} generated overlays")
    print(f"{target}: {len(overlays)} overlays committed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
