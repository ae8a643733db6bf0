"""``gitops status``: every service's images per env as git declares them, where envs differ
and which env is ahead of which.

Read from the rendered overlays of the checkout (what Argo CD would apply once it has synced
them), not from the ``images:`` lines alone: an image pinned in a base shows up too. It is the
declared state, not what the clusters run: an Application that has not synced yet, or failed
to, runs something else. Envs are ranked by the version they declare when every differing tag
reads as a version (``1.4.2``, ``v2.0.0-rc.1``); otherwise, since releases enter at the first
env and move right, by their order in gitops.yaml. An env declaring a higher version than an
env before it is reported too: a hotfix that skipped the order.

    >>> rows = image_status(Workspace.open(repo, config))
    >>> [(r.service, r.status()) for r in rows if r.differs]
    [('healthz', 'dev ahead of staging, staging ahead of prod'), ...]
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitops.discovery import select_overlays
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
    # The envs using the image, grouped by the version they declare, from ahead to behind:
    # (("dev",), ("staging", "prod")) is dev ahead of staging and prod, which agree.
    ranking: tuple[tuple[str, ...], ...] = ()
    out_of_order: tuple[str, ...] = ()  # "prod > staging": a later env declares a higher version

    @property
    def differs(self) -> bool:
        return len(self.ranking) > 1

    @property
    def ahead(self) -> str | None:
        """The first env of the leading group (None when every env agrees)."""
        return self.ranking[0][0] if self.differs else None

    @property
    def behind(self) -> tuple[str, ...]:
        """The envs that do not declare the leading version."""
        return tuple(env for group in self.ranking[1:] for env in group)

    def status(self) -> str:
        """``dev ahead of staging, staging ahead of prod``: every step of the ranking, so the
        reader never has to guess how the envs behind compare with each other."""
        if not self.differs:
            return "same"
        steps = [
            f"{' and '.join(a)} ahead of {' and '.join(b)}"
            for a, b in itertools.pairwise(self.ranking)
        ]
        text = ", ".join(steps)
        if self.out_of_order:
            text += f" (out of order: {', '.join(self.out_of_order)})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "image": self.image,
            "versions": self.versions,
            "differs": self.differs,
            "ahead": self.ahead,
            "behind": list(self.behind),
            "ranking": [list(group) for group in self.ranking],
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
    present = [(e, v) for e in envs if (v := versions.get(e)) is not None]
    values = list(dict.fromkeys(v for _e, v in present))  # in env order
    keys = {v: version_key(v) for v in values}
    ordered = all(key is not None for key in keys.values())
    if ordered:
        values.sort(key=lambda v: keys[v], reverse=True)  # type: ignore[arg-type,return-value]
    ranking = tuple(tuple(e for e, v in present if v == value) for value in values)
    out_of_order: list[str] = []
    if ordered:
        for i, (env, value) in enumerate(present):
            for later, later_value in present[i + 1 :]:
                if keys[later_value] > keys[value]:  # type: ignore[operator]
                    out_of_order.append(f"{later} > {env}")
    return StatusRow(service, image, versions, ranking, tuple(out_of_order))


def image_status(workspace: Workspace, env: str | None = None) -> list[StatusRow]:
    """One row per (service, image), in service then image order; an overlay that does not
    render raises (see :func:`status_report` for the rows of the others)."""
    rows, problems = status_report(workspace, env)
    if problems:
        raise OverlayRenderError("; ".join(problems))
    return rows


def status_report(
    workspace: Workspace, env: str | None = None
) -> tuple[list[StatusRow], list[str]]:
    """The rows of every overlay that renders (of ``env`` only, when given: an unknown env is
    a usage error), and one line per overlay that does not (or has no kustomization): one
    broken overlay never hides the others."""
    layout = workspace.layout()
    overlays = select_overlays(layout, workspace.config, env, None)
    loaded, failures = read_overlay_images(workspace, overlays)
    problems = [str(p) for p in layout.problems if env is None or p.env == env] + failures
    envs = status_envs(workspace.config.envs, env)
    table: dict[tuple[str, str], dict[str, set[str]]] = {}
    for images in loaded.values():
        where, service = images.overlay.env, images.overlay.service
        for name, containers in images.by_source_name().items():
            cell = table.setdefault((service, name), {}).setdefault(where, set())
            cell.update(str(c.version) for c in containers)
    rows = []
    for (service, name), by_env in sorted(table.items()):
        versions = {e: ", ".join(sorted(by_env[e])) if e in by_env else None for e in envs}
        rows.append(_row(service, name, versions, envs))
    return rows, problems


def status_envs(envs: Sequence[str], env: str | None) -> list[str]:
    """The columns of the table: every env of gitops.yaml, or the one asked for."""
    return list(envs) if env is None else [env]


FOOTER = "declared in git (the rendered overlays), not read from the clusters"


def format_text(rows: list[StatusRow], envs: list[str], only_differing: bool = False) -> str:
    """The table, one column per env and a STATUS column comparing them (none for one env);
    ``*`` marks the envs ahead."""
    shown = [r for r in rows if r.differs or not only_differing]
    compared = len(envs) > 1
    header = ("SERVICE", "IMAGE", *(e.upper() for e in envs), *(("STATUS",) if compared else ()))
    table = [header]
    for row in shown:
        leading = row.ranking[0] if row.differs else ()
        marks = [_short(row.versions[e] or "-") + (" *" if e in leading else "") for e in envs]
        table.append((row.service, row.image, *marks, *((row.status(),) if compared else ())))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.append("")
    if compared:
        differing = sum(r.differs for r in rows)
        lines.append(
            f"{differing} of {len(rows)} image(s) differ between envs"
            + ("; * marks the env ahead" if differing else "")
        )
    else:
        lines.append(f"{len(rows)} image(s) in {envs[0]}")
    lines.append(f"Versions as {FOOTER}.")
    return "\n".join(lines) + "\n"


def _short(version: str) -> str:
    # A table cell shows 12 hex digits of a digest, as git shows commits; JSON has all 64.
    return re.sub(r"(sha256:[0-9a-f]{12})[0-9a-f]+", r"\1", version)


def format_json(rows: list[StatusRow], envs: list[str], problems: Sequence[str] = ()) -> str:
    document = {"envs": envs, "images": [r.to_json() for r in rows], "problems": list(problems)}
    return json.dumps(document, indent=2) + "\n"
