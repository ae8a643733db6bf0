"""``gitops.inputs``: the files and directories an overlay reads, for the render cache and
for ``gitops diff``'s selection."""

from __future__ import annotations

from pathlib import Path

from gitops.inputs import InputResolver
from tests.unit.diff.scratch import write


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


def test_helm_charts_are_inputs_and_a_chart_to_pull_is_remote(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "overlays/dev/web/kustomization.yaml": """\
helmGlobals:
  chartHome: ../../../charts
helmCharts:
  - name: web
    valuesFile: values-dev.yaml
  - name: redis
    repo: https://charts.example.test
    version: 19.0.1
""",
            "overlays/dev/web/values-dev.yaml": "replicas: 1\n",
            "charts/web/Chart.yaml": "name: web\n",
            "charts/web/templates/deployment.yaml": "kind: Deployment\n",
        },
    )
    inputs = InputResolver(tmp_path).overlay_inputs("overlays/dev/web")
    assert inputs.charts == {"charts/web"}
    assert inputs.remote_charts == {"helm chart redis 19.0.1 from https://charts.example.test"}
    assert inputs.inflates_charts
    assert "overlays/dev/web/values-dev.yaml" in inputs.files
    assert inputs.touched_by(["charts/web/templates/deployment.yaml", "README.md"]) == [
        "charts/web/templates/deployment.yaml"
    ]
