"""Accessibility findings on real Taiwanese government pages, plus the check logic on small synthetic facts.

Keelung (Hyweb build of 基隆市政府) is served from 127.0.0.1 and tested in a real Chromium: images
without alt on cp01, unlabelled fields on lp01, the `id="aC "` skip-link bug on mp.htm, the logo link
without a name shared by several pages (reported once). NCYU pages are read as facts only (no
browser): accesskeys U/C/Z/F, the AA badge and its certificate date.
"""

from __future__ import annotations

import functools
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from paths import REALWORLD

from checks.accessibility import Accessibility, freego_code, selector_text, wcag_criteria, wcag_level
from checks.base import AuditContext, Finding
from checks.facts import A11yPageResult, Agency, SiteFacts
from checks.taiwan_a11y import TaiwanAccessibility, accesskeys_of, certificate_date, find_badges
from crawler.a11y import A11yOptions, apply_to_facts, run_accessibility
from crawler.extract import extract_page

KEELUNG = REALWORLD / "HywebU00__2021_keelung_gov"
NCYU = REALWORLD / "kevinhsu7361__NCYU"
KEELUNG_PAGES = ("mp.htm", "sitemap.htm", "lp01.htm", "cp01.htm")
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def _facts(folder: Path, names: tuple[str, ...], base: str) -> SiteFacts:
    facts = SiteFacts(agency=Agency(name=folder.name, url=base + names[0]))
    for name in names:
        parsed = extract_page((folder / name).read_text(encoding="utf-8-sig"), base + name)
        parsed.facts.status, parsed.facts.content_type = 200, "text/html"
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    return facts


def _run(facts: SiteFacts, today: date = date(2025, 1, 1)) -> tuple[list[Finding], AuditContext]:
    ctx = AuditContext(today=today)
    findings = Accessibility().run(facts, ctx) + TaiwanAccessibility().run(facts, ctx)
    return findings, ctx


def _one(findings: list[Finding], rule: str, page_suffix: str) -> Finding:
    hits = [f for f in findings if f.rule == rule and f.page.endswith(page_suffix)]
    assert len(hits) == 1, f"{rule} on {page_suffix}: {[(f.rule, f.page) for f in findings]}"
    return hits[0]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def keelung() -> tuple[list[Finding], AuditContext, SiteFacts]:
    if not KEELUNG.is_dir():
        pytest.skip(f"real-world pages not found in {KEELUNG} (../shared/realworld/HywebU00__2021_keelung_gov)")
    if not (Path("/usr/bin/chromium").is_file() and Path("/usr/bin/chromedriver").is_file()):
        pytest.skip("Chromium/chromedriver not installed in /usr/bin")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(KEELUNG)))
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        facts = _facts(KEELUNG, KEELUNG_PAGES, base)
        run = run_accessibility([(base + n, "test", "tpl-" + n.split(".")[0]) for n in KEELUNG_PAGES],
                                A11yOptions(extra_args=[LOOPBACK_ONLY], page_timeout_s=20, script_timeout_s=30))
        apply_to_facts(facts, run)
        findings, ctx = _run(facts)
    finally:
        server.shutdown()
        server.server_close()
    return findings, ctx, facts


def test_keelung_images_without_alt_on_cp01(keelung) -> None:
    findings, _, facts = keelung
    f = _one(findings, "image-alt", "cp01.htm")
    assert (f.severity, f.evidence["wcag"], f.evidence["level"], f.evidence["freego"]) == (
        "error", ["1.1.1"], "A", "HM1110100C")
    assert f.evidence["impact"] == "critical"
    assert f.evidence["template"] == "tpl-cp01"
    # the raw result keeps the offending markup: lazy-loaded pictures with no alt attribute at all
    raw = next(r for r in facts.a11y if r.url.endswith("cp01.htm"))
    nodes = next(v for v in raw.violations if v["id"] == "image-alt")["nodes"]
    assert sum(1 for n in nodes if "alt=" not in n["html"]) >= 4
    assert "不通過" in f.detail or "未通過" in f.detail


