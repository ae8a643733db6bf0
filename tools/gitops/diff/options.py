"""The options of ``gitops diff`` and the constants its formats share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FORMATS = ("text", "markdown", "json")


DEFAULT_CONTEXT = 3


DEFAULT_MAX_BYTES = 60_000  # GitHub rejects comments above 65,536 characters


MIN_MAX_BYTES = 2_000


# Hidden first line of the markdown report: the PR workflow finds its previous comment by it.
MARKDOWN_MARKER = "<!-- gitops-diff -->"


ARGOCD_SERVICE = "argocd"


@dataclass(frozen=True)
class DiffOptions:
    base: str | None = None
    head: str | None = None
    format: str = "text"
    context: int = DEFAULT_CONTEXT
    max_bytes: int = DEFAULT_MAX_BYTES
    exit_code: bool = False
    color: bool = False
    plot_dir: Path | None = None  # Behaviour section: write its plots here
