"""``gitops.probe.container``: a container's command, args and env as the kubelet builds them."""

from __future__ import annotations

from gitops.probe import (
    container_argv,
    container_env,
    find_app_source,
    parse_dockerfile_command,
)
from tests.conftest import REPO_ROOT


def test_container_semantics_command_args_env() -> None:
    source = find_app_source(REPO_ROOT, "ghcr.io/example-org/kpis-api:1.2.3")
    assert source is not None
    assert source.entrypoint[1:] == ("-m", "kpis_api") and source.cmd == ("serve",)
    entry, args = container_argv({"args": ["migrate"]}, source)
    assert entry[1:] == ("-m", "kpis_api") and args == ("migrate",)
    entry, args = container_argv({"command": ["sh", "-c"], "args": ["x"]}, source)
    assert (entry, args) == (("sh", "-c"), ("x",))
    assert parse_dockerfile_command(
        'ENTRYPOINT ["a"]\nCMD ["b"]\nENTRYPOINT ["c", \\\n "d"]\n'
    ) == (("c", "d"), ())
    env = container_env(
        {
            "env": [
                {"name": "A", "value": "1"},
                {"name": "B", "value": "$(A)-x-$(NOPE)"},
                {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {
                    "name": "D",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "no", "optional": True}},
                },
            ]
        },
        {"s": {"k": "secret"}},
        "here",
    )
    assert env == {"A": "1", "B": "1-x-$(NOPE)", "C": "secret"}
