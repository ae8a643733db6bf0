"""Start or stop the node tier's cluster by hand, for the e2e suite or exploring.

    python -m tests.node up       start it; prints the kubeconfig and the nodes file
    python -m tests.node down     stop it and put the host back (prints any leftover)

Then ``GITOPS_E2E_BACKEND=node GITOPS_E2E_KUBECONFIG=<kubeconfig> GITOPS_E2E_NODES=<nodes
file> pytest -m e2e tests/e2e``. State lives in ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/
node-tier. Needs root. Exit codes: 0 ok, 1 the tier failed to start or left something behind,
2 usage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from tests.node.harness import NodeTier, NodeTierError

NAME = "gitops-node"


def _workdir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integration-gitops" / "node-tier"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.node", description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    args = parser.parse_args(argv)
    tier = NodeTier(_workdir(), NAME)
    try:
        if args.action == "up":
            if tier.nodes_file.is_file():
                print(f"node tier already up (state in {tier.workdir})", file=sys.stderr)
            else:
                tier.up()
            print(tier.kubeconfig)
            print(tier.nodes_file)
            return 0
        leftovers = tier.down()
    except NodeTierError as error:
        print(f"node tier: {error}", file=sys.stderr)
        return 1
    for line in leftovers:
        print(f"left behind: {line}", file=sys.stderr)
    if leftovers:
        print(f"state kept in {tier.workdir}: `down` again after fixing", file=sys.stderr)
        return 1
    shutil.rmtree(tier.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
