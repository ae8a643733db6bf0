"""Benchmark: `gitops render` over every overlay vs the same kustomize invocations run bare.

Target (issue "Repository foundation"): gitops render <= 1.2x the bare parallel floor.
All three are measured in this one run, interleaved, as whole processes; the median of N rounds
is printed with the ratios.

    $ make bench            # or: .venv/bin/python tools/bench/bench_render.py --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from gitops.config import load_config
from gitops.kustomize import build_environment
from gitops.workspace import Workspace

TARGET_RATIO = 1.2


def _time(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    config = load_config(repo)
    workspace = Workspace.open(repo, config, use_cache=False)
    overlays = workspace.layout().overlays
    kustomize = workspace.kustomize
    argvs = [kustomize.build_argv(o.rel_path, config.kustomize.build_options) for o in overlays]
    # The environment gitops gives kustomize (its Go collector settings): the ratio measures
    # the pipeline's overhead, not a tuning the bare calls could have too.
    bare_env = build_environment(config.kustomize)
    workers = min(len(argvs), (os.cpu_count() or 1) * 2)
    gitops = str(Path(sys.executable).parent / "gitops")

    def bare_sequential() -> None:
        for argv in argvs:
            subprocess.run(argv, cwd=repo, env=bare_env, stdout=subprocess.DEVNULL, check=True)

    def bare_parallel() -> None:
        # Same concurrency as gitops render: at most `workers` kustomize processes at once.
        pending = list(argvs)
        running: list[subprocess.Popen[bytes]] = []
        while pending or running:
            while pending and len(running) < workers:
                running.append(
                    subprocess.Popen(
                        pending.pop(0), cwd=repo, env=bare_env, stdout=subprocess.DEVNULL
                    )
                )
            running[0].wait()
            running = [p for p in running if p.poll() is None]

    def gitops_render() -> None:
        subprocess.run(
            # --no-cache: this measures the pipeline's overhead over bare kustomize, not the cache
            [gitops, "render", "--repo", str(repo), "--no-cache"],
            stdout=subprocess.DEVNULL,
            check=True,
        )

    timings: dict[str, list[float]] = {"sequential": [], "parallel": [], "gitops": []}
    gitops_render()  # warm the page cache once for everyone
    for _ in range(args.rounds):
        timings["sequential"].append(_time(bare_sequential))
        timings["parallel"].append(_time(bare_parallel))
        timings["gitops"].append(_time(gitops_render))
    median = {name: statistics.median(values) for name, values in timings.items()}
    ratio = median["gitops"] / median["parallel"]
    print(f"render: {len(argvs)} overlays, {workers} workers, {args.rounds} rounds (median)")
    print(f"  bare kustomize, sequential : {median['sequential'] * 1000:8.1f} ms")
    print(f"  bare kustomize, parallel   : {median['parallel'] * 1000:8.1f} ms")
    print(f"  gitops render              : {median['gitops'] * 1000:8.1f} ms")
    print(f"  gitops / bare parallel     : {ratio:8.2f}x  (target <= {TARGET_RATIO}x)")
    print(f"  bare sequential / parallel : {median['sequential'] / median['parallel']:8.2f}x")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
