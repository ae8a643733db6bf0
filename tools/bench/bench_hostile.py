"""Benchmark: peak memory and time of `gitops validate` and `gitops check` on hostile input.

The inputs are tests/fixtures/hostile-input (a 381-byte YAML alias bomb, quantities with
unbounded exponents) plus inputs generated here (binary data on stdin, a folder of non-UTF-8
files next to valid ones). Each command runs in a fresh helper process whose
RUSAGE_CHILDREN peak RSS covers gitops and every kustomize it starts. Targets: validate stays
under 200 MiB on every input; check stays under the kustomize address-space limit (3 GiB by
default) instead of the 24 GB an unbounded kustomize reached.

    $ .venv/bin/python tools/bench/bench_hostile.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile-input"
GITOPS = str(Path(sys.executable).with_name("gitops"))
VALIDATE_TARGET_MIB = 200
CHECK_TARGET_MIB = 3072

# Runs argv with stdin from a file, then reports the children's peak RSS and the wall time.
_MEASURE = """
import json, resource, subprocess, sys, time
argv, stdin_path = json.loads(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
with open(stdin_path, "rb") as stdin:
    code = subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": seconds, "peak_mib": peak_kib / 1024}))
"""


def measure(argv: list[str], stdin: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, json.dumps(argv), str(stdin)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GITOPS_NO_CACHE": "1"},
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gitops-bench-hostile-") as tmp:
        work = Path(tmp)
        empty = work / "empty"
        empty.write_bytes(b"")
        binary = work / "binary.bin"
        binary.write_bytes(os.urandom(20 * 2**20))  # 20 MiB of random bytes on stdin
        mixed = work / "mixed"
        mixed.mkdir()
        for i in range(200):
            (mixed / f"latin1-{i:03d}.yaml").write_bytes(b"kind: ConfigMap\n# caf\xe9\n")
            (mixed / f"ok-{i:03d}.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok-{i}}}\n"
            )
        bomb = HOSTILE / "overlays" / "dev" / "bomb" / "bomb.yaml"
        quantity = HOSTILE / "overlays" / "dev" / "quantity" / "deployment.yaml"
        cases = [
            ("validate", "alias bomb (381 bytes)", [GITOPS, "validate", str(bomb)], empty),
            ("validate", "quantity exponents", [GITOPS, "validate", str(quantity)], empty),
            ("validate", "20 MiB binary on stdin", [GITOPS, "validate", "-"], binary),
            (
                "validate",
                "200 non-UTF-8 + 200 valid files",
                [GITOPS, "validate", str(mixed)],
                empty,
            ),
            (
                "check",
                "hostile-input repo (bomb via kustomize)",
                [GITOPS, "--repo", str(HOSTILE), "check"],
                empty,
            ),
        ]
        failed = False
        print(f"{'command':9} {'input':42} {'exit':>4} {'seconds':>8} {'peak MiB':>9}  target")
        for command, label, argv, stdin in cases:
            result = measure(argv, stdin)
            target = VALIDATE_TARGET_MIB if command == "validate" else CHECK_TARGET_MIB
            ok = result["peak_mib"] <= target and result["code"] in (0, 1)
            failed |= not ok
            print(
                f"{command:9} {label:42} {int(result['code']):>4} {result['seconds']:>8.2f} "
                f"{result['peak_mib']:>9.0f}  <= {target} {'ok' if ok else 'MISSED'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
