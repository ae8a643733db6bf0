"""What helm prints, read back: which template file each document came from, and where in a
chart an error points.

``helm template`` starts every document with a ``# Source: <chart>/<path in the chart>``
comment (helm pkg/action: the manifest's name; for a subchart ``<chart>/charts/<sub>/...``),
so each rendered object names its template file. Its errors name a template and a line:
``template: web/templates/hpa.yaml:12:20: executing ...`` (text/template), ``parse error at
(web/templates/hpa.yaml:12): ...``, ``execution error at (web/templates/hpa.yaml:12:20):
...`` (``fail``/``required``), ``YAML parse error on web/templates/hpa.yaml: ...`` (the
rendered text: no template line).

    >>> sources = document_sources(stdout, chart="web", chart_dir="charts/web")
    >>> error_location("parse error at (web/templates/hpa.yaml:12): ...", "web", "charts/web")
    Location(path='charts/web/templates/hpa.yaml', line=12)
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from gitops import yamlio
from gitops.model import Location

SOURCE_HEADER = re.compile(r"^# Source: (\S.*?)\s*$")
# <chart>/<path>[:line[:column]], inside an error message.
_TEMPLATE_PLACE = re.compile(
    r"(?<![\w./-])(?P<path>[\w.-]+/[\w./-]+?)(?::(?P<line>\d+))?(?::\d+)?(?=[\s:)]|$)"
)


def source_headers(text: str) -> list[tuple[int, str]]:
    """(1-based line, chart path) of every ``# Source:`` header of helm's output."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = SOURCE_HEADER.match(line)
        if match:
            found.append((number, match.group(1)))
    return found


def source_at(headers: list[tuple[int, str]], line: int) -> str | None:
    """The chart path of the header before ``line`` (the document starting there)."""
    found = None
    for number, path in headers:
        if number > line:
            break
        found = path
    return found


def repo_path(chart_path: str, chart: str, chart_dir: str) -> str | None:
    """A ``# Source:`` or error path (``<chart>/templates/x.yaml``) as a repo-relative path of
    the chart folder ``chart_dir`` whose Chart.yaml names it ``chart``; None for another chart."""
    head, _, rest = chart_path.partition("/")
    if head != chart or not rest:
        return None
    return posixpath.normpath(posixpath.join(chart_dir, rest))


def chart_paths_in_repo(message: str, chart: str, chart_dir: str) -> str:
    """A message of helm's with the chart's paths (``<chart>/templates/...``) as repo-relative
    paths, and without helm's ``Error:`` prefix (kustomize passes helm's stderr on)."""
    message = message.removeprefix("Error: ")
    for before in ("(", " ", '"'):
        message = message.replace(f"{before}{chart}/", f"{before}{chart_dir}/")
    if message.startswith(f"{chart}/"):
        message = f"{chart_dir}/{message[len(chart) + 1 :]}"
    return message


def error_location(message: str, chart: str, chart_dir: str, repo: Path) -> Location | None:
    """The template file and line an error of helm names, when it is a file of the chart (the
    first such place in the message); a place without a line is the file's first line."""
    for match in _TEMPLATE_PLACE.finditer(message):
        path = repo_path(match.group("path"), chart, chart_dir)
        if path is not None and (repo / path).is_file():
            return Location(path, int(match.group("line") or 1))
    return None


def chart_name(repo: Path, chart_dir: str) -> str:
    """The chart's ``name`` in Chart.yaml: helm's ``# Source:`` headers start with it."""
    try:
        document = yamlio.safe_load((repo / chart_dir / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return os.path.basename(chart_dir)
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else os.path.basename(chart_dir)
