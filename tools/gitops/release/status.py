"""``gitops status``: every service's images per env, where envs differ and which env is ahead.

Read from the rendered overlays (what Argo CD would apply), not from the ``images:`` lines
alone: an image pinned in a base shows up too. "Ahead" is the env running the highest version
when every differing tag reads as a version (``1.4.2``, ``v2.0.0-rc.1``); otherwise, since
releases enter at the first env and move right, the leftmost env that differs. An env running a
higher version than an env before it is reported too: a hotfix that skipped the order.

    >>> rows = image_status(Workspace.open(repo, config))
    >>> [(r.service, r.ahead, r.behind) for r in rows if r.differs]
    [('healthz', 'dev', ('staging', 'prod')), ('kpis-api', 'dev', ('staging', 'prod'))]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitops.release.plan import OverlayRenderError, read_overlay_images
from gitops.workspace import Workspace

_SEMVER = re.compile(
    r"v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)


@dataclass(frozen=True)
class StatusRow:
    service: str
    image: str  # the name an images: entry matches
    versions: dict[str, str | None]  # env -> "1.2.0" / "@sha256:..", None: not used there
    ahead: str | None = None
    behind: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()  # "prod > staging": a later env runs a higher version

    @property
    def differs(self) -> bool:
        return len({v for v in self.versions.values() if v is not None}) > 1

    def status(self) -> str:
        if not self.differs:
            return "same"
        text = f"{self.ahead} ahead"
        if self.behind:
            text += f" of {', '.join(self.behind)}"
        if self.out_of_order:
            text += f"; {', '.join(self.out_of_order)} (out of order)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "image": self.image,
            "versions": self.versions,
            "differs": self.differs,
            "ahead": self.ahead,
            "behind": list(self.behind),
            "outOfOrder": list(self.out_of_order),
        }


def version_key(version: str) -> tuple[Any, ...] | None:
    """A sortable key for a semver-like tag (digest ignored), None if it does not read as one.
    Pre-releases sort before their release, as semver orders them."""
    tag = version.split("@", 1)[0]
    match = _SEMVER.fullmatch(tag)
    if match is None:
        return None
    numbers = tuple(int(match.group(g) or 0) for g in ("major", "minor", "patch"))
    pre = match.group("pre")
    if pre is None:
        return (*numbers, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*numbers, 0, parts)


def _row(service: str, image: str, versions: dict[str, str | None], envs: list[str]) -> StatusRow:
    present = [(e, versions[e]) for e in envs if versions.get(e) is not None]
    values = {v for _e, v in present}
    if len(values) <= 1:
        return StatusRow(service, image, versions)
    keys = {v: version_key(v) for v in values if v is not None}
    out_of_order: list[str] = []
    if all(k is not None for k in keys.values()):
        ahead = max(present, key=lambda ev: keys[ev[1]])[0]  # type: ignore[index,arg-type,return-value]
        for i, (env, value) in enumerate(present):
            for later, later_value in present[i + 1 :]:
                if keys[later_value] > keys[value]:  # type: ignore[index,operator]
                    out_of_order.append(f"{later} > {env}")
    else:
        ahead = present[0][0]
    ahead_value = versions[ahead]
    behind = tuple(e for e, v in present if v != ahead_value)
    return StatusRow(service, image, versions, ahead, behind, tuple(out_of_order))


def image_status(workspace: Workspace) -> list[StatusRow]:
    """One row per (service, image), in service then image order; an overlay that does not
    render raises (see :func:`status_report` for the rows of the others)."""
    rows, problems = status_report(workspace)
    if problems:
        raise OverlayRenderError("; ".join(problems))
    return rows


def status_report(workspace: Workspace) -> tuple[list[StatusRow], list[str]]:
    """The rows of every overlay that renders, and one line per overlay that does not (or
    has no kustomization): one broken overlay never hides the others."""
    layout = workspace.layout()
    loaded, failures = read_overlay_images(workspace, layout.overlays)
    problems = [str(p) for p in layout.problems] + failures
    envs = list(workspace.config.envs)
    table: dict[tuple[str, str], dict[str, set[str]]] = {}
    for images in loaded.values():
        env, service = images.overlay.env, images.overlay.service
        for name, containers in images.by_source_name().items():
            cell = table.setdefault((service, name), {}).setdefault(env, set())
            cell.update(str(c.version) for c in containers)
    rows = []
    for (service, name), by_env in sorted(table.items()):
        versions = {e: ", ".join(sorted(by_env[e])) if e in by_env else None for e in envs}
        rows.append(_row(service, name, versions, envs))
    return rows, problems


def format_text(rows: list[StatusRow], envs: list[str], only_differing: bool = False) -> str:
    shown = [r for r in rows if r.differs or not only_differing]
    header = ("SERVICE", "IMAGE", *(e.upper() for e in envs), "STATUS")
    table = [header]
    for row in shown:
        marks = [
            _short(row.versions[e] or "-") + (" *" if row.differs and e == row.ahead else "")
            for e in envs
        ]
        table.append((row.service, row.image, *marks, row.status()))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    differing = sum(r.differs for r in rows)
    lines.append("")
    lines.append(
        f"{differing} of {len(rows)} image(s) differ between envs"
        + ("; * marks the env that is ahead" if differing else "")
    )
    return "\n".join(lines) + "\n"


def _short(version: str) -> str:
    # A table cell shows 12 hex digits of a digest, as git shows commits; JSON has all 64.
    return re.sub(r"(sha256:[0-9a-f]{12})[0-9a-f]+", r"\1", version)


def format_json(rows: list[StatusRow], envs: list[str], problems: Sequence[str] = ()) -> str:
    document = {"envs": envs, "images": [r.to_json() for r in rows], "problems": list(problems)}
    return json.dumps(document, indent=2) + "\n"
