"""``gitops diff``: what a change does to the rendered manifests and to the policy findings.

The base side is checked out in a temporary git worktree; the head side is the working tree (or
a second worktree). Only overlays whose kustomize inputs changed are rendered, on both sides;
their resources are matched by (env, service, apiVersion/kind, namespace, name) and compared as
normalised YAML; ``gitops check`` runs on the services involved and its findings are reported as
added or fixed by the change. Secret values never reach any output: they are compared by hash.

    >>> result = run_diff(Workspace.open(repo, config), base="origin/main")
    >>> [(c.action, c.overlay, c.key.short()) for c in result.changes if c.key]
    [('changed', 'prod/web', 'ConfigMap/web')]
    >>> print(format_markdown(result, max_bytes=60_000))

The package follows the sections of the comparison: ``select`` (which overlays a change
affects), ``resources`` and ``secrets`` (compare rendered objects, Secrets by hash),
``findings``, ``compare`` (two Snapshots, one per side), one module per output format, and
``command``. Everything public is re-exported here.
"""

from __future__ import annotations

from gitops.diff.command import diff_command
from gitops.diff.compare import argocd_resources, compare_trees, run_diff
from gitops.diff.findings import compare_findings, landing_namespaces, lands_in
from gitops.diff.format_json import format_json
from gitops.diff.format_markdown import format_markdown
from gitops.diff.format_text import format_text
from gitops.diff.options import (
    ARGOCD_SERVICE,
    DEFAULT_CONTEXT,
    DEFAULT_MAX_BYTES,
    FORMATS,
    MARKDOWN_MARKER,
    MIN_MAX_BYTES,
    DiffOptions,
)
from gitops.diff.resources import (
    ResourceChange,
    ResourceMap,
    compare_resources,
    normalise,
)
from gitops.diff.result import DiffResult
from gitops.diff.secrets import (
    REDACTED,
    REDACTED_CHANGED,
    SecretKeyChanges,
    redact_secret,
    secret_value_hashes,
)
from gitops.diff.select import AffectedOverlay, SideRef, SideState, affected_overlays, load_side

__all__ = [
    "ARGOCD_SERVICE",
    "DEFAULT_CONTEXT",
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "MARKDOWN_MARKER",
    "MIN_MAX_BYTES",
    "REDACTED",
    "REDACTED_CHANGED",
    "AffectedOverlay",
    "DiffOptions",
    "DiffResult",
    "ResourceChange",
    "ResourceMap",
    "SecretKeyChanges",
    "SideRef",
    "SideState",
    "affected_overlays",
    "argocd_resources",
    "compare_findings",
    "compare_resources",
    "compare_trees",
    "diff_command",
    "format_json",
    "format_markdown",
    "format_text",
    "landing_namespaces",
    "lands_in",
    "load_side",
    "normalise",
    "redact_secret",
    "run_diff",
    "secret_value_hashes",
]
