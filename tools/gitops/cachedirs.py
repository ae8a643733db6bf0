"""Where gitops keeps what it can build again: one small module, so a command that only needs
the path (the compiled schemas, the upstream validator) does not load the render cache for it.

    >>> user_cache_root()            # $GITOPS_CACHE_DIR, else $XDG_CACHE_HOME/gitops
    PosixPath('/home/me/.cache/gitops')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def xdg_cache_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME``, else ``~/.cache`` (the XDG Base Directory default)."""
    env = os.environ if environ is None else environ
    return Path(env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"))


def user_cache_root() -> Path:
    """gitops' own caches (rendered units, compiled schemas): ``$GITOPS_CACHE_DIR`` wins."""
    explicit = os.environ.get("GITOPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return xdg_cache_home() / "gitops"
