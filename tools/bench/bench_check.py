"""Benchmark: `gitops check` on the whole repo vs `checkov --framework kustomize` on the same repo.

Target (issue "gitops check / gitops validate"): gitops check >= 5x faster. Both run as whole
processes in this one run, alternating, median of N rounds. checkov is installed by this script
into a throw-away venv under build/bench/ (never into the project's .venv).

    $ make bench        # or: .venv/bin/python tools/bench/bench_check.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 5.0
CHECKOV_REQUIREMENT = "checkov==3.2.*"


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
    repo = Path(args.repo).resolve()
    checkov = ensure_checkov(repo)
    venv_bin = Path(sys.executable).parent
    # checkov's kustomize runner shells out to kustomize/kubectl: give it the same pinned one.
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    gitops_argv = [str(venv_bin / "gitops"), "check", "--repo", str(repo), "--format", "json"]
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
    timings: dict[str, list[float]] = {"gitops": [], "checkov": []}
    for _ in range(args.rounds):
        timings["gitops"].append(timed(gitops_argv, repo, env))
        timings["checkov"].append(timed(checkov_argv, repo, env))
    gitops_s = statistics.median(timings["gitops"])
    checkov_s = statistics.median(timings["checkov"])
    ratio = checkov_s / gitops_s
    print(f"check: whole repo, {args.rounds} rounds (median)")
    print(f"  gitops check                    : {gitops_s:8.2f} s")
    print(f"  checkov --framework kustomize   : {checkov_s:8.2f} s")
    print(f"  checkov / gitops                : {ratio:8.1f}x  (target >= {TARGET_RATIO}x)")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
