"""The policy rules, all registered: import this package to get every rule.

The engine (the ``rule`` decorator, :class:`CheckContext`, how hits become findings) lives in
:mod:`gitops.policy.engine`; the rule modules import it, and this package imports each rule
module once, at the top, so the registry is complete before anyone asks for it. Nothing here is
imported lazily: the engine never imports a rule module, so there is no cycle to hide.

    >>> get_rule("hpa-bounds").kinds
    ('HorizontalPodAutoscaler',)
    >>> [r.id for r in all_rules()][:2]
    ['render-failed', 'schema']
"""

from __future__ import annotations

import difflib

from gitops.config import CONFIG_FILE, RepoConfig
from gitops.errors import ConfigError
from gitops.policy import (
    apis,
    applications,
    networking,
    pipeline,
    promotion,
    remote,
    scaling,
    secrets,
    workloads,
)
from gitops.policy.engine import (
    COMMON_PARAMS,
    WORKLOAD_KINDS,
    CheckContext,
    GeneratedLabels,
    Hit,
    Param,
    Rule,
    containers,
    controller_labels,
    pipeline_rule,
    pod_labels,
    pod_spec,
    pod_template,
    registered_rules,
    rule,
    run_rule,
    run_rules,
    selector_matches,
    to_finding,
    valid_label_selector,
)

__all__ = [
    "COMMON_PARAMS",
    "RULE_MODULES",
    "WORKLOAD_KINDS",
    "CheckContext",
    "GeneratedLabels",
    "Hit",
    "Param",
    "Rule",
    "all_rules",
    "check_rule_ids",
    "containers",
    "controller_labels",
    "get_rule",
    "pipeline_rule",
    "pod_labels",
    "pod_spec",
    "pod_template",
    "rule",
    "run_rule",
    "run_rules",
    "selector_matches",
    "to_finding",
    "valid_label_selector",
]

# The rule modules, in the order docs/rules.md lists them.
RULE_MODULES = tuple(
    module.__name__
    for module in (
        pipeline,
        workloads,
        scaling,
        networking,
        apis,
        secrets,
        remote,
        applications,
        promotion,
    )
)


def all_rules() -> list[Rule]:
    order = {m: i for i, m in enumerate(RULE_MODULES)}
    return sorted(registered_rules(), key=lambda r: (order.get(r.module, 99), r.id))


def get_rule(rule_id: str) -> Rule:
    for registered in registered_rules():
        if registered.id == rule_id:
            return registered
    raise KeyError(rule_id)


def check_rule_ids(config: RepoConfig) -> None:
    """ConfigError for a ``policy.severity`` key that names no rule, with the closest id as a
    hint (gitops.yaml's structure is checked when it is read, in gitops.config; which ids
    exist only the registry knows)."""
    known = sorted(r.id for r in registered_rules())
    for rule_id in config.policy.get("severity") or {}:
        if rule_id not in known:
            close = difflib.get_close_matches(str(rule_id), known, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"{CONFIG_FILE}: policy.severity: unknown rule id {rule_id!r}{hint}; "
                "docs/rules.md lists them"
            )