def test_keelung_unlabelled_fields_on_lp01(keelung) -> None:
    findings, _, _ = keelung
    label = _one(findings, "label", "lp01.htm")
    assert label.evidence["nodes"] == 3
    assert label.evidence["freego"] == "HM1130104C"
    assert _one(findings, "select-name", "lp01.htm").evidence["example"] == "#selectSample"


def test_keelung_broken_skip_links_with_trailing_space_ids(keelung) -> None:
    findings, _, _ = keelung
    broken = sorted((f for f in findings if f.rule == "tw-accesskey-target-missing"), key=lambda f: f.evidence["key"])
    assert [(f.page.rsplit("/", 1)[1], f.evidence["key"], f.evidence["fragment"], f.evidence["near_miss_ids"])
            for f in broken] == [("mp.htm", "C", "aC", ["aC "]), ("mp.htm", "Z", "aZ", ["aZ "])]
    assert broken[0].severity == "warning"
    assert not [f for f in findings if f.rule == "tw-accesskey-missing"]  # U/C/Z present on every page


def test_keelung_logo_link_without_name_reported_once(keelung) -> None:
    findings, ctx, _ = keelung
    home = _one(findings, "link-name", "mp.htm")
    assert home.evidence["example"] == 'a[href="index.htm"]'
    assert home.evidence["wcag"] == ["2.4.4", "4.1.2"] and home.evidence["freego"] == "HM1240401C"
    # the inner pages share one header: its nameless logo link is one finding with 3 pages affected
    shared = _one(findings, "link-name", "sitemap.htm")
    assert {"selector": 'h1 > a[href="index.htm"]', "pages": 3} in shared.evidence["shared"]
    assert shared.evidence["pages_affected"] == 3
    assert not [f for f in findings if f.rule == "link-name" and f.page.endswith(("lp01.htm", "cp01.htm"))]
    # per-template figures still count every page
    templates = ctx.summary["accessibility"]["templates"]
    assert templates["tpl-cp01"]["violations_by_rule"]["link-name"]["pages"] == 1
    assert all(t["pages_tested"] == 1 for t in templates.values())


def test_keelung_summary_and_badge(keelung) -> None:
    findings, ctx, _ = keelung
    summary = ctx.summary["accessibility"]
    assert (summary["status"], summary["pages_tested"], summary["axe_version"]) == ("ok", 4, "4.10.2")
    assert "color-contrast" in {i["rule"] for i in summary["incomplete"]}  # manual review list
    # a badge image (accessibility.jpg, blank alt) linked to "javascript:;": no certificate link
    assert summary["badge"]["present"] is True and summary["badge"]["claimed_level"] is None
    assert _one(findings, "tw-badge-link-invalid", "mp.htm").severity == "notice"
    assert not [f for f in findings if f.rule in ("tw-badge-missing", "tw-noscript-missing",
                                                   "tw-sitemap-accesskey-help-missing")]


@pytest.fixture(scope="module")
def ncyu() -> SiteFacts:
    if not NCYU.is_dir():
        pytest.skip(f"real-world pages not found in {NCYU} (../shared/realworld/kevinhsu7361__NCYU)")
    return _facts(NCYU, ("index202009.html", "html_news.htm"), "https://www.ncyu.edu.tw/newsite/")


