"""Benchmark: `gitops check` on the whole repo vs `checkov --framework kustomize` on the same repo.

Target (issue "gitops check / gitops validate"): gitops check >= 5x faster. Both run as whole
processes in this one run, alternating, median of N rounds. checkov is installed by this script
into a throw-away venv under build/bench/ (never into the project's .venv).

    $ make bench        # or: .venv/bin/python tools/bench/bench_check.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 5.0
CHECKOV_REQUIREMENT = "checkov==3.3.*"
# What gitops check reads. The benchmark runs both tools on a copy holding only these, so
# checkov does not also scan the test fixtures' kustomizations (that would flatter us).
MANIFEST_PARTS = ("gitops.yaml", "base", "components", "overlays", "argocd", "policy", "crds")


def ensure_checkov(root: Path) -> Path:
    venv = root / "build" / "bench" / "checkov-venv"
    checkov = venv / "bin" / "checkov"
    if not checkov.exists():
        print(f"installing {CHECKOV_REQUIREMENT} into {venv} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", CHECKOV_REQUIREMENT],
            check=True,
        )
    return checkov


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    source = Path(args.repo).resolve()
    checkov = ensure_checkov(source)
    workdir = Path(tempfile.mkdtemp(prefix="bench-check-"))
    repo = workdir / "repo"
    repo.mkdir()
    for part in MANIFEST_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, repo / part)
        elif (source / part).is_file():
            shutil.copy(source / part, repo / part)
    venv_bin = Path(sys.executable).parent
    # checkov's kustomize runner shells out to kustomize/kubectl: give it the same pinned one.
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    gitops_argv = [str(venv_bin / "gitops"), "check", "--repo", str(repo), "--format", "json"]
    # A private cache dir: cold = no reusable renders (first run, or every input changed),
    # warm = a re-run with unchanged inputs (the render cache; see gitops.cache).
    env["GITOPS_CACHE_DIR"] = str(workdir / "cache")
    checkov_argv = [
        str(checkov),
        "--framework",
        "kustomize",
        "-d",
        str(repo),
        "--quiet",
        "--compact",
        "--skip-download",
    ]
    timings: dict[str, list[float]] = {"cold": [], "warm": [], "checkov": []}
    for _ in range(args.rounds):
        timings["cold"].append(timed([*gitops_argv, "--no-cache"], repo, env))
        timed(gitops_argv, repo, env)  # fill the cache
        timings["warm"].append(timed(gitops_argv, repo, env))
        timings["checkov"].append(timed(checkov_argv, repo, env))
    shutil.rmtree(workdir, ignore_errors=True)
    cold = statistics.median(timings["cold"])
    warm = statistics.median(timings["warm"])
    checkov_s = statistics.median(timings["checkov"])
    parts = ", ".join(MANIFEST_PARTS)
    print(f"check: the repo's manifests ({parts}), {args.rounds} rounds (median)")
    print(f"  gitops check, cold (--no-cache)  : {cold:8.2f} s")
    print(f"  gitops check, warm (render cache): {warm:8.2f} s")
    print(f"  checkov --framework kustomize    : {checkov_s:8.2f} s")
    print(f"  checkov / gitops cold            : {checkov_s / cold:8.1f}x")
    target = f"(target >= {TARGET_RATIO}x)"
    print(f"  checkov / gitops warm            : {checkov_s / warm:8.1f}x  {target}")
    return 0 if checkov_s / warm >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
