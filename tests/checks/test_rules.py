"""checks/data/rules.yaml against the code: the ids the checks declare, the rubric, the reports, the
generated README table and docs/rules.md (issue 21)."""

from __future__ import annotations

import pytest

from checks.audit import load_checks
from checks.base import CheckMeta, Finding
from checks.rules import RulesError, contract_rules, load_rules, rules
from checks.scoring import DEFAULT_RUBRIC, RubricError, load_rubric
from reports.i18n import rule_title


def test_every_declared_rule_is_in_rules_yaml_with_its_family():
    table = rules()
    for check_cls in load_checks():
        for rid in check_cls.meta.rules:
            assert rid in table, f"{check_cls.__name__} declares {rid}, not in rules.yaml"
            assert table[rid].check == check_cls.meta.check, rid


def test_reports_show_the_rules_yaml_titles():
    """reports/i18n.py keeps no title table of its own (it did before issue 21; commit f9b63ff checked
    that rules.yaml gives every id the title it had there)."""
    import reports.i18n as i18n

    assert not hasattr(i18n, "RULE_TITLES")
    assert rule_title("soft-404", "zh-TW") == "偽裝正常的錯誤頁"
    assert rule_title("soft-404", "en") == "Soft 404"
    assert rule_title("missing-mailbox", "zh-TW") == "缺少首長信箱"
    assert rule_title("image-alt", "en") == "image-alt"  # axe-core ids show as themselves


def test_contract_rules_are_the_contract_ids():
    """junit.xml's always-present test cases: shared/contract/results-schema.md's rule ids."""
    assert contract_rules() == {
        "broken-link": "links", "unverified-link": "links", "soft-404": "links", "missing-anchor": "links",
        "tls-error": "links", "title-mismatch": "links", "stale-page": "staleness",
        "outdated-annual-document": "staleness", "expired-notice": "staleness",
        "missing-metadata": "classification", "invalid-category-code": "classification",
        "missing-disclosure-section": "disclosure", "missing-disclosure-category": "disclosure"}


def test_feature_rules_agree_with_service_features_yaml():
    """missing-<feature>: family, indicator and severity are also in service_features.yaml."""
    from checks.services import features

    for feat in features().values():
        if not feat.expected:
            continue
        rule = rules()[feat.rule]
        assert (rule.check, rule.indicator, rule.severity) == (feat.family, feat.indicator, feat.severity), feat.rule


def test_a_broken_rules_file_names_the_rule(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  x-rule:\n    check: links\n    indicator: disclosure\n    severity: fatal\n"
                   "    title_zh: 甲\n    title_en: A\n    citation: c\n", encoding="utf-8")
    with pytest.raises(RulesError, match="x-rule.severity"):
        load_rules(bad)


def test_check_ids_are_unique():
    """`CheckMeta.id` names one class; the family several share is `check` (issue 21)."""
    ids = [check_cls.meta.id for check_cls in load_checks()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_rule_missing_from_rules_yaml_fails_at_declaration():
    with pytest.raises(ValueError, match="not in checks/data/rules.yaml"):
        CheckMeta(id="x", check="links", rules=("no-such-rule",))
    with pytest.raises(ValueError, match="belongs to check 'staleness'"):
        CheckMeta(id="x", check="links", rules=("stale-page",))


def test_the_shipped_rubric_scores_every_rule_or_says_it_does_not():
    assert load_rubric().unscored_rules() == []


def test_a_rubric_naming_an_unknown_rule_is_refused(tmp_path):
    text = DEFAULT_RUBRIC.read_text(encoding="utf-8").replace("rules: [title-mismatch]", "rules: [title-missmatch]")
    path = tmp_path / "rubric.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match="rule 'title-missmatch' is not in checks/data/rules.yaml"):
        load_rubric(path)


def test_naming_the_rules_the_family_defaults_caught_changed_no_criterion():
    """Issue 21 named in the rubric seven ids only a check-family default used to score."""
    rubric = load_rubric()
    for rid in ("tls-untrusted-public", "site-search-failed", "missing-sitemap", "missing-english", "missing-rss",
                "open-directory-listing", "personal-data-exposed"):
        check = rules()[rid].check
        assert rubric.criterion_for(rid, check).id == rubric.defaults[check], rid


def test_readme_table_and_docs_rules_md_are_what_rules_yaml_generates():
    """Edit checks/data/rules.yaml, then run `python -m checks.rules_doc`."""
    from checks import rules_doc

    for path, text in rules_doc.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run python -m checks.rules_doc"
    assert rules_doc.main(["--check"]) == 0


def test_the_generator_notices_a_hand_edited_table(tmp_path):
    from checks import rules_doc

    (tmp_path / "docs").mkdir()
    readme = (rules_doc.ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(readme.replace("| links | `broken-link` | error |",
                                                       "| links | `broken-link` | warning |"), encoding="utf-8")
    assert "`broken-link` | error |" in rules_doc.outputs(tmp_path)[tmp_path / "README.md"]
    with pytest.raises(ValueError, match="markers missing"):
        rules_doc.readme_with_table("# no table here\n")


def test_finding_of_takes_family_and_severity_from_rules_yaml():
    f = Finding.of("missing-anchor", "https://a.example/", "https://a.example/x#y", "錨點不存在")
    assert (f.check, f.severity, f.evidence) == ("links", "warning", {})
    assert Finding.of("soft-404", "p", "t", "d", severity="notice").severity == "notice"  # severities: 3
    with pytest.raises(ValueError, match="severity 'error' is not one rules.yaml allows"):
        Finding.of("missing-anchor", "p", "t", "d", severity="error")
    with pytest.raises(ValueError, match="not in checks/data/rules.yaml"):
        Finding.of("no-such-rule", "p", "t", "d")
