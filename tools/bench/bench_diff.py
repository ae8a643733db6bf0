"""Benchmark: `gitops diff` after a one-overlay change stays flat as the repository grows.

Generates repositories of 50 and 200 overlays (tools/bench/generate_repo.py), changes one
overlay's replicas patch in the working tree, and times as whole processes, median of N rounds:
`gitops diff` (only the affected overlay is rendered on each side) next to `gitops render` of
every overlay. Target: diff(200) / diff(50) <= 1.5x.

Before/after the one-render-pass redesign (issue 10): on the largest repository the same diff
runs with the gitops of ``--baseline`` (a git ref, exported to a temp dir, never checked out)
next to this one, and the kustomize processes of each are counted through a logging wrapper
given as ``$KUSTOMIZE``. Targets: each side builds each overlay of the changed service once and
argocd/ once (2 x (3 + 1) = 8 processes), and the diff is no slower than the baseline (10%
allowance for noise). Without the baseline commit (a shallow clone) that part is skipped.

    $ make bench            # or: .venv/bin/python tools/bench/bench_diff.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shlex
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
REPO_ROOT = Path(__file__).resolve().parents[2]
# main just before the redesign: every overlay rendered twice per side, argocd/ up to 3 times.
BASELINE = "092d2dd"
EXPECTED_PROCESSES = 2 * (3 + 1)  # per side: the changed service in 3 envs, and argocd/
TARGET_VS_BASELINE = 1.10


def _timed(argv: list[str], repo: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=repo, stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - started


def _export(ref: str, target: Path) -> Path | None:
    """``tools/`` of ``ref`` in ``target`` (git archive: the user's checkout is not touched);
    None when the ref is not in this clone."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref, "tools/gitops"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "tools"


def _counting_kustomize(scratch: Path, log: Path) -> Path:
    """A ``kubectl`` that logs each call, then runs the pinned one (named kubectl so gitops
    calls it as ``kubectl kustomize``)."""
    real = Path(sys.executable).parent / "kubectl"
    wrapper = scratch / "counting" / "kubectl"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {shlex.quote(str(real))} "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper


def _processes(argv: list[str], repo: Path, env: dict[str, str], wrapper: Path, log: Path) -> int:
    log.write_text("", encoding="utf-8")
    _timed(argv, repo, {**env, "KUSTOMIZE": str(wrapper)})
    return len(log.read_text(encoding="utf-8").splitlines())


def _before_after(
    gitops: str, repo: Path, scratch: Path, rounds: int, baseline: str
) -> tuple[bool, list[str]]:
    """(targets met, report lines) for the redesign's before/after on one repository."""
    old_tools = _export(baseline, Path(tempfile.mkdtemp(dir=scratch)))
    log = scratch / "kustomize-calls.log"
    wrapper = _counting_kustomize(scratch, log)
    argv = _diff_argv(gitops, repo)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    after_n = _processes(argv, repo, env, wrapper, log)
    after = statistics.median(_timed(argv, repo, env) for _ in range(rounds))
    ok = after_n <= EXPECTED_PROCESSES
    lines = [
        f"  after : {after * 1000:7.0f} ms, {after_n} kustomize processes "
        f"(target <= {EXPECTED_PROCESSES}: each overlay and argocd/ built once per side)"
    ]
    if old_tools is None:
        return ok, [*lines, f"  before: baseline {baseline} not in this clone, not compared"]
    old_env = {**env, "PYTHONPATH": str(old_tools)}
    before_n = _processes(argv, repo, old_env, wrapper, log)
    before = statistics.median(_timed(argv, repo, old_env) for _ in range(rounds))
    ratio = after / before
    lines.insert(0, f"  before: {before * 1000:7.0f} ms, {before_n} kustomize processes")
    lines.append(f"  after/before: {ratio:5.2f}x  (target <= {TARGET_VS_BASELINE}x)")
    return ok and ratio <= TARGET_VS_BASELINE, lines


def _diff_argv(gitops: str, repo: Path) -> list[str]:
    # --no-cache everywhere: the scaling of the work itself, not of cache lookups.
    return [gitops, "diff", "--repo", str(repo), "--base", "HEAD", "--format", "json", "--no-cache"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--baseline", default=BASELINE, help="git ref to compare with")
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
            if size == max(args.sizes):
                redesign = _before_after(gitops, repo, Path(scratch), args.rounds, args.baseline)
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
    redesign_ok, redesign_lines = redesign
    print(f"one render pass per side, {large} overlays (baseline {args.baseline}):")
    print("\n".join(redesign_lines))
    return 0 if ratio <= TARGET_RATIO and redesign_ok else 1


if __name__ == "__main__":
    sys.exit(main())
