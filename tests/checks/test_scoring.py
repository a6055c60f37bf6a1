"""Scoring: a hand-made site entry gives exact, hand-computed scores; indeterminate results, manual
criteria, unknown rules and malformed rubrics behave as docs/reports.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import SAMPLE

from checks.scoring import (
    REQUIRED_INDICATORS,
    RubricError,
    fingerprint_of,
    load_manual,
    load_rubric,
    score_results,
    score_site,
)

# A small rubric whose numbers are easy to compute by hand.
RUBRIC = """
version: "test-1"
dimension: {name_zh: 資訊流通服務, name_en: Information services}
weights_note_zh: 權重相同
weights_note_en: equal weights
indeterminate:
  rules: [unverified-link]
  conditions:
    - {rule: soft-404, key: confidence, values: [low], below: 0.5}
defaults:
  links: links
  accessibility: a11y
  services: other
indicators:
  - id: disclosure
    name_zh: 資訊公開適切性與內容有效性
    name_en: Disclosure
    weight: 1
    criteria:
      - {id: links, name_zh: 連結, name_en: Links, weight: 50, method: per_page_share, rules: [broken-link, soft-404]}
      - {id: section, name_zh: 專區, name_en: Section, weight: 30, method: pass_fail, rules: [missing-disclosure-section]}
      - {id: items, name_zh: 十款, name_en: Items, weight: 20, method: capped_deduction, points: 5,
         rules: [missing-disclosure-category]}
      - {id: sop, name_zh: 更新機制, name_en: Update SOP, weight: 10, manual: true}
  - id: retrieval
    name_zh: 資訊檢索完整性與便捷性
    name_en: Retrieval
    weight: 1
    criteria:
      - {id: a11y, name_zh: 無障礙, name_en: Accessibility, weight: 100, method: per_page_share,
         pages_from: accessibility, requires: [accessibility]}
  - id: online_services
    name_zh: 線上服務量能擴展性
    name_en: Online services
    weight: 1
    criteria:
      - {id: transactions, name_zh: 線上申辦, name_en: Transactions, weight: 100, method: presence,
         features: [online-application, e-payment]}
  - id: e_participation
    name_zh: 電子參與多樣性
    name_en: E-participation
    weight: 1
    criteria:
      - {id: mailbox, name_zh: 信箱, name_en: Mailbox, weight: 60, method: presence, features: [mailbox]}
      - {id: other, name_zh: 其他, name_en: Other, weight: 40, method: capped_deduction, points: 10}
