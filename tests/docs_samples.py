"""The README's generated sample: the pull-request comment CI would post for one everyday
change of this repository, made by the real commands on a throwaway copy of the checkout.

`make docs` writes it into README.md between its markers (``python -m tests.docs_samples``);
tests/repo/test_docs.py fails when the README's copy is not what this produces today, so the
sample never goes stale. The change: promote healthz from staging to prod (`gitops promote`)
and let prod's HPA scale to 12 replicas (a patch), the kind of pull request the daily workflow
describes; its comment shows a changed Deployment and HPA and the Behaviour section.

    $ python -m tests.docs_samples          # rewrites the sample in README.md
    $ python -m tests.docs_samples --check  # exit 1 when README.md's sample is stale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

from gitops.cli import main as gitops
from tests.adoption.checkout import copy_checkout, git

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
BEGIN = "<!-- BEGIN pr-comment sample: written by make docs, do not edit -->"
END = "<!-- END pr-comment sample -->"
SUMMARY = (
    "<details><summary>The comment on a pull request that promotes healthz to prod and lets it "
    "scale to 12 replicas (click to open)</summary>"
)
HPA_PATCH = """\
# prod: room for the launch traffic.
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: healthz-hpa
spec:
  maxReplicas: 12
"""


def _run(argv: list[str]) -> str:
    """One gitops command in-process; its stdout, or an error naming it and what it said."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gitops(argv)
    if code != 0:
        raise RuntimeError(f"gitops {' '.join(argv)} exited {code}: {err.getvalue().strip()}")
    return out.getvalue()


def pr_comment(checkout: Path = REPO_ROOT) -> str:
    """The markdown `gitops diff --format markdown` prints for the sample change of
    ``checkout``'s working tree, with the base commit's SHA (which changes with every commit)
    left out and without the comment's hidden marker."""
    with tempfile.TemporaryDirectory(prefix="gitops-docs-") as temp:
        repo = copy_checkout(Path(temp) / "repo")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", "base")
        # The Python validator judges both commands, so the sample is the same on a machine
        # with or without `make validator` (this change adds no finding under either).
        _run(["promote", "--repo", str(repo), "--validator", "python", "--from", "staging",
              "--to", "prod", "--service", "healthz"])  # fmt: skip
        overlay = repo / "overlays" / "prod" / "healthz"
        (overlay / "hpa.yaml").write_text(HPA_PATCH, encoding="utf-8")
        kustomization = overlay / "kustomization.yaml"
        text = kustomization.read_text(encoding="utf-8")
        kustomization.write_text(text + "patches:\n  - path: hpa.yaml\n", encoding="utf-8")
        comment = _run(["diff", "--repo", str(repo), "--validator", "python", "--base", "main",
                        "--format", "markdown"])  # fmt: skip
    comment = re.sub(r"`main \([0-9a-f]{12}\)`", "`main`", comment)
    lines = [line for line in comment.splitlines() if line != "<!-- gitops-diff -->"]
    return "\n".join(lines).strip() + "\n"


def readme_block(comment: str) -> str:
    return f"{BEGIN}\n{SUMMARY}\n\n{comment}\n</details>\n{END}"


def current_block(readme: str) -> str:
    """README's sample, markers included; an error when the markers are missing."""
    match = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), readme, flags=re.DOTALL)
    if match is None:
        raise ValueError(f"README.md has no {BEGIN!r} ... {END!r} block")
    return match.group(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = parser.parse_args(argv)
    readme = README.read_text(encoding="utf-8")
    old = current_block(readme)
    new = readme_block(pr_comment())
    if args.check:
        if old != new:
            print("README.md: the pull-request comment sample is stale: run make docs")
            return 1
        return 0
    README.write_text(readme.replace(old, new), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
