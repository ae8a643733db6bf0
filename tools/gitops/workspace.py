"""The things every command renders with, found once by the CLI and passed down.

A :class:`Workspace` holds the repository, its config, the kustomize binary, the render cache
(None when ``--no-cache``), the subprocess runner and the schema validator. Nothing below the CLI
looks the kustomize binary up again or reads an option from the environment: ``GITOPS_NO_CACHE``
is read once, here, as the documented alias of ``--no-cache``.

    >>> workspace = Workspace.open(repo, load_config(repo), use_cache=not args.no_cache)
    >>> snapshot = take_snapshot(workspace)          # gitops.snapshot
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.cache import RenderCache
from gitops.config import RepoConfig
from gitops.kustomize import Kustomize, find_kustomize
from gitops.runner import Command, CommandResult, run

Runner = Callable[[Command], CommandResult]
# Validates one document, returning one message per problem (see gitops.schema).
DocumentValidator = Callable[[dict[str, Any]], list[str]]
# Learns a CustomResourceDefinition rendered with the resources; returns its problems.
CrdLearner = Callable[[dict[str, Any], str], list[str]]


def no_cache_requested(environ: Mapping[str, str] | None = None) -> bool:
    """``GITOPS_NO_CACHE=1``: the environment alias of ``--no-cache``, read at the CLI boundary
    only (and by library callers that want the same switch)."""
    env = os.environ if environ is None else environ
    return env.get("GITOPS_NO_CACHE", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Workspace:
    repo: Path
    config: RepoConfig
    kustomize: Kustomize
    cache: RenderCache | None = field(default=None, repr=False)
    runner: Runner = field(default=run, repr=False)
    validator: DocumentValidator | None = field(default=None, repr=False)
    learn_crd: CrdLearner | None = field(default=None, repr=False)

    @classmethod
    # Over six parameters: the docstring says why (one per option, no hidden state).
    def open(  # noqa: PLR0913
        cls,
        repo: Path,
        config: RepoConfig,
        *,
        kustomize: Kustomize | None = None,
        use_cache: bool = True,
        runner: Runner = run,
        validator: DocumentValidator | None = None,
        learn_crd: CrdLearner | None = None,
    ) -> Workspace:
        """The one place the kustomize binary is looked up (unless the caller has it). Seven
        parameters, all but two keyword-only: one per field, each optional."""
        kustomize = kustomize or find_kustomize(config)
        cache = RenderCache.for_repo(repo, config, kustomize) if use_cache else None
        return cls(repo, config, kustomize, cache, runner, validator, learn_crd)

    def for_tree(self, root: Path, config: RepoConfig) -> Workspace:
        """The same tools over another checkout (``gitops diff``'s base side): same binary,
        runner, validator and cache setting; the cache keys carry the tree's own inputs."""
        cache = (
            RenderCache.for_repo(root, config, self.kustomize, directory=self.cache.directory)
            if self.cache is not None
            else None
        )
        return Workspace(
            root, config, self.kustomize, cache, self.runner, self.validator, self.learn_crd
        )