"""


def finding(check: str, rule: str, page: str, target: str | None = None, severity: str = "warning",
            **evidence: object) -> dict:
    f = {"check": check, "rule": rule, "severity": severity, "page": page, "target": target,
         "detail": f"{rule} 於 {page}", "evidence": dict(evidence)}
    f["fingerprint"] = fingerprint_of(f)
    return f


def make_site() -> dict:
    base = "https://www.example-agency.example"
    return {
        "agency": {"name": "測試機關", "code": "A00000000A", "url": base + "/", "group": None},
        "status": "ok", "detail": None,
        "stats": {"pages": 10, "documents": 0, "links_checked": 40, "duration_s": 1.0},
        "services": {"online-application": {"found": True, "evidence": [base + "/apply"]},
                     "e-payment": {"found": False, "evidence": []},
                     "mailbox": {"found": True, "evidence": [base + "/mail"]}},
        "accessibility": {"status": "ok", "pages_tested": 4, "detail": None},
        "findings": [
            finding("links", "broken-link", base + "/a", base + "/x1", "error", kind="http", status=404),
            finding("links", "broken-link", base + "/a", base + "/x2", "error", kind="http", status=404),
            finding("links", "broken-link", base + "/b", base + "/x1", "error", kind="http", status=404),
            # an unknown links rule: scored by the family default (links -> per-page share)
            finding("links", "redirect-chain", base + "/d", base + "/y", hops=6),
            # indeterminate: never scored
            finding("links", "unverified-link", base + "/c", "https://fb.example/p", kind="blocked", status=403),
            finding("links", "soft-404", base + "/e", base + "/z", reason="home redirect", confidence="low"),
            *[finding("disclosure", "missing-disclosure-category", base + "/open", None, "error", item=i)
              for i in (2, 4, 7, 8, 10)],
            finding("accessibility", "image-alt", base + "/a", None, "error", impact="critical", nodes=3),
            # notices cost nothing
            finding("accessibility", "color-contrast", base + "/b", None, "notice", impact="serious"),
            # an unknown services rule: scored by the family default (services -> other)
            finding("services", "missing-rss", base + "/", None),
        ],
    }


@pytest.fixture()
def rubric(tmp_path: Path):
    path = tmp_path / "rubric.yaml"
    path.write_text(RUBRIC, encoding="utf-8")
    return load_rubric(str(path))


def by_id(scores: dict) -> dict[str, float | None]:
    return {i["id"]: i["score"] for i in scores["indicators"]}


def test_hand_made_site_scores_exactly(rubric) -> None:
    scores = score_site(make_site(), rubric)
    # disclosure: links 50 x 3/10 pages = 15 lost (a, b and the unknown rule's d); items min(20, 5 x 5) = 20
    # retrieval: 100 x 1/4 pages tested = 25; online: 100 x 1/2 features = 50; e-part: 10 for missing-rss
    assert by_id(scores) == {"disclosure": 65.0, "retrieval": 75.0, "online_services": 50.0,
                             "e_participation": 90.0}
    assert scores["dimension"] == 70.0
    assert scores["rubric_version"] == "test-1"
    assert [(i["name"], i["max"], i["automated"]) for i in scores["indicators"]][0] == (
        "資訊公開適切性與內容有效性", 100, True)


def test_every_lost_point_traces_to_rule_weight_and_evidence(rubric) -> None:
    site = make_site()
    scores = score_site(site, rubric)
    ded = {d["criterion"]: d for d in scores["deductions"]}
    assert [d["criterion"] for d in scores["deductions"]] == ["transactions", "a11y", "items", "links", "other"]
    assert {k: d["dimension_points"] for k, d in ded.items()} == {
        "transactions": 12.5, "a11y": 6.25, "items": 5.0, "links": 3.75, "other": 2.5}
    assert sum(d["dimension_points"] for d in scores["deductions"]) == pytest.approx(100 - scores["dimension"])
    assert ded["links"]["rules"] == {"broken-link": 3, "redirect-chain": 1}
    assert ded["links"]["formula"] == "50 × 3/10"
    assert ded["items"]["formula"] == "min(20, 5 × 5)"
    fps = {f["fingerprint"] for f in site["findings"] if f["rule"] in ("broken-link", "redirect-chain")}
    assert set(ded["links"]["fingerprints"]) == fps
    assert ded["transactions"]["missing_features"] == ["e-payment"]


def test_indeterminate_results_are_excluded_and_listed(rubric) -> None:
    scores = score_site(make_site(), rubric)
    listed = {(f["rule"], f["reason"]) for f in scores["indeterminate"]["findings"]}
    assert listed == {("unverified-link", "indeterminate-rule"), ("soft-404", "indeterminate-rule")}
    assert scores["indeterminate"]["link_share"] == 0.03  # 1 unverified target / 40 links checked

    site = make_site()
    site["accessibility"] = {"status": "not_run", "pages_tested": 0, "detail": "no chromedriver"}
    site["findings"] = [f for f in site["findings"] if f["check"] != "accessibility"]
    scores = score_site(site, rubric)
    assert by_id(scores)["retrieval"] is None  # not judged, not zero
    assert scores["dimension"] == round((65 + 50 + 90) / 3, 2)
    assert scores["indeterminate"]["criteria"][0]["reason"] == "accessibility-not_run"
    assert scores["indeterminate"]["weight_share"] == 0.25  # 100 of 400 automated weight


def test_failed_site_is_not_scored(rubric) -> None:
    site = make_site() | {"status": "failed", "detail": "DNS"}
    scores = score_site(site, rubric)
    assert scores["dimension"] is None
    assert set(by_id(scores).values()) == {None}
    assert scores["deductions"] == []


def test_presence_without_summary_is_indeterminate_but_missing_finding_counts(rubric) -> None:
    site = make_site()
    del site["services"]
    scores = score_site(site, rubric)
    assert by_id(scores)["online_services"] is None
    site["findings"].append(finding("services", "missing-mailbox", site["agency"]["url"]))
    scores = score_site(site, rubric)
    assert by_id(scores)["e_participation"] == 30.0  # mailbox 60 lost + missing-rss 10


def test_manual_scores_are_shown_beside_not_inside(rubric, tmp_path: Path) -> None:
    path = tmp_path / "manual.yaml"
    path.write_text("sop:\n  score: 0.5\n  note: 每月更新，有紀錄\n", encoding="utf-8")
    manual = load_manual(path, rubric)
    assert manual == {"sop": {"score": 0.5, "note": "每月更新，有紀錄"}}
    scores = score_site(make_site(), rubric, manual)
    assert scores["dimension"] == 70.0  # the automated score never moves
    assert scores["manual"]["criteria"] == [{"id": "sop", "indicator": "disclosure", "name": "更新機制",
                                             "name_en": "Update SOP", "weight": 10.0, "score": 0.5,
                                             "note": "每月更新，有紀錄", "source": None}]
    assert by_id(scores)["disclosure"] == 65.0
    assert scores["indicators"][0]["score_with_manual"] == round(70 / 110 * 100, 2)
    assert scores["manual"]["dimension_with_manual"] == round((70 / 110 * 100 + 75 + 50 + 90) / 4, 2)
    # without a manual file the criterion is listed as not supplied
    plain = score_site(make_site(), rubric)
    assert plain["manual"]["supplied"] is False and plain["manual"]["criteria"][0]["score"] is None


@pytest.mark.parametrize(("text", "needle"), [
    ("typo-id: 1\n", "key typo-id: not a manual criterion"),
    ("sop: 1.5\n", "key sop.score: Input should be less than or equal to 1"),
    ("sop: {score: high}\n", "key sop.score"),
    ("- sop\n", "expected a mapping"),
])
def test_bad_manual_file_names_file_and_key(rubric, tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "manual.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError) as err:
        load_manual(path, rubric)
    assert str(path) in str(err.value) and needle in str(err.value)


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("weight: 50, method: per_page_share", "weight: -5, method: per_page_share",
     "key indicators[0](disclosure).criteria[0](links).weight: Input should be greater than 0"),
    ("method: pass_fail", "method: all_or_nothing", "criteria[1](section).method"),
    ("points: 5,", "", "points: required for method capped_deduction"),
    ("rules: [missing-disclosure-section]", "rules: [broken-link]",
     "rule 'broken-link' is already scored by criterion 'links'"),
    ("  - id: e_participation", "  - id: e_participation_x", "missing required indicator(s) e_participation"),
    ("  services: other", "  services: nowhere", "key defaults.services: no criterion 'nowhere'"),
    ('version: "test-1"', 'version: "test-1"\nweigths: 1', "key weigths: Extra inputs are not permitted"),
    ("indicators:", "indicators: [", "is not valid YAML"),
])
def test_malformed_rubric_names_file_and_key(tmp_path: Path, old: str, new: str, needle: str) -> None:
    assert old in RUBRIC
    path = tmp_path / "bad-rubric.yaml"
    path.write_text(RUBRIC.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RubricError) as err:
        load_rubric(str(path))
    assert str(err.value).startswith(f"rubric file {path}")
    assert needle in str(err.value)


def test_missing_rubric_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="rubric file .*nope.yaml: not found"):
        load_rubric(str(tmp_path / "nope.yaml"))


def test_default_rubric_equal_weights_and_every_contract_rule_scored() -> None:
    rubric = load_rubric(None)
    assert [i.id for i in rubric.indicators] == list(REQUIRED_INDICATORS)
    assert {i.weight for i in rubric.indicators} == {1.0}
    assert [i.name_zh for i in rubric.indicators] == ["資訊公開適切性與內容有效性", "資訊檢索完整性與便捷性",
                                                      "線上服務量能擴展性", "電子參與多樣性"]
    assert "權重" in rubric.weights_note_zh and "No official weights" in rubric.weights_note_en
    families = {"broken-link": "links", "soft-404": "links", "missing-anchor": "links", "tls-error": "links",
                "title-mismatch": "links", "stale-page": "staleness", "outdated-annual-document": "staleness",
                "expired-notice": "staleness", "dc-date-constant": "staleness",
                "missing-metadata": "classification", "invalid-category-code": "classification",
                "invalid-dc-date": "classification", "dc-title-mismatch": "classification",
                "missing-disclosure-section": "disclosure", "missing-disclosure-category": "disclosure",
                "open-format-missing": "services", "missing-mailbox": "services",
                "missing-site-search": "services", "missing-privacy-policy": "services",
                "site-search-no-results": "retrieval", "site-search-not-paged": "retrieval",
                "image-alt": "accessibility", "tw-accesskey-missing": "accessibility",
                "tw-badge-missing": "accessibility", "tw-something-new": "accessibility",
                "brand-new-rule": "classification"}
    mapped = {rule: rubric.criterion_for(rule, check).id for rule, check in families.items()}
    assert mapped["image-alt"] == "a11y-automated" and mapped["tw-something-new"] == "a11y-conventions"
    assert mapped["tw-badge-missing"] == "a11y-badge" and mapped["missing-mailbox"] == "mailbox"
    assert mapped["brand-new-rule"] == "classification-metadata"
    assert rubric.is_indeterminate({"rule": "unverified-link"})
    assert rubric.is_indeterminate({"rule": "tls-error",
                                    "evidence": {"reason": "unable to get local issuer certificate"}})
    assert not rubric.is_indeterminate({"rule": "tls-error", "evidence": {"reason": "certificate has expired"}})
    assert rubric.is_indeterminate({"rule": "soft-404", "evidence": {"confidence": 0.3}})
    assert not rubric.is_indeterminate({"rule": "soft-404", "evidence": {"confidence": "high"}})


def test_sample_results_rescore_to_the_stored_scores() -> None:
    """The sample fixture's scores are what the default rubric gives (and 'why 75.06' adds up)."""
    results = json.loads(SAMPLE.read_text(encoding="utf-8"))
    stored = [s["scores"]["dimension"] for s in results["sites"]]
    score_results(results, load_rubric(None))
    assert [s["scores"]["dimension"] for s in results["sites"]] == stored == [75.06, 71.02, None]
    assert results["rubric"] == {"version": "2025.1"}
    city = results["sites"][0]["scores"]
    assert sum(d["dimension_points"] for d in city["deductions"]) == pytest.approx(100 - 75.06, abs=0.05)
    assert {f["rule"] for f in city["indeterminate"]["findings"]} == {"unverified-link", "soft-404"}


