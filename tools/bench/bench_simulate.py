"""Benchmark: `gitops simulate` on a 24-hour scenario (5,760 syncs at 15 s).

Target (issue "gitops simulate"): a 24-hour scenario simulates in under 1 s. Prints the
median time of the simulation alone (scenario already loaded, HPA already rendered) and the
simulated syncs per second, for the legacy path (prod healthz, examples/simulate/
healthz-day.yaml) and the behavior path (examples/simulate/behavior-ramp.yaml stretched to a
day).

    $ make bench        # or: .venv/bin/python tools/bench/bench_simulate.py --rounds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

from gitops.config import load_config
from gitops.simulate.engine import simulate
from gitops.simulate.scenario import Scenario, load_scenario
from gitops.simulate.sources import repo_hpa_resolver
from gitops.workspace import Workspace

TARGET_SECONDS = 1.0
DAY = 86_400 - 15  # syncs at 0, 15, ..., 86385: 5,760 of them


def timed(scenario: Scenario, rounds: int) -> tuple[float, int]:
    durations = []
    syncs = 0
    for _ in range(rounds):
        started = time.perf_counter()
        timeline = simulate(scenario)
        durations.append(time.perf_counter() - started)
        syncs = len(timeline.steps)
    return statistics.median(durations), syncs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    resolver = repo_hpa_resolver(Workspace.open(repo, load_config(repo)))
    examples = repo / "examples" / "simulate"
    cases = {
        "legacy (prod healthz, a day)": load_scenario(examples / "healthz-day.yaml", resolver),
        "behavior (inline, a day)": dataclasses.replace(
            load_scenario(examples / "behavior-ramp.yaml"), duration_seconds=DAY
        ),
    }
    print(f"simulate: {args.rounds} rounds (median, simulation only)")
    worst = 0.0
    for name, scenario in cases.items():
        seconds, syncs = timed(scenario, args.rounds)
        worst = max(worst, seconds)
        print(
            f"  {name:30s}: {syncs} syncs in {seconds:6.3f} s = {syncs / seconds:9.0f} syncs/s  "
            f"(target < {TARGET_SECONDS:g} s)"
        )
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
