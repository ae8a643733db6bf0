"""Built-in API lifecycles: when an apiVersion of a kind was deprecated and removed, and what
replaces it. The table is package data (``gitops/data/api-lifecycles.yaml``, with its sources);
the ``api-removed``/``api-deprecated`` rules and the schema validator read it here, so a removed
built-in is never mistaken for a custom resource that lacks its CRD.

    >>> entry = lifecycle("extensions/v1beta1", "PodSecurityPolicy")
    >>> entry.removal_message(36)
    'extensions/v1beta1 PodSecurityPolicy was removed in Kubernetes 1.16 (target 1.36): use Pod ...'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gitops import yamlio

LIFECYCLES_FILE = "api-lifecycles.yaml"


@dataclass(frozen=True)
class ApiLifecycle:
    api_version: str
    kind: str
    deprecated_in: int | None  # minor version; None when never announced separately
    removed_in: int | None  # minor version; None when deprecated without a removal date
    replacement: str  # an apiVersion first (possibly with a note), or what replaces the API

    @property
    def text(self) -> str:
        return f"{self.api_version} {self.kind}"

    def removed_at(self, minor: int) -> bool:
        return self.removed_in is not None and self.removed_in <= minor

    def replacement_at(self, minor: int) -> str:
        """The replacement that the target still serves: a replacement that was itself removed
        by then is followed (extensions/v1beta1 PodSecurityPolicy -> policy/v1beta1 ->
        Pod Security Admission)."""
        seen = {self.api_version}
        entry = self
        while True:
            successor = lifecycle(entry.replacement.split(" ", 1)[0], entry.kind)
            if (
                successor is None
                or successor.api_version in seen
                or not successor.removed_at(minor)
            ):
                return entry.replacement
            seen.add(successor.api_version)
            entry = successor

    def removal_message(self, minor: int) -> str:
        return (
            f"{self.text} was removed in Kubernetes 1.{self.removed_in} (target 1.{minor}): "
            f"use {self.replacement_at(minor)}"
        )


def parse_lifecycles(data: Any, where: str) -> tuple[ApiLifecycle, ...]:
    """The lifecycles of an ``api-lifecycles.yaml`` document (one entry per apiVersion x kind)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("apis"), list):
        raise ValueError(f"{where}: expected a mapping with an apis: list")
    if not data.get("sources"):
        raise ValueError(f"{where}: expected sources: naming where the versions come from")
    found: list[ApiLifecycle] = []
    for index, entry in enumerate(data["apis"]):
        try:
            found += [
                ApiLifecycle(
                    str(version),
                    str(kind),
                    _minor(entry["deprecated"]),
                    _minor(entry["removed"]),
                    str(entry["replacement"]),
                )
                for version in entry["apiVersions"]
                for kind in entry["kinds"]
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: apis[{index}]: {error!r}") from None
    return tuple(found)


def _minor(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a minor version number or null, got {value!r}")
    return value


@cache
def api_lifecycles() -> tuple[ApiLifecycle, ...]:
    """The packaged lifecycle table."""
    text = resources.files("gitops").joinpath("data", LIFECYCLES_FILE).read_text(encoding="utf-8")
    return parse_lifecycles(yamlio.safe_load(text), f"gitops/data/{LIFECYCLES_FILE}")


@cache
def _by_key() -> dict[tuple[str, str], ApiLifecycle]:
    return {(a.api_version, a.kind): a for a in api_lifecycles()}


def lifecycle(api_version: str, kind: str) -> ApiLifecycle | None:
    """The table's entry for one apiVersion and kind, or None (served, or not built in)."""
    return _by_key().get((api_version, kind))


def removed_api(api_version: str, kind: str, minor: int) -> ApiLifecycle | None:
    """The entry when ``minor`` no longer serves this built-in apiVersion of ``kind``."""
    entry = lifecycle(api_version, kind)
    return entry if entry is not None and entry.removed_at(minor) else None
