"""``gitops.policy``: every rule module registered at import, in the documented order; rule ids
in gitops.yaml checked against the registry."""

from __future__ import annotations

import pytest

from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.policy import RULE_MODULES, all_rules, check_rule_ids, get_rule


def test_every_rule_module_is_registered_in_order() -> None:
    modules = [r.module for r in all_rules()]
    assert set(modules) == set(RULE_MODULES)
    assert modules == sorted(modules, key=RULE_MODULES.index)
    assert get_rule("hpa-bounds").module == "gitops.policy.scaling"
    with pytest.raises(KeyError):
        get_rule("no-such-rule")


def test_rule_ids_of_policy_severity_must_name_a_rule() -> None:
    check_rule_ids(RepoConfig(policy={"severity": {"pdb-missing": "off"}}))
    with pytest.raises(
        ConfigError, match=r"unknown rule id 'pdb-mising' \(did you mean pdb-missing\?\)"
    ):
        check_rule_ids(RepoConfig(policy={"severity": {"pdb-mising": "off"}}))
    with pytest.raises(ConfigError, match=r"unknown rule id 'zzz'; docs/rules.md lists them"):
        check_rule_ids(RepoConfig(policy={"severity": {"zzz": "off"}}))
