"""Rules about what a render fetches from outside the repository: unpinned remote bases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from gitops.kustomization import walk
from gitops.policy.engine import CheckContext, Hit, rule

_SEMVER_TAG = re.compile(r"^v?\d+(\.\d+){1,2}([-+][0-9A-Za-z.+-]+)?$")
_COMMIT_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_FILE_SUFFIXES = (".yaml", ".yml", ".json")


@rule(
    "remote-base",
    remediation=(
        "Pin the remote with ?ref=<semver tag or commit SHA> (for a file URL: a URL whose path "
        "names the tag or commit)."
    ),
)
def remote_base(ctx: CheckContext) -> Iterator[Hit]:
    """A kustomization pulls a remote base or component that is not pinned to a tag or commit.

    Without ``?ref=<tag|sha>`` (or with a branch such as main), every render fetches whatever
    the remote branch holds right now: the same commit of this repository deploys different
    manifests tomorrow, a push elsewhere changes production without a review here, and a
    rollback does not roll back. Only semver tags (``v1.2.3``) and 7-40 hex commit SHAs count
    as pinned. Every kustomization reachable from each overlay (local bases and components,
    recursively) is read from disk, so this works even when the overlay does not render."""
    for overlay in ctx.overlays:
        seen: set[Path] = set()
        for kustomization, entry in _kustomization_entries(
            ctx.repo, ctx.repo / overlay.rel_path, seen
        ):
            problem = _unpinned_reason(entry)
            if problem is None:
                continue
            yield Hit(
                f"remote {entry} is not pinned ({problem}): pin it with ?ref=<tag or commit>",
                env=overlay.env,
                service=overlay.service,
                source=kustomization,
            )


def _kustomization_entries(
    repo: Path, directory: Path, seen: set[Path]
) -> Iterator[tuple[str, str]]:
    """(repo-relative kustomization, remote entry) for the kustomization in ``directory`` and
    every local directory it references."""
    for visited in walk(directory, seen):
        try:
            rel = visited.path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            rel = str(visited.path)
        for entry in visited.remote:
            yield rel, entry


def _unpinned_reason(entry: str) -> str | None:
    """Why a remote entry is not pinned, or None when it is."""
    url = entry[len("git::") :] if entry.startswith("git::") else entry
    query = parse_qs(urlsplit(url).query) if "?" in url else {}
    refs = query.get("ref") or query.get("version")
    if refs:
        ref = refs[-1]
        if _SEMVER_TAG.match(ref) or _COMMIT_SHA.match(ref):
            return None
        return f"ref={ref} is a branch or moving name, not a semver tag or commit SHA"
    path = url.split("?", 1)[0]
    if path.lower().endswith(_FILE_SUFFIXES):
        # A plain file download: the revision, if any, is a path segment (raw URLs, releases).
        if any(_SEMVER_TAG.match(s) or _COMMIT_SHA.match(s) for s in path.split("/")):
            return None
        return "the file URL names no tag or commit"
    return "no ?ref= or ?version="
