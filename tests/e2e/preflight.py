"""Check for the e2e toolchain before pytest starts: ``python -m tests.e2e.preflight``.

Exit 0 when the backend's tools are there (kind backend: docker or podman, running, kind and
a kubectl within one minor of the pinned node image's Kubernetes; existing-cluster backend:
a kubectl within one minor of what the cluster reports), printing which kubectl runs;
otherwise print one ``error: ...`` message naming every problem with how to fix it, and exit
2 (the gitops CLI's code for "environment problem"). No traceback. tests/e2e/conftest.py
runs the same check, so `pytest -m e2e` alone fails just as fast.

``--versions`` prints the pinned versions as ``$GITHUB_OUTPUT`` lines (``kind=v0.32.0``,
``kubectl=v1.36.1``, ``node-image=kindest/node:v1.36.1@sha256:...``) and exits: CI installs
the kind and kubectl they name, so each is written down once, in tests/e2e/versions.yaml.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from tests.e2e.harness.backend import Backend, BackendError, backend_from_env
from tests.e2e.harness.cluster import KIND_CONFIG, KindConfigError, parse_kind_config
from tests.e2e.harness.tools import Toolchain, find_toolchain
from tests.e2e.harness.versions import VersionsError, pinned_versions

EXIT_MISSING_TOOLS = 2


def pinned_kubernetes_version() -> str:
    """``1.36.1``: the Kubernetes of the pinned kind node image (tests/e2e/versions.yaml)."""
    return pinned_versions().kubernetes_version


def checked_toolchain(environ: Mapping[str, str] | None = None) -> Toolchain:
    """The toolchain for the backend the environment selects (BackendError if none)."""
    env = os.environ if environ is None else environ
    backend = backend_from_env(env)
    if backend.owns_cluster:
        parse_kind_config(KIND_CONFIG.read_text(encoding="utf-8"))
    version = pinned_kubernetes_version() if backend.owns_cluster else None
    return find_toolchain(env, backend=backend, cluster_version=version)


def main(argv: Sequence[str] | None = None, toolchain: Toolchain | None = None) -> int:
    args = list(argv or [])
    try:
        if args == ["--versions"]:
            print(pinned_versions().github_outputs(), end="")
            return 0
        if args:
            print(
                f"error: unknown arguments {args}; expected none or --versions",
                file=sys.stderr,
            )
            return EXIT_MISSING_TOOLS
        toolchain = toolchain or checked_toolchain()
    except (BackendError, KindConfigError, VersionsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MISSING_TOOLS
    message = toolchain.missing_message()
    if message is not None:
        print(f"error: {message}", file=sys.stderr)
        return EXIT_MISSING_TOOLS
    print(f"e2e preflight ok: {describe(toolchain)}")
    return 0


def describe(toolchain: Toolchain) -> str:
    backend: Backend = toolchain.backend
    kubectl = f"kubectl ({toolchain.kubectl_summary()})"
    if not backend.owns_cluster:
        return f"backend {backend.describe()}, {kubectl}"
    engine = toolchain.engine
    assert engine is not None
    return f"{engine.name} ({engine.binary}), kind ({toolchain.kind}), {kubectl}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
