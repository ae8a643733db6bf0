"""Benchmark: the validators side by side on the same inputs, as whole processes.

- `gitops validate --validator upstream` (gitops-validator: kube-apiserver's create path),
- `gitops validate --validator python` (the Python fallback),
- kubernetes_validate.validate() in a loop, as `kubernetes-validate FILE` runs it,
- kubeconform -strict (github.com/yannh/kubeconform from the Go module proxy, built into
  build/bench-tools/; it reads kubernetes_validate's strict schemas for the same version, their
  `$id`/`$ref` rewritten to local files, since its own schema location is on GitHub),

over this repository's rendered output (every env) and over 2,000 generated documents shaped
like it (bench_validate.py's). Target: the upstream validator at least as fast as the Python
path on this repository's rendered output, as the median of the rounds' ratios (each round
runs every command once, interleaved; kubernetes-validate only in the first 3). The ratios
printed per command are of the medians, to the upstream one. Beside them, `gitops validate`
with a stand-in validator (tools/bench/standin) that answers every document at once: what the
upstream path costs besides the validator's own work, so the ceiling of its speed-up over the
Python path.

Then what the fallback is worth: the cluster tier's hand-written corpus of semantic mistakes
(tests/cluster/corpus_semantic.py) judged by both, per kind: how many of the upstream
validator's rejections the Python fallback catches, and any document it rejects that the
upstream validator accepts (the cluster tier proves the upstream validator answers as
kube-apiserver does on that corpus).

    $ .venv/bin/python tools/bench/bench_validators.py --rounds 11
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench_validate import write_documents

from tests.cluster.corpus_semantic import semantic_corpus

REPO = Path(__file__).resolve().parents[2]
KUBECONFORM = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
KUBERNETES_VERSION = "1.36"
TARGET_RATIO = 1.0  # python time / upstream time on the repository's output
SLOW_PEERS = frozenset({"kubernetes-validate"})  # 20-30x slower than the others at 2,000 documents
PEER_ROUNDS = 3

_KUBERNETES_VALIDATE = """
import pathlib, sys, yaml, kubernetes_validate
failures = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
        if doc:
            try:
                kubernetes_validate.validate(doc, sys.argv[2], strict=True)
            except kubernetes_validate.ValidationError:
                failures += 1