def test_ncyu_accesskeys_and_aa_badge(ncyu: SiteFacts) -> None:
    for page in ncyu.pages:
        assert set(accesskeys_of(page)) >= {"U", "C", "Z", "F"}
        assert all(ak["text"] == ":::" for ak in accesskeys_of(page).values())
    badge = find_badges(ncyu)
    assert (badge["claimed_level"], badge["level_equivalent"]) == ("AA", "AA")
    assert badge["certificate_ids"] == ["20170930131711"]
    findings, ctx = _run(ncyu, today=date(2025, 1, 1))
    assert not [f for f in findings if f.rule == "tw-accesskey-missing"]
    expired = _one(findings, "tw-badge-expired", "index202009.html")
    assert (expired.evidence["issued"], expired.evidence["valid_until"]) == ("2017-09-30", "2020-09-30")
    assert expired.target == "https://www.handicap-free.nat.gov.tw/Applications/Detail?category=20170930131711"
    assert ctx.summary["accessibility"]["badge"]["claimed_level"] == "AA"
    # "#Z" on the home page points at nothing (the Z anchor has neither id nor name there)
    z = _one(findings, "tw-accesskey-target-missing", "index202009.html")
    assert (z.evidence["key"], z.evidence["fragment"]) == ("Z", "Z")
    # neither page has a <noscript> notice (the one in html_news.htm sits inside an HTML comment):
    # one finding, on the home page, counting both pages
    noscript = _one(findings, "tw-noscript-missing", "index202009.html")
    assert noscript.evidence["pages_affected"] == 2
    # the accessibility pass did not run: no axe findings; the AA claim is judged on the static
    # Freego facts only (issue 18): the two <font> elements of the home page fail HM1410100C (level A)
    assert ctx.summary["accessibility"]["status"] == "not_run"
    assert not [f for f in findings if not f.rule.startswith("tw-")]
    level = _one(findings, "tw-badge-level-not-met", "index202009.html")
    assert (level.evidence["freego_static"], level.evidence["axe_ran"]) == (["HM1410100C"], False)


def test_ncyu_badge_not_expired_when_judged_at_capture_date(ncyu: SiteFacts) -> None:
    findings, _ = _run(ncyu, today=date(2020, 9, 16))
    assert not [f for f in findings if f.rule == "tw-badge-expired"]


# ------------------------------------------------------------------------------------------------
# synthetic facts

def _violation(rule: str, tags: list[str], targets: list[list[str]], impact: str = "serious") -> dict:
    return {"id": rule, "impact": impact, "tags": tags, "help": rule, "helpUrl": None,
            "nodes": [{"target": t, "html": "<x>", "impact": impact} for t in targets], "nodes_total": len(targets)}


def _badge_site(alt: str, violations: list[dict], status: str = "ok") -> SiteFacts:
    html = (f"<html><body><a accesskey='U' href='#U' name='U'>:::</a><noscript>x</noscript>"
            f"<a href='https://accessibility.moda.gov.tw/Applications/Detail?category=20240102030405'>"
            f"<img src='/aa.png' alt='{alt}'></a></body></html>")
    facts = SiteFacts(agency=Agency(name="x", url="https://a.gov.tw/"))
    parsed = extract_page(html, "https://a.gov.tw/")
    parsed.facts.status = 200
    facts.pages, facts.links = [parsed.facts], parsed.links
    facts.a11y_status = status
    facts.a11y = [A11yPageResult(url="https://a.gov.tw/", template="t", violations=violations)]
    return facts


def test_badge_claim_compared_with_axe_levels() -> None:
    level_a = _violation("image-alt", ["wcag2a", "wcag111"], [["img"]])
    level_aaa = _violation("color-contrast-enhanced", ["wcag2aaa", "wcag146"], [["p"]])
    findings, _ = _run(_badge_site("通過AA檢測等級無障礙網頁檢測", [level_a, level_aaa]))
    f = _one(findings, "tw-badge-level-not-met", "a.gov.tw/")
    assert f.evidence["rules"] == [{"rule": "image-alt", "level": "A", "pages": 1}]
    assert f.evidence["level_a_failures"] == 1
    findings, _ = _run(_badge_site("通過AA檢測等級無障礙網頁檢測", [level_aaa]))
    assert not [f for f in findings if f.rule == "tw-badge-level-not-met"]
    findings, _ = _run(_badge_site("通過A+優先等級無障礙網頁檢測", [level_a]))  # old A+ = AA
    assert _one(findings, "tw-badge-level-not-met", "a.gov.tw/").evidence["claimed_level"] == "A+"
    findings, _ = _run(_badge_site("通過A檢測等級無障礙網頁檢測", [level_a], status="not_run"))
    assert not [f for f in findings if f.rule == "tw-badge-level-not-met"]
    # a 2024 certificate is still valid in 2025; the site lacks C and Z keys and a site map
    assert not [f for f in findings if f.rule in ("tw-badge-expired", "tw-badge-link-invalid")]
    missing = _one(findings, "tw-accesskey-missing", "a.gov.tw/")
    assert missing.evidence["missing"] == ["C", "Z"] and missing.severity == "notice"
    assert _one(findings, "tw-sitemap-accesskey-help-missing", "a.gov.tw/").evidence["sitemap_found"] is False


