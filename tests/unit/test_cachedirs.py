"""gitops.cachedirs: where the caches live, as the XDG Base Directory spec and
GITOPS_CACHE_DIR say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitops.cachedirs import user_cache_root, xdg_cache_home


def test_xdg_cache_home_or_the_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert xdg_cache_home({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert xdg_cache_home({}) == tmp_path / "home" / ".cache"
    # An empty value is unset, as the spec says.
    assert xdg_cache_home({"XDG_CACHE_HOME": ""}) == tmp_path / "home" / ".cache"


def test_gitops_cache_dir_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GITOPS_CACHE_DIR", raising=False)
    assert user_cache_root() == tmp_path / "xdg" / "gitops"
    monkeypatch.setenv("GITOPS_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache_root() == tmp_path / "mine"


def test_loading_it_loads_no_other_gitops_module() -> None:
    """Its reason to exist: the schema cache and the validator find their folder without
    loading the render cache (gitops.cache, and kustomize and the inputs with it)."""
    program = "import json, sys, gitops.cachedirs; print(json.dumps(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [m for m in json.loads(loaded) if m.startswith("gitops.")] == ["gitops.cachedirs"]
