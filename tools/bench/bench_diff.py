"""Benchmark: `gitops diff` after a one-overlay change, as the repository grows, and how many
kustomize processes a diff of this repository runs.

Growth: generates repositories of 50 and 200 overlays (tools/bench/generate_repo.py), warms the
render cache with `gitops check` of the committed tree, then changes one overlay's replicas
patch in the working tree (a new value each round, so its head side renders every time) and
times `gitops diff` as a whole process, median of N rounds; printed next to the same diff with
--no-cache and `gitops render` of every overlay. diff checks every overlay the change can reach
(the changed overlay's whole env, its service in the other envs), and those unchanged renders
come from the cache. Target: warm diff(200) / diff(50) <= 1.5x.

This repository: a copy of its manifests, committed; overlays/prod/healthz's image tag changed,
and the kustomize processes of `gitops diff` counted through a logging wrapper given as
$KUSTOMIZE: cold (an empty render cache), then warm (the cache of the previous run, the tag
changed again: the base side's temporary worktree finds the working tree's renders). Targets:
cold <= 8, warm <= 2 (the changed overlay's head side and, when changed, argocd/'s).

    $ make bench            # or: .venv/bin/python tools/bench/bench_diff.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_repo import REPLICAS, git
from generate_repo import main as generate_main

SIZES = (50, 200)
TARGET_RATIO = 1.5
REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PARTS = ("gitops.yaml", "base", "components", "overlays", "argocd", "policy")
TARGET_COLD = 8
TARGET_WARM = 2


def _timed(argv: list[str], repo: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=repo, stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - started


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


def _diff_argv(gitops: str, repo: Path, *extra: str) -> list[str]:
    return [gitops, "diff", "--repo", str(repo), "--base", "HEAD", "--format", "json", *extra]


def _set_tag(repo: Path, tag: str) -> None:
    path = repo / "overlays/prod/healthz/kustomization.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(f"    newTag: {tag}\n" if "newTag:" in line else line for line in lines),
        encoding="utf-8",
    )


def this_repository(gitops: str, scratch: Path) -> tuple[bool, list[str]]:
    """(targets met, report lines) for the kustomize processes of a diff of this repository."""
    repo = scratch / "this-repo"
    repo.mkdir()
    for part in MANIFEST_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part)
        elif source.is_file():
            shutil.copy(source, repo / part)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "this repository")
    log = scratch / "kustomize-calls.log"
    wrapper = _counting_kustomize(scratch, log)
    env = {**os.environ, "GITOPS_CACHE_DIR": str(scratch / "this-repo-cache")}
    _set_tag(repo, "9.9.1")
    cold = _processes(_diff_argv(gitops, repo), repo, env, wrapper, log)
    _set_tag(repo, "9.9.2")
    warm = _processes(_diff_argv(gitops, repo), repo, env, wrapper, log)
    ok = cold <= TARGET_COLD and warm <= TARGET_WARM
    return ok, [
        f"  cold (empty render cache): {cold} kustomize processes (target <= {TARGET_COLD})",
        f"  warm (the previous run's cache): {warm} (target <= {TARGET_WARM})",
    ]


def _growth(gitops: str, repo: Path, rounds: int) -> tuple[float, float, float]:
    """(warm diff, --no-cache diff, render of everything) seconds, medians."""
    env = {**os.environ, "GITOPS_CACHE_DIR": str(repo.parent / f"{repo.name}-cache")}
    subprocess.run([gitops, "check", "--repo", str(repo)], stdout=subprocess.DEVNULL, env=env)
    change = repo / "overlays/prod/svc-000/replicas.yaml"
    warm: list[float] = []
    for replicas in range(9, 9 + rounds):
        change.write_text(REPLICAS.format(name="svc-000", replicas=replicas), encoding="utf-8")
        warm.append(_timed(_diff_argv(gitops, repo), repo, env))
    cold = [_timed(_diff_argv(gitops, repo, "--no-cache"), repo, env) for _ in range(rounds)]
    render_argv = [gitops, "render", "--repo", str(repo), "--no-cache"]
    renders = [_timed(render_argv, repo, env) for _ in range(rounds)]
    return statistics.median(warm), statistics.median(cold), statistics.median(renders)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    gitops = str(Path(sys.executable).parent / "gitops")
    results: dict[int, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="gitops-bench-") as scratch:
        for size in args.sizes:
            repo = Path(scratch) / f"repo-{size}"
            generate_main([str(size), str(repo)])
            results[size] = _growth(gitops, repo, args.rounds)
        counts_ok, count_lines = this_repository(gitops, Path(scratch))
    print(f"diff after a one-overlay change, {args.rounds} rounds (median, whole process)")
    print(f"  {'overlays':>8}  {'diff, warm':>11}  {'--no-cache':>11}  {'render all':>11}")
    for size, (warm, cold, render) in results.items():
        print(f"  {size:>8}  {warm * 1000:8.0f} ms  {cold * 1000:8.0f} ms  {render * 1000:8.0f} ms")
    small, large = min(results), max(results)
    ratio = results[large][0] / results[small][0]
    print(f"  diff {large}/{small}, warm      : {ratio:6.2f}x  (target <= {TARGET_RATIO}x)")
    print(f"  diff {large}/{small}, --no-cache: {results[large][1] / results[small][1]:6.2f}x")
    print(f"  render {large}/{small}          : {results[large][2] / results[small][2]:6.2f}x")
    print("kustomize processes of `gitops diff` after a one-overlay change of this repository:")
    print("\n".join(count_lines))
    return 0 if ratio <= TARGET_RATIO and counts_ok else 1


if __name__ == "__main__":
    sys.exit(main())
