"""Copies of the dev healthz and kpis-api overlays, broken on purpose by one patch, for the
``gitops probe`` tests. ``SPEED`` shortens kubelet's periods so the suite stays fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.probe.results import ProbeResult

SPEED = 5.0


needs_postgres = pytest.mark.requires("postgresql")


def add_patch(repo: Path, service: str, name: str, patch: str) -> None:
    overlay = repo / "overlays" / "dev" / service
    (overlay / name).write_text(patch)
    kustomization = overlay / "kustomization.yaml"
    text = kustomization.read_text()
    assert "patches:\n" in text
    kustomization.write_text(
        text.replace(
            "patches:\n",
            f"patches:\n  - path: {name}\n    target:\n      kind: Deployment\n",
            1,
        )
    )


def failures(result: ProbeResult) -> dict[str, str]:
    return {c.kind: c.message for c in result.checks if not c.passed}
