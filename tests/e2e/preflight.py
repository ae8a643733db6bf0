"""Check for the e2e toolchain before pytest starts: ``python -m tests.e2e.preflight``.

Exit 0 when docker (or podman, running), kind and kubectl are there; otherwise print one
``error: ...`` message naming every missing tool with how to install it, and exit 2 (the
gitops CLI's code for "environment problem"). No traceback. tests/e2e/conftest.py runs the
same check, so `pytest -m e2e` alone fails just as fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tests.e2e.harness.tools import Toolchain, find_toolchain

EXIT_MISSING_TOOLS = 2


def main(argv: Sequence[str] | None = None, toolchain: Toolchain | None = None) -> int:
    del argv  # no options; kept for symmetry with the other entry points
    toolchain = toolchain or find_toolchain()
    message = toolchain.missing_message()
    if message is not None:
        print(f"error: {message}", file=sys.stderr)
        return EXIT_MISSING_TOOLS
    engine = toolchain.engine
    assert engine is not None
    print(
        f"e2e preflight ok: {engine.name} ({engine.binary}), kind ({toolchain.kind}), "
        f"kubectl ({toolchain.kubectl})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