def test_disclosure_area_seen_only_through_unverified_links_is_indeterminate() -> None:
    """Issue 16 item 2: a 政府資訊公開 entry whose target was never verified neither passes nor fails."""
    rubric = load_rubric(None)
    base = "https://www.example.gov.tw"

    def criterion(disclosure: dict, findings: list[dict]) -> dict:
        site = {"agency": {"name": "測試機關", "url": base + "/"}, "status": "ok",
                "stats": {"pages": 3, "links_checked": 10}, "accessibility": {"status": "not_run"},
                "disclosure": disclosure, "findings": findings}
        crit = {c["id"]: c for i in score_site(site, rubric)["indicators"] for c in i["criteria"]}
        return crit["disclosure-section"]

    unverified = {"section_urls": [], "categories": [],
                  "unverified_section_links": [{"page": base + "/", "target": base + "/open", "text": "政府資訊公開"}]}
    seen = criterion(unverified, [finding("disclosure", "unverified-disclosure-section", base + "/", base + "/open",
                                          "notice")])
    assert (seen["status"], seen["reason"]) == ("indeterminate", "unverified")
    verified = criterion({"section_urls": [base + "/open"], "categories": []}, [])
    assert (verified["status"], verified["lost"]) == ("scored", 0.0)
    missing = criterion({"section_urls": [], "categories": []},
                        [finding("disclosure", "missing-disclosure-section", base + "/", None, "error")])
    assert (missing["status"], missing["lost"]) == ("scored", 15.0)
