"""Benchmark: `gitops validate` on one large stream grows linearly with its documents.

Writes one YAML stream of 40,000 small documents (about 50 MB, shaped like this repository's
rendered services) and one of a quarter of them, and times `gitops validate FILE` on each as a
whole process (median of N rounds, warm schema cache). Target: 4x the documents cost at most
TARGET_GROWTH x the time (linear is 4x; start-up makes it a little less). A per-document scan of
the whole stream (issue 22: the alias pre-check) made the 50 MB stream take 4 min 59 s and
would show here as a ratio near 16.

    $ .venv/bin/python tools/bench/bench_validate_stream.py --rounds 1
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

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import service_documents

DOCUMENTS = 40_000
TARGET_BYTES = 50 * 10**6
GROWTH = 4
TARGET_GROWTH = 5.0


def write_streams(small: Path, large: Path, count: int, bytes_per_document: int) -> None:
    """``count`` documents in ``large``, the first quarter of them in ``small``; documents
    smaller than ``bytes_per_document`` are padded with an annotation so that the stream
    averages that size."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    total = 0
    with small.open("w", encoding="utf-8") as head, large.open("w", encoding="utf-8") as out:
        written, index = 0, 0
        while written < count:
            for document in service_documents(index)[: count - written]:
                text = "---\n" + yaml.dump(document, Dumper=dumper, sort_keys=False)
                pad = bytes_per_document * (written + 1) - total - len(text) - 40
                if pad > 0:
                    annotations = document["metadata"].setdefault("annotations", {})
                    annotations["example.org/padding"] = "x" * pad
                    text = "---\n" + yaml.dump(document, Dumper=dumper, sort_keys=False)
                out.write(text)
                if written < count // GROWTH:
                    head.write(text)
                total += len(text)
                written += 1
            index += 1


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-5:])
        sys.exit(f"{' '.join(argv[-2:])} exited {completed.returncode}:\n{tail}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--documents", type=int, default=DOCUMENTS)
    parser.add_argument("--megabytes", type=float, default=TARGET_BYTES / 10**6)
    args = parser.parse_args()
    per_document = int(args.megabytes * 10**6 / args.documents)
    with tempfile.TemporaryDirectory(prefix="bench-validate-stream-") as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        small, large = Path(tmp) / "small.yaml", Path(tmp) / "large.yaml"
        small_count = args.documents // GROWTH
        write_streams(small, large, args.documents, per_document)
        small_size, large_size = small.stat().st_size, large.stat().st_size
        gitops = [sys.executable, "-m", "gitops.cli", "validate"]
        timed([*gitops, str(small)], env)  # fills the schema cache
        times: dict[str, list[float]] = {"small": [], "large": []}
        for round_no in range(1, args.rounds + 1):
            times["small"].append(timed([*gitops, str(small)], env))
            times["large"].append(timed([*gitops, str(large)], env))
            print(
                f"round {round_no}: {small_count} documents {times['small'][-1]:.1f}s, "
                f"{args.documents} documents {times['large'][-1]:.1f}s"
            )
    small_median = statistics.median(times["small"])
    large_median = statistics.median(times["large"])
    growth = large_median / small_median
    met = growth <= TARGET_GROWTH
    print(
        f"validate stream: {small_count} documents ({small_size / 1e6:.1f} MB) "
        f"{small_median:.1f}s, {args.documents} documents ({large_size / 1e6:.1f} MB) "
        f"{large_median:.1f}s ({large_median / args.documents * 1e3:.2f} ms/doc): "
        f"{GROWTH}x the documents cost {growth:.2f}x the time "
        f"(target <= {TARGET_GROWTH:g}x: {'met' if met else 'NOT met'})"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
