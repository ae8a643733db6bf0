"""Benchmark: `gitops diff` after a one-overlay change stays flat as the repository grows.

Generates repositories of 50 and 200 overlays (tools/bench/generate_repo.py), changes one
overlay's replicas patch in the working tree, and times as whole processes, median of N rounds:
`gitops diff` (only the affected overlay is rendered on each side) next to `gitops render` of
every overlay. Target: diff(200) / diff(50) <= 1.5x.

    $ make bench            # or: .venv/bin/python tools/bench/bench_diff.py --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_repo import REPLICAS
from generate_repo import main as generate_main

SIZES = (50, 200)
TARGET_RATIO = 1.5


def _timed(argv: list[str], repo: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=repo, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _diff_argv(gitops: str, repo: Path) -> list[str]:
    # --no-cache everywhere: the scaling of the work itself, not of cache lookups.
    return [gitops, "diff", "--repo", str(repo), "--base", "HEAD", "--format", "json", "--no-cache"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    gitops = str(Path(sys.executable).parent / "gitops")
    results: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as scratch:
        for size in args.sizes:
            repo = Path(scratch) / f"repo-{size}"
            generate_main([str(size), str(repo)])
            # The one-overlay change, left uncommitted: head is the working tree.
            (repo / "overlays/prod/svc-000/replicas.yaml").write_text(
                REPLICAS.format(name="svc-000", replicas=9), encoding="utf-8"
            )
            diff_argv = _diff_argv(gitops, repo)
            render_argv = [gitops, "render", "--repo", str(repo), "--no-cache"]
            _timed(diff_argv, repo)  # warm the page cache
            diffs = [_timed(diff_argv, repo) for _ in range(args.rounds)]
            renders = [_timed(render_argv, repo) for _ in range(args.rounds)]
            results[size] = (statistics.median(diffs), statistics.median(renders))
    print(f"diff after a one-overlay change, {args.rounds} rounds (median, whole process)")
    print(f"  {'overlays':>8}  {'gitops diff':>12}  {'gitops render':>14}  {'diff/render':>11}")
    for size, (diff_s, render_s) in results.items():
        print(
            f"  {size:>8}  {diff_s * 1000:9.0f} ms  {render_s * 1000:11.0f} ms  "
            f"{diff_s / render_s:10.2f}x"
        )
    small, large = min(results), max(results)
    ratio = results[large][0] / results[small][0]
    render_ratio = results[large][1] / results[small][1]
    print(f"  diff {large}/{small}   : {ratio:6.2f}x  (target <= {TARGET_RATIO}x)")
    print(f"  render {large}/{small} : {render_ratio:6.2f}x  (grows with the repository)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
