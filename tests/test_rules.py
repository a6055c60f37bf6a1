"""checks/data/rules.yaml against the code: the ids the checks declare, the old title tables."""

from __future__ import annotations

import pytest

from checks.audit import load_checks
from checks.base import CheckMeta
from checks.rules import rules
from reports.i18n import rule_title


def test_every_declared_rule_is_in_rules_yaml_with_its_family():
    table = rules()
    for check_cls in load_checks():
        for rid in check_cls.meta.rules:
            assert rid in table, f"{check_cls.__name__} declares {rid}, not in rules.yaml"
            assert table[rid].check == check_cls.meta.check, rid


def test_titles_equal_the_old_i18n_tables():
    """Before the tables in reports/i18n.py go: rules.yaml gives every id the title it had."""
    new_titles = {"site-search-failed", "tw-badge-link-invalid"}  # showed their bare id before
    for rid, rule in rules().items():
        if rid in new_titles:
            assert rule_title(rid, "zh-TW") == rid
            continue
        assert (rule.title_zh, rule.title_en) == (rule_title(rid, "zh-TW"), rule_title(rid, "en")), rid


def test_check_ids_are_unique():
    """`CheckMeta.id` names one class; the family several share is `check` (issue 21)."""
    ids = [check_cls.meta.id for check_cls in load_checks()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_rule_missing_from_rules_yaml_fails_at_declaration():
    with pytest.raises(ValueError, match="not in checks/data/rules.yaml"):
        CheckMeta(id="x", check="links", rules=("no-such-rule",))
    with pytest.raises(ValueError, match="belongs to check 'staleness'"):
        CheckMeta(id="x", check="links", rules=("stale-page",))
