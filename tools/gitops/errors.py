"""Errors the CLI turns into one-line messages and documented exit codes.

Exit codes (also in docs/cli.md):
    0  success
    1  the repository has a problem (an overlay failed to render, a finding of error severity,
       an Application path without a kustomization, ...)
    2  usage or environment error (bad flag, unreadable gitops.yaml, no kustomize binary)

    >>> raise ConfigError("gitops.yaml: envs must be a list of names")
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class GitopsError(Exception):
    """Base class: the message is shown as ``error: <message>`` and the process exits 2."""

    exit_code = EXIT_USAGE


class ConfigError(GitopsError):
    """``gitops.yaml`` (or another input we read directly) is malformed."""


class ToolNotFoundError(GitopsError):
    """A required external binary (kustomize, git, ...) is missing."""


class CommandError(GitopsError):
    """An external command failed, timed out or could not be started."""
