"""``gitops.helm.output``: helm's ``# Source:`` headers and the template places in its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.helm.output import (
    chart_name,
    chart_paths_in_repo,
    error_location,
    repo_path,
    source_at,
    source_headers,
)
from gitops.model import Location

OUTPUT = """\
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service

---
# Source: web/charts/redis/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
"""


def test_each_document_is_named_by_the_header_before_it() -> None:
    headers = source_headers(OUTPUT)
    assert headers == [
        (2, "web/templates/service.yaml"),
        (7, "web/charts/redis/templates/statefulset.yaml"),
    ]
    assert source_at(headers, 3) == "web/templates/service.yaml"
    assert source_at(headers, 8) == "web/charts/redis/templates/statefulset.yaml"
    assert source_at(headers, 1) is None
    assert repo_path("web/charts/redis/templates/statefulset.yaml", "web", "deploy/web") == (
        "deploy/web/charts/redis/templates/statefulset.yaml"
    )
    assert repo_path("other/templates/x.yaml", "web", "deploy/web") is None


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    templates = tmp_path / "charts" / "web" / "templates"
    templates.mkdir(parents=True)
    (templates / "hpa.yaml").write_text("kind: HorizontalPodAutoscaler\n")
    (tmp_path / "charts" / "web" / "Chart.yaml").write_text("name: web\nversion: 1.0.0\n")
    return tmp_path


@pytest.mark.parametrize(
    ("message", "line"),
    [
        # helm 4 (text/template's error, shortened)
        ('web/templates/hpa.yaml:12:20 executing "web/templates/hpa.yaml" at <.Values.x>', 12),
        ("template: web/templates/hpa.yaml:12:20: executing ...", 12),
        ('parse error at (web/templates/hpa.yaml:7): unexpected "}" in operand', 7),
        ("execution error at (web/templates/hpa.yaml:9:18): image.tag is required", 9),
        ("YAML parse error on web/templates/hpa.yaml: error converting YAML to JSON", 1),
    ],
)
def test_an_error_is_located_on_the_template_line_it_names(
    chart: Path, message: str, line: int
) -> None:
    assert error_location(message, "web", "charts/web", chart) == Location(
        "charts/web/templates/hpa.yaml", line
    )


def test_places_outside_the_chart_are_not_locations(chart: Path) -> None:
    assert error_location("web/templates/missing.yaml:3: x", "web", "charts/web", chart) is None
    assert error_location("nothing to see", "web", "charts/web", chart) is None


def test_messages_name_the_charts_files_by_their_repo_paths(chart: Path) -> None:
    assert (
        chart_paths_in_repo(
            'Error: web/templates/hpa.yaml:9:22 executing "web/templates/hpa.yaml" at <.x>',
            "web",
            "charts/web",
        )
        == 'charts/web/templates/hpa.yaml:9:22 executing "charts/web/templates/hpa.yaml" at <.x>'
    )
    assert chart_name(chart, "charts/web") == "web"
    assert chart_name(chart, "charts/none") == "none"  # no Chart.yaml: helm fails on its own
