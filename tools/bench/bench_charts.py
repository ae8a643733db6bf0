"""Benchmark: charts (issue 25), `gitops render` of tests/fixtures/helm-chart (two Argo CD chart
sources, one kustomize overlay with helmCharts) vs the peer, the bare helm and kustomize
processes Argo CD's repo-server runs for the same units. Whole processes, interleaved, median
of N rounds, printed side by side with the ratio.

Targets:
* ``gitops render --no-cache`` <= 1.3x the peer plus the CLI's fixed cost (``gitops render
  --list``: start, argocd/ build, discovery), the peer's processes run in parallel as gitops
  runs them; the ratio to the bare peer alone is printed too (not a target: it is mostly the
  fixed cost of a ~1 s tool on a ~0.5 s render);
* a warm ``gitops check`` starts no helm and no kustomize process (every unit from the render
  cache; the validator still runs, it is not counted).

    $ make bench            # or: .venv/bin/python tools/bench/bench_charts.py --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gitops.config import load_config
from gitops.helm.binary import pinned_helm
from gitops.kustomize import build_environment
from gitops.workspace import Workspace

TARGET_RATIO = 1.3
FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "helm-chart"
GITOPS = str(Path(sys.executable).parent / "gitops")
RUN_LOG = "gitops.runner: run: "  # gitops.runner's debug line for every process it starts

Commands = list[tuple[tuple[str, ...], Path]]


def _time(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def _parallel(commands: Commands, env: dict[str, str]) -> float:
    started = time.perf_counter()
    running = [
        subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL)
        for argv, cwd in commands
    ]
    for process in running:
        process.wait()
    return time.perf_counter() - started


def peer_commands(repo: Path, helm: Path, scratch: Path) -> Commands:
    """The processes of a plain render, bare: ``helm template`` per Argo CD chart source (with
    its own values file, as Argo CD writes one per render), and ``kustomize build
    --enable-helm --helm-command <helm>`` for the helmCharts overlay (the issue's reference)."""
    config = load_config(repo)
    workspace = Workspace.open(repo, config, use_cache=False)
    commands: Commands = []
    for number, unit in enumerate(workspace.discover(workspace.argocd()).overlays):
        if unit.chart is not None:
            values = scratch / f"values-{number}.yaml"
            values.write_text(unit.chart.values or "{}\n", encoding="utf-8")
            argv = (str(helm), *unit.chart.template_args(str(values)))
            commands.append((argv, repo / unit.chart.chart_dir))
        else:
            flags = ("--helm-command", str(helm))
            options = config.kustomize.build_options
            commands.append((workspace.kustomize.build_argv(unit.rel_path, options, flags), repo))
    return commands


def helm_and_kustomize_runs(debug_log: str, helm: Path) -> list[str]:
    """The helm and kustomize processes in a ``--debug`` log (the validator is not one)."""
    kustomize = Workspace.open(FIXTURE, load_config(FIXTURE), use_cache=False).kustomize.binary
    runs = [line.split(RUN_LOG, 1)[1] for line in debug_log.splitlines() if RUN_LOG in line]
    return [argv for argv in runs if argv.startswith((str(helm), kustomize))]


def measure(commands: Commands, rounds: int, cache: dict[str, str]) -> dict[str, float]:
    """Median seconds of each side, the rounds interleaved so load drifts hit all alike."""
    env = build_environment(load_config(FIXTURE).kustomize)
    repo = ["--repo", str(FIXTURE)]
    timings: dict[str, list[float]] = {"peer": [], "list": [], "render": [], "warm": []}
    subprocess.run([GITOPS, "check", *repo], env=cache, stdout=subprocess.DEVNULL, check=False)
    for _ in range(rounds):
        timings["peer"].append(_parallel(commands, env))
        timings["list"].append(_time([GITOPS, "render", "--list", *repo]))
        timings["render"].append(_time([GITOPS, "render", "--no-cache", *repo]))
        timings["warm"].append(_time([GITOPS, "check", *repo], env=cache))
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    helm = pinned_helm()
    if not (helm.parent / ".complete").is_file():
        print("charts: the pinned helm is not built (make helm; needs Go >= 1.26)")
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    commands = peer_commands(FIXTURE, helm, scratch)
    cache = {**os.environ, "GITOPS_CACHE_DIR": str(scratch / "cache")}
    median = measure(commands, args.rounds, cache)
    warm = subprocess.run(
        [GITOPS, "check", "--repo", str(FIXTURE), "--debug"],
        env=cache,
        capture_output=True,
        text=True,
        check=False,
    )
    started = helm_and_kustomize_runs(warm.stderr, helm)
    floor = median["peer"] + median["list"]
    ratio = median["render"] / floor
    ms = {name: f"{value * 1000:7.1f} ms" for name, value in median.items()}
    print(f"charts: {len(commands)} units of {FIXTURE.name}, {args.rounds} rounds (median)")
    print(f"  {'':34} {'gitops':>10}  {'peer':>10}  {'ratio':>6}")
    print(f"  {'render, cold (peer: bare, parallel)':34} {ms['render']}  {ms['peer']}  ", end="")
    print(f"{median['render'] / median['peer']:5.2f}x")
    print(f"  {'render, cold (peer + render --list)':34} {ms['render']}  ", end="")
    print(f"{floor * 1000:7.1f} ms  {ratio:5.2f}x  (target <= {TARGET_RATIO}x)")
    print(f"  {'check, warm cache':34} {ms['warm']}")
    print(f"  helm/kustomize processes of a warm check: {len(started)} (target 0)")
    for argv in started:
        print(f"    {argv}")
    return 0 if ratio <= TARGET_RATIO and not started else 1


if __name__ == "__main__":
    sys.exit(main())
