"""Benchmark: `gitops check` vs `checkov --framework kustomize` on the same manifests.

Target (issue 10): gitops check, cold (--no-cache), >= 5x faster than checkov on the same
manifests (each env's overlays are built in one kustomize process, see gitops.batch). Both run
as whole processes in this one run, alternating, median of N rounds, on a copy of the repo
holding only what gitops check reads; also printed: gitops check with its render cache warm.
checkov is installed by this script into a throw-away venv under build/bench/ (never into .venv).

checkov is no longer run over the whole repository: it builds every kustomization it finds,
including tests/fixtures/hostile-input's alias bombs, with an unbounded kustomize process (one
such run took 13 CPU-minutes and the machine's memory). Each checkov run is also bounded by
CHECKOV_TIMEOUT_S.

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
# What gitops check reads; the stricter comparison runs checkov on a copy holding only these,
# so that it does not also build the test fixtures' kustomizations.
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


CHECKOV_TIMEOUT_S = 300.0


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=CHECKOV_TIMEOUT_S,
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
    # Bytecode compiled as `pip install` of a wheel leaves it: with PYTHONDONTWRITEBYTECODE set
    # (as in some CI shells) an editable install would otherwise compile every module on
    # every run, about 0.08 s that no installed copy pays.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(source / "tools" / "gitops")], check=True
    )
    # checkov's kustomize runner shells out to kustomize/kubectl: give it the same pinned one.
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    gitops_argv = [str(venv_bin / "gitops"), "check", "--repo", str(repo), "--format", "json"]
    # A private cache dir: cold = no reusable renders (first run, or every input changed),
    # warm = a re-run with unchanged inputs (the render cache; see gitops.cache).
    env["GITOPS_CACHE_DIR"] = str(workdir / "cache")

    def checkov_argv(directory: Path) -> list[str]:
        return [
            str(checkov),
            "--framework",
            "kustomize",
            "-d",
            str(directory),
            "--quiet",
            "--compact",
            "--skip-download",
        ]

    timings: dict[str, list[float]] = {
        "cold": [],
        "warm": [],
        "checkov-manifests": [],
    }
    for _ in range(args.rounds):
        timings["cold"].append(timed([*gitops_argv, "--no-cache"], repo, env))
        timed(gitops_argv, repo, env)  # fill the cache
        timings["warm"].append(timed(gitops_argv, repo, env))
        timings["checkov-manifests"].append(timed(checkov_argv(repo), repo, env))
    shutil.rmtree(workdir, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in timings.items()}
    cold, warm = median["cold"], median["warm"]
    manifests = median["checkov-manifests"]
    print(f"check: {args.rounds} rounds (median, whole processes)")
    print(f"  gitops check, cold (--no-cache)            : {cold:8.2f} s")
    print(f"  gitops check, warm (render cache)          : {warm:8.2f} s")
    print(f"  checkov --framework kustomize, manifests   : {manifests:8.2f} s")
    print(
        f"  checkov manifests  / gitops cold           : {manifests / cold:8.1f}x  "
        f"(target >= {TARGET_RATIO}x)"
    )
    print(f"  checkov manifests  / gitops warm           : {manifests / warm:8.1f}x")
    return 0 if manifests / cold >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
