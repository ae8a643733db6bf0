"""tests/e2e/versions.yaml: kind, its node image and kubectl, pinned once; the harness, the
preflight and the workflow read it, and every version the READMEs quote for them is the pinned
one (the preflight once said kind v0.29.0 while the README and CI said v0.32.0)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gitops.config import load_config
from tests.conftest import REPO_ROOT
from tests.e2e.harness.versions import VersionsError, parse_versions, pinned_versions

IMAGE = "kindest/node:v1.36.1@sha256:" + "c" * 64
# The pages that quote the pins; every other page of the README and docs/ may quote them too.
QUOTING = [REPO_ROOT / "docs" / "cluster-tier.md", REPO_ROOT / "tests" / "e2e" / "README.md"]
DOCS = sorted({REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md"), *QUOTING})
RELEASE = re.compile(r"\bv\d+\.\d+\.\d+\b")


def _text(kind: str = "v0.32.0", image: str = IMAGE, kubectl: str = "v1.36.1") -> str:
    return f"kind: {kind}\nnodeImage: {image}\nkubectl: {kubectl}\n"


def test_the_committed_pins_parse_and_target_gitops_kubernetes_version() -> None:
    pins = pinned_versions()
    assert pins.kubernetes_version.rsplit(".", 1)[0] == load_config(REPO_ROOT).kubernetes_version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: v0.32.0\nkubectl: v1.36.1\n", "expected the keys"),
        (_text(kind="0.32"), "kind: expected vX.Y.Z"),
        (_text(image="kindest/node:v1.36.1"), "nodeImage: expected kindest/node:vX.Y.Z@sha256"),
        (_text(kubectl="v1.38.0"), "kubectl v1.38.0 is not within 1 minor"),
    ],
)
def test_a_pin_in_another_form_is_rejected(text: str, message: str) -> None:
    with pytest.raises(VersionsError, match=message):
        parse_versions(text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_the_readmes_quote_the_pinned_versions(doc: Path) -> None:
    pins = pinned_versions()
    node = f"v{pins.kubernetes_version}"
    text = doc.read_text(encoding="utf-8")
    kinds = re.findall(r"\bkind (v\d[\w.]*)|sigs\.k8s\.io/kind@(v\d[\w.]*)", text)
    assert {a or b for a, b in kinds} <= {pins.kind}
    # a line naming the node image with versions names the pinned ones (and the kubectl pin)
    image_lines = [
        line for line in text.splitlines() if "kindest/node" in line and RELEASE.search(line)
    ]
    for line in image_lines:
        assert node in line, line
        assert set(RELEASE.findall(line)) <= {pins.kind, node, pins.kubectl}, line
    if doc in QUOTING:
        assert kinds and image_lines
        assert any(pins.kubectl in line for line in image_lines)


def test_ci_installs_kind_and_kubectl_from_the_pins() -> None:
    path = REPO_ROOT / ".github" / "workflows" / "pull-request.yaml"
    steps = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]["e2e"]["steps"]
    probe = next(s for s in steps if "tests.e2e.preflight --versions" in s.get("run", ""))
    kind = next(s for s in steps if s.get("uses", "").startswith("helm/kind-action"))
    kubectl = next(s for s in steps if s.get("uses", "").startswith("azure/setup-kubectl"))
    assert kind["with"]["version"] == "${{ steps." + probe["id"] + ".outputs.kind }}"
    assert kubectl["with"]["version"] == "${{ steps." + probe["id"] + ".outputs.kubectl }}"
    assert steps.index(probe) < min(steps.index(kind), steps.index(kubectl))
    # no version written down a second time in the workflow
    pins = pinned_versions()
    text = path.read_text(encoding="utf-8")
    for version in (pins.kind, pins.kubectl, pins.kubernetes_version):
        assert version not in text