print(failures, "invalid")
"""


def kubeconform(tools: Path) -> Path | None:
    """Build kubeconform once into ``tools`` (None without Go)."""
    binary = tools / "kubeconform"
    if binary.is_file():
        return binary
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.access(go, os.X_OK):
        return None
    tools.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(tools), "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
    subprocess.run([go, "install", KUBECONFORM], env=env, check=True)
    return binary


def standin(tools: Path, folder: Path) -> Path | None:
    """A repository folder whose gitops.yaml is this repository's with ``apiServer.validator``
    set to the stand-in, built once into ``tools`` (None without Go)."""
    binary = tools / "standin-validator"
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not binary.is_file():
        if not os.access(go, os.X_OK):
            return None
        tools.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
        subprocess.run(
            [go, "build", "-o", str(binary), "."], cwd=REPO / "tools" / "bench" / "standin",
            env=env, check=True,
        )  # fmt: skip
    config = yaml.safe_load((REPO / "gitops.yaml").read_text())
    config.setdefault("apiServer", {})["validator"] = str(binary)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gitops.yaml").write_text(yaml.safe_dump(config))
    return folder


def local_schemas(target: Path) -> Path:
    """kubernetes_validate's strict schemas for the version, with their references made
    relative: they name https://kubernetes.io/api/... and kubeconform would fetch those."""
    import kubernetes_validate  # type: ignore[import-untyped]

    source = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{KUBERNETES_VERSION}.0-local-strict"
    )
    folder = target / f"v{KUBERNETES_VERSION}.0-local-strict"
    folder.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.json"):
        schema = json.loads(path.read_text())
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        (folder / path.name).write_text(text)
    return target


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: something invalid, still a complete run
        sys.exit(f"{' '.join(argv[:5])} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed


def commands(
    folder: Path, schemas: Path, kubeconform_bin: Path | None, standin_repo: Path | None
) -> dict[str, list[str]]:
    gitops = [sys.executable, "-m", "gitops.cli", "validate", "--k8s-version", KUBERNETES_VERSION]
    out = {
        "gitops upstream": [*gitops, "--validator", "upstream", str(folder)],
        "gitops python": [*gitops, "--validator", "python", str(folder)],
        "kubernetes-validate": [
            sys.executable, "-c", _KUBERNETES_VALIDATE, str(folder), f"{KUBERNETES_VERSION}.0"
        ],
    }  # fmt: skip
    if standin_repo is not None:
        out["gitops stand-in"] = [
            *gitops, "--repo", str(standin_repo), "--validator", "upstream", str(folder)
        ]  # fmt: skip
    if kubeconform_bin is not None:
        location = f"{schemas}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/"
        location += "{{ .ResourceKind }}{{ .KindSuffix }}.json"
        out["kubeconform"] = [
            str(kubeconform_bin), "-strict", "-summary", "-ignore-missing-schemas",
            "-kubernetes-version", f"{KUBERNETES_VERSION}.0", "-schema-location", location,
            str(folder),
        ]  # fmt: skip
    return out


def measure(label: str, folder: Path, argv_by_name: dict[str, list[str]], rounds: int) -> float:
    """Print the median time of each command and return the Python path's time over the
    upstream one's: the median of the rounds' ratios, each of two runs back to back, so a
    slower stretch of a shared machine hits both sides of a ratio alike."""
    env = dict(os.environ)
    env.pop("GITOPS_VALIDATOR", None)
    for argv in argv_by_name.values():
        timed(argv, env)  # warm: page cache, compiled schemas, Go binaries
    times: dict[str, list[float]] = {name: [] for name in argv_by_name}
    for round_ in range(rounds):
        for name, argv in argv_by_name.items():  # interleaved: load hits them alike
            if name in SLOW_PEERS and round_ >= PEER_ROUNDS:
                continue  # tens of times slower: a few rounds say enough
            times[name].append(timed(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    upstream = medians["gitops upstream"]
    print(f"\n{label}")
    for name, value in medians.items():
        print(f"  {name:22} {value:7.2f} s  {value / upstream:5.2f}x the upstream validator's")
    paired = statistics.median(
        p / u for p, u in zip(times["gitops python"], times["gitops upstream"], strict=True)
    )
    print(f"  the Python path / the upstream path, round by round: median {paired:.2f}x")
    if "gitops stand-in" in medians:
        ceiling = statistics.median(
            p / u for p, u in zip(times["gitops python"], times["gitops stand-in"], strict=True)
        )
        print(f"  ceiling: a validator answering at once would be {ceiling:.2f}x the Python path")
    return paired


def _rejected(judge: str, folder: Path) -> set[str]:
    """The files of FOLDER that `gitops validate --validator JUDGE` reports a problem in."""
    done = subprocess.run(
        [sys.executable, "-m", "gitops.cli", "validate", "--validator", judge, str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        sys.exit(f"gitops validate --validator {judge} exited {done.returncode}:\n{done.stderr}")
    prefix = f"{folder}/"
    return {
        line[len(prefix) :].split(":", 1)[0]
        for line in done.stdout.splitlines()
        if line.startswith(prefix) and " warning: " not in line
    }


def fallback_coverage(folder: Path) -> None:
    """Print how much of the upstream validator's verdicts the Python fallback reproduces."""
    cases = semantic_corpus()
    folder.mkdir()
    for index, case in enumerate(cases):
        (folder / f"{index:04d}.json").write_text(json.dumps(case.doc))
    upstream, python = _rejected("upstream", folder), _rejected("python", folder)
    per_kind: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        name = f"{index:04d}.json"
        if name in upstream:
            counts = per_kind.setdefault(case.doc["kind"], [0, 0])
            counts[0] += name in python
            counts[1] += 1
    caught = len(upstream & python)
    print(
        f"\nthe Python fallback on {len(cases)} hand-written semantic cases: catches {caught} of "
        f"the upstream validator's {len(upstream)} rejections "
        f"({100 * caught / max(1, len(upstream)):.0f}%), "
        f"rejects {len(python - upstream)} it accepts"
    )
    print("  " + ", ".join(f"{kind} {c}/{n}" for kind, (c, n) in sorted(per_kind.items())))
    for name in sorted(python - upstream):
        print(f"  false reject: {cases[int(name[:4])].id}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    tools = REPO / "build" / "bench-tools"
    with tempfile.TemporaryDirectory(prefix="bench-validators-") as tmp:
        rendered = Path(tmp) / "rendered"
        subprocess.run(
            [sys.executable, "-m", "gitops.cli", "render", "--repo", str(REPO), "--out",
             str(rendered)],
            check=True, capture_output=True,
        )  # fmt: skip
        generated = Path(tmp) / "generated"
        generated.mkdir()
        count = write_documents(generated, args.documents)
        schemas = local_schemas(Path(tmp) / "schemas")
        binary = kubeconform(tools)
        if binary is None:
            print("kubeconform: not measured (no Go to build it with)")
        standin_repo = standin(tools, Path(tmp) / "standin-repo")
        files = sorted(rendered.rglob("*.yaml"))
        docs = sum(len([d for d in yaml.safe_load_all(p.read_text()) if d]) for p in files)
        if binary is not None:
            summary = (
                subprocess.run(
                    commands(rendered, schemas, binary, standin_repo)["kubeconform"],
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            print(f"kubeconform on this repository: {summary}")
        repo_ratio = measure(
            f"this repository's rendered output ({docs} documents, {len(files)} files)",
            rendered, commands(rendered, schemas, binary, standin_repo), args.rounds,
        )  # fmt: skip
        measure(
            f"generated: {count} documents", generated,
            commands(generated, schemas, binary, standin_repo), args.rounds,
        )  # fmt: skip
        fallback_coverage(Path(tmp) / "semantic")
    verdict = "met" if repo_ratio >= TARGET_RATIO else "MISSED"
    print(
        f"\ntarget: the upstream validator at least as fast as the Python path on this "
        f"repository's output: {repo_ratio:.2f}x ({verdict})"
    )
    return 0 if repo_ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