def test_badge_missing_and_meta_claim() -> None:
    facts = SiteFacts(agency=Agency(name="x", url="https://b.gov.tw/"))
    parsed = extract_page("<html><body><p>無標章</p></body></html>", "https://b.gov.tw/")
    facts.pages = [parsed.facts]
    findings, ctx = _run(facts)
    assert _one(findings, "tw-badge-missing", "b.gov.tw/").severity == "warning"
    assert ctx.summary["accessibility"]["badge"]["present"] is False
    parsed = extract_page("<html><head><meta name='Accessible_website' content='本網站通過AA檢測等級無障礙網頁檢測'>"
                          "</head><body></body></html>", "https://b.gov.tw/")
    facts.pages = [parsed.facts]
    assert find_badges(facts)["claimed_level"] == "AA"


def test_shared_component_deduplicated_across_templates() -> None:
    header = ["#logo > img"]
    pages = [("https://c.gov.tw/", "t1", [header, ["#hero"]]), ("https://c.gov.tw/a", "t2", [header]),
             ("https://c.gov.tw/b", "t2", [header, ["#pic"]])]
    facts = SiteFacts(agency=Agency(name="x", url="https://c.gov.tw/"), a11y_status="ok")
    facts.a11y = [A11yPageResult(url=u, template=t, axe_version="4.10.2",
                                 violations=[_violation("image-alt", ["wcag2a", "wcag111"], nodes, "critical")])
                  for u, t, nodes in pages]
    findings, ctx = _run(facts)
    axe = [f for f in findings if not f.rule.startswith("tw-")]
    assert [(f.page, f.evidence["nodes"], f.evidence["pages_affected"]) for f in axe] == [
        ("https://c.gov.tw/", 2, 3), ("https://c.gov.tw/b", 1, 1)]
    assert axe[0].evidence["shared"] == [{"selector": "#logo > img", "pages": 3}]
    assert axe[0].evidence["pages"] == ["https://c.gov.tw/", "https://c.gov.tw/a", "https://c.gov.tw/b"]
    assert ctx.summary["accessibility"]["templates"]["t2"] == {
        "pages_tested": 2, "violations_by_rule": {"image-alt": {"pages": 2, "nodes": 3}}}


def test_not_run_reports_reason_and_no_axe_findings() -> None:
    facts = SiteFacts(agency=Agency(name="x", url="https://d.gov.tw/"), a11y_status="not_run",
                      a11y_detail="chromedriver not found at '/usr/bin/chromedriver'")
    ctx = AuditContext(today=date(2025, 1, 1))
    assert Accessibility().run(facts, ctx) == []
    assert ctx.summary["accessibility"]["status"] == "not_run"
    assert ctx.summary["accessibility"]["detail"].startswith("chromedriver not found")


def test_tag_mapping() -> None:
    assert wcag_criteria(["wcag2aa", "wcag1410", "wcag111", "best-practice"]) == ["1.4.10", "1.1.1"]
    assert wcag_level(["wcag21aa", "wcag2a"]) == "A"
    assert wcag_level(["wcag2aaa"]) == "AAA"
    assert wcag_level(["best-practice"]) is None
    assert freego_code("image-alt", ["1.1.1"]) == "HM1110100C"
    assert freego_code("bypass", ["2.4.1"]) == "HM1240102C"  # the only Freego code of SC 2.4.1
    assert freego_code("color-contrast", ["1.4.3"]) is None
    assert selector_text(["iframe", "img"]) == "iframe >> img"
    assert selector_text([["my-el", "button"]]) == "my-el >>> button"
    assert certificate_date("20170930131711") == date(2017, 9, 30)
    assert certificate_date("20171340000000") is None
