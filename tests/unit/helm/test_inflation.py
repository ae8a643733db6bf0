"""``gitops.helm.inflation``: kustomize's helmCharts entries (HelmChartInflationGenerator.go,
helmchartargs.go AsHelmArgs)."""

from __future__ import annotations

from pathlib import Path

from gitops.helm.inflation import inflated_charts

KUSTOMIZATION = {
    "helmGlobals": {"chartHome": "../../charts"},
    "helmCharts": [
        {
            "name": "web",
            "releaseName": "web",
            "namespace": "shop",
            "valuesFile": "values.yaml",
            "additionalValuesFiles": ["more.yaml"],
            "valuesInline": {"replicas": 2},
            "includeCRDs": True,
            "skipHooks": True,
            "apiVersions": ["apps/v1"],
            "kubeVersion": "1.30",
        },
        {"name": "redis", "repo": "oci://registry.test/charts", "version": "19.0.1"},
        "not a chart",
    ],
}


def test_where_each_entry_reads_its_chart_and_whether_it_is_there(tmp_path: Path) -> None:
    (tmp_path / "charts" / "web").mkdir(parents=True)
    web, redis = inflated_charts(tmp_path, "overlays/dev", KUSTOMIZATION)
    assert (web.chart_dir, web.local) == ("charts/web", True)
    # repo and version: <chartHome>/<name>-<version>/<name> (absChartHome), to be pulled.
    assert (redis.chart_dir, redis.local) == ("charts/redis-19.0.1/redis", False)
    assert redis.remote_text() == "helm chart redis 19.0.1 from oci://registry.test/charts"
    (default,) = inflated_charts(tmp_path, "apps/web", {"helmCharts": [{"name": "x"}]})
    assert default.chart_dir == "apps/web/charts/x"  # chartHome defaults to charts


def test_arguments_are_kustomizes_and_the_builds_flags_win(tmp_path: Path) -> None:
    web, _redis = inflated_charts(tmp_path, "overlays/dev", KUSTOMIZATION)
    assert web.template_args("/tmp/v.yaml", (), "") == (
        "template", "web", "../../charts/web",
        "--namespace", "shop",
        "-f", "/tmp/v.yaml",
        "-f", "more.yaml",
        "--api-versions", "apps/v1",
        "--kube-version", "1.30",
        "--include-crds",
        "--no-hooks",
    )  # fmt: skip
    args = web.template_args("/tmp/v.yaml", ("policy/v1",), "1.36")
    assert args[args.index("--api-versions") + 1] == "policy/v1"
    assert args[args.index("--kube-version") + 1] == "1.36"
    (anonymous,) = inflated_charts(tmp_path, "o", {"helmCharts": [{"name": "x"}]})
    assert anonymous.template_args("v.yaml", (), "")[:3] == (
        "template",
        "--generate-name",
        "charts/x",
    )


def test_inline_values_merge_as_valuesmerge_says(tmp_path: Path) -> None:
    file_values = {"replicas": 1, "image": {"tag": "1.0", "repository": "web"}}
    entry = {"name": "x", "valuesInline": {"replicas": 3, "image": {"tag": "2.0"}}}

    def merged(mode: str | None) -> object:
        chart_entry = {**entry, "valuesMerge": mode} if mode else entry
        (chart,) = inflated_charts(tmp_path, "o", {"helmCharts": [chart_entry]})
        return chart.merged_values(file_values)

    assert merged(None) == {"replicas": 3, "image": {"tag": "2.0", "repository": "web"}}
    assert merged("merge") == {"replicas": 1, "image": {"tag": "1.0", "repository": "web"}}
    assert merged("replace") == {"replicas": 3, "image": {"tag": "2.0"}}
