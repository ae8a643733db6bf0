"""Start or stop a cluster-tier cluster by hand, for other suites or exploring.

    python -m tests.cluster up       start (or find) it; prints the kubeconfig path
    python -m tests.cluster down     delete it
    python -m tests.cluster logs     print where the component logs are

Then e.g. ``CLUSTER_KUBECONFIG=<path> pytest -m cluster tests/cluster`` reuses it. State lives
in ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/kwok (never the user's ~/.kwok or
~/.kube/config). Exit codes: 0 ok, 1 the cluster failed to start or stop, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tests.cluster.harness import DEFAULT_NAME, ClusterError, KwokCluster


def _workdir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integration-gitops" / "kwok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "logs"])
    parser.add_argument("--name", default=DEFAULT_NAME)
    args = parser.parse_args(argv)
    kwok = KwokCluster(args.name, _workdir())
    try:
        if args.action == "up":
            if not kwok.exists():
                print(f"starting cluster {args.name} ...", file=sys.stderr)
                kwok.create()
            print(kwok.kubeconfig)
        elif args.action == "down":
            kwok.delete()
            print(f"cluster {args.name} deleted", file=sys.stderr)
        else:
            print(kwok.logs_dir)
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
