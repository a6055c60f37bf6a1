"""Content and layout rules of issue 18 (checks/content.py, docs/rules-content.md).

Real pages (INDEX §1, §5) at the facts level: the footer contact details of every home page, which pages
are content pages, the §7 item 3 hook. Real servers on 127.0.0.1: an audit of a site with the defects and
one without (each rule firing and not firing), and one browser for the 360 × 640 layout measurement.
"""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from disclosure_helpers import build_site, realworld_dir
from paths import ROOT
from realworld_sites import HOMES
from servers import Site

from checks.base import AuditContext
from checks.content import (
    EnglishVersionCheck,
    FooterContactCheck,
    MobileLayoutCheck,
    detect_features,
    footer_contact,
    footer_contact_evidence,
    missing_clauses,
    not_content_reason,
)
from checks.facts import A11yPageResult, Agency, SiteFacts
from crawler.extract import extract_page
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

B = "http://127.0.0.1:8000"
TODAY = date(2026, 12, 1)

# the dates work (content-region dates, <dt>/<dd> pairs) is on main once this merge commit exists
DATES_LANDED = "merge branch 'dates'" in subprocess.run(
    ["git", "-C", str(ROOT), "log", "--oneline", "-200"],
    capture_output=True, text=True, check=False).stdout.lower()


def realworld_facts(folder: str) -> SiteFacts:
    """Every HTML page of a folder, home page first (depth 0), the others one click deep."""
    root = realworld_dir(folder)
    home = HOMES[folder]
    files = [home] + sorted(str(p.relative_to(root)) for p in root.rglob("*.htm*") if str(p.relative_to(root)) != home)
    facts = build_site({f"{B}/{name}": (root / name).read_text(encoding="utf-8-sig", errors="replace")
                        for name in files})
    for i, page in enumerate(facts.pages):
        page.depth = 0 if i == 0 else 1
    return facts


# ---------------------------------------------------------------------------------------------
# Footer contact on the real home pages: the parts each footer lacks (our reading of each footer)

FOOTER_MISSING = {
    "HywebU00__2021_mol_c_old": ["hours"],             # address and 0800 line; fax 886-2-8590-2960 is no phone
    "HywebU00__2020_ith_passport": ["hours"],
    "HywebU00__2019_tps": [],                          # 開放時間 counts as service hours
    "HywebU00__2023_NHI": [],
    "HywebU00__2023Taichung_main": [],
    "HywebU00__2022Taichung": [],                      # 辦公時間︰8:00 (U+FE30 colon)
    "HywebU00__2020_moe_portal": [],
    "HywebU00__2018_BSMI": [],
    "HywebU00__2022_roads": [],                        # (02)2307­0123 with a soft hyphen, #1303 extension
    "HywebU00__2021_epa_tcsb_weedControl": [],
    "HywebU00__2020_ntpc": [],
    "HywebU00__2018_gazette": ["address"],             # 服務專線 and hours, no address
    "HywebU00__2015CivilAffairs": [],
    "HywebU00__2016_mohw_e": ["hours"],                # English address (No.488, … Rd.) and Tel
    "HywebU00__2021_keelung_gov": [],                  # the fat footer holds the address block
    "kevinhsu7361__NCYU": ["hours"],
}


@pytest.mark.parametrize("folder", sorted(FOOTER_MISSING))
def test_footer_contact_of_every_real_home_page(folder: str) -> None:
    facts = realworld_facts(folder)
    ctx = AuditContext(today=TODAY)
    findings = FooterContactCheck().run(facts, ctx)
    contact = footer_contact(facts)
    assert contact is not None and contact.source == "footer"
    assert contact.missing == FOOTER_MISSING[folder]
    expected = [("footer-contact-incomplete", f"{B}/{HOMES[folder]}", FOOTER_MISSING[folder])] \
        if FOOTER_MISSING[folder] else []
    assert [(f.rule, f.page, f.evidence["missing"]) for f in findings] == expected
    # §7 item 3 evidence: the home page when the footer gives an address and a telephone
    has_both = "address" not in contact.missing and "phone" not in contact.missing
    assert footer_contact_evidence(facts) == ([f"{B}/{HOMES[folder]}"] if has_both else [])


def test_footer_values_read_from_real_footers() -> None:
    roads = footer_contact(realworld_facts("HywebU00__2022_roads"))
    assert roads is not None and roads.found["phone"] == "(02)2307-0123 #1303"
    keelung = footer_contact(realworld_facts("HywebU00__2021_keelung_gov"))
    assert keelung is not None and keelung.found["address"] == "(20201)基隆市中正區義一路1號"
    mol = footer_contact(realworld_facts("HywebU00__2021_mol_c_old"))
    assert mol is not None and mol.found["phone"] != "886-2-8590-2960"  # the fax number


def test_without_a_footer_marker_the_last_lines_are_read() -> None:
    html = ("<html><body><div id='main'><p>最新消息</p></div><div><p>地址：100 臺北市中正區重慶南路一段122號</p>"
            "<p>電話：(02)2311-3731</p></div></body></html>")
    facts = build_site({f"{B}/": html})
    contact = footer_contact(facts)
    assert contact is not None and (contact.source, contact.missing) == ("tail", ["hours"])


# ---------------------------------------------------------------------------------------------
# Which real pages are content pages (decided from facts: address, site map feature, dated rows)

PAGE_KINDS = {
    "HywebU00__2021_mol_c_old": {"mptest.html": "home", "ap02_statistics01_test01.html": None,
                                 "mptest2.html": "list", "sitemap.html": "list", "test.html": "list"},
    "HywebU00__2023_NHI": {"mp.html": "home", "Sitemap.html": "list", "cp01.html": None, "lp01.html": "list"},
    "HywebU00__2022Taichung": {"mp.html": "home", "cp.html": None, "lp_openData.html": "list",
                               "sitemap.html": "sitemap"},
    "HywebU00__2018_gazette": {"mp.html": "home", "SP3.html": None, "Sitemap.html": "list"},
    "HywebU00__2018_BSMI": {"hsinchu/mp.htm": "home", "hsinchu/cp.htm": "list",  # 13 dated attachment rows
                            "hsinchu/lp.htm": "list", "hsinchu/sitemap.htm": "sitemap"},
    "HywebU00__2021_keelung_gov": {"mp.htm": "home", "cp01.htm": None, "lp01.htm": "list", "sitemap.htm": "list"},
}


@pytest.mark.parametrize("folder", sorted(PAGE_KINDS))
def test_content_pages_of_real_sites(folder: str) -> None:
    facts = realworld_facts(folder)
    sitemaps = frozenset(detect_features(facts)["sitemap"].evidence)
    kinds = {p.url.removeprefix(B + "/"): not_content_reason(facts, p, sitemaps) for p in facts.pages}
    assert kinds == PAGE_KINDS[folder]


UNDATED = [
    ("HywebU00__2018_gazette", "SP3.html", True),       # the about page shows no date at all
    ("HywebU00__2021_keelung_gov", "cp01.htm", False),  # 發布日期 / 更新日期 2018-03-20 in the content
    ("HywebU00__2019_tps", "cp_1.html", False),         # 發布日期：2018年8月13日
    pytest.param("HywebU00__2023_NHI", "cp01.html", False,  # <dt>更新日期</dt><dd>111-08-05</dd>
                 marks=pytest.mark.xfail(not DATES_LANDED, strict=True,
                                         reason="<dt>/<dd> dates are read once the dates branch is merged")),
]


@pytest.mark.parametrize(("folder", "name", "undated"), UNDATED)
def test_missing_update_date_on_real_content_pages(folder: str, name: str, undated: bool) -> None:
    from checks.content import UpdateDateCheck

    facts = realworld_facts(folder)
    findings = UpdateDateCheck().run(facts, AuditContext(today=TODAY))
    assert (f"{B}/{name}" in [f.page for f in findings]) is undated


# ---------------------------------------------------------------------------------------------
# Open-data declaration clauses (the standard text of 行政院; our own sentences here)

FULL = ("一、授權方式及範圍：本網站刊載之所有資料與素材，以無償、非專屬，得再授權之方式提供公眾使用，使用者得重製、"
        "改作、編輯、公開傳輸，此一授權行為不會嗣後撤回；然使用時，應註明出處。")


def test_clause_matching() -> None:
    assert missing_clauses(FULL) == []
    assert [c["id"] for c in missing_clauses("政府網站資料開放宣告")] == [
        "scope", "free", "non-exclusive", "sublicensable", "uses", "attribution"]
    assert missing_clauses("本網站資料以「政府資料開放授權條款－第1版」釋出。") == []  # OGDL by reference
    # 不會嗣後撤回 is recorded but not required
    assert [c["id"] for c in missing_clauses(FULL.replace("此一授權行為不會嗣後撤回", ""), required_only=False)] \
        == ["irrevocable"]
    assert missing_clauses(FULL.replace("此一授權行為不會嗣後撤回", "")) == []


# ---------------------------------------------------------------------------------------------
# End to end on 127.0.0.1: a site with every defect, and one without

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _page(title: str, body: str, *, viewport: bool = True, lang: str = "zh-Hant-TW",
          footer: str = "地址：100 臺北市中正區示範路1號 電話：(02)2000-0000 服務時間：週一至週五 08:30-17:30") -> str:
    head = f'<meta charset="utf-8">{VIEWPORT if viewport else ""}<title>{title}</title>'
    nav = ('<a href="/open-data.html">政府網站資料開放宣告</a> <a href="/en/">English</a> '
           '<a href="/news/lp.html">最新消息</a>')
    return (f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body><nav>{nav}</nav>'
            f"<main><h1>{title}</h1>{body}</main><footer><p>{footer}</p></footer></body></html>")


def _serve(good: bool) -> Site:
    site = Site().start()
    footer = {} if good else {"footer": "電話：(02)2000-0000"}
    site.html("/", _page("示範機關", '<a href="/news/a.html">新聞一</a> <a href="/news/b.html">新聞二</a>', **footer))
    declaration = FULL if good else "本網站資料歡迎利用。"
    site.html("/open-data.html", _page("政府網站資料開放宣告", f"<p>{declaration}</p><p>更新日期：115-10-01</p>"))
    site.html("/news/lp.html", _page("最新消息", "<ul>" + "".join(
        f'<li><a href="/news/a.html">消息{i}</a> 115-0{i}-01</li>' for i in range(1, 7)) + "</ul>"))
    site.html("/news/a.html", _page("新聞一", "<p>更新日期：115-11-20</p><p>內容</p>"))
    site.html("/news/b.html", _page("新聞二", "<p>更新日期：115-11-01</p>" if good else "<p>沒有日期</p>",
                                    viewport=good))
    en_date = "2026-10-01" if good else "2024-01-05"
    site.html("/en/", _page("English", f"<p>Last updated: {en_date}</p><p>更新日期：{en_date}</p>", lang="en"))
    return site


def _audit(good: bool, tmp_path: Path) -> dict:
    site = _serve(good)
    try:
        results = audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, today=TODAY, accessibility=False,
                                          external="skip"))
    finally:
        site.stop()
    entry = results["sites"][0]
    entry["_base"] = site.url
    return entry


def _content_findings(entry: dict) -> list[tuple[str, str, str]]:
    base = entry["_base"]
    return sorted((f["rule"], f["page"].removeprefix(base), f["severity"])
                  for f in entry["findings"] if f["check"] == "content")


def test_site_with_defects(tmp_path: Path) -> None:
    entry = _audit(False, tmp_path)
    assert _content_findings(entry) == [
        ("english-version-behind", "/en/", "notice"),
        ("footer-contact-incomplete", "/", "warning"),
        ("missing-update-date", "/news/b.html", "warning"),
        ("open-data-declaration-incomplete", "/open-data.html", "warning"),
        ("viewport-missing", "/news/b.html", "notice"),
    ]
    by_rule = {f["rule"]: f for f in entry["findings"] if f["check"] == "content"}
    assert by_rule["footer-contact-incomplete"]["evidence"]["missing"] == ["address", "hours"]
    assert by_rule["footer-contact-incomplete"]["detail"] == "首頁頁尾未提供機關地址、服務時間。"
    assert by_rule["open-data-declaration-incomplete"]["evidence"]["missing"] == [
        "scope", "free", "non-exclusive", "sublicensable", "uses", "attribution"]
    lag = by_rule["english-version-behind"]["evidence"]
    assert (lag["english_newest"], lag["chinese_newest"], lag["lag_days"]) == ("2024-01-05", "2026-11-20", 1050)
    content = entry["content"]
    assert content["update_dates"] == {"content_pages": 3, "undated": 1}  # a, b, open-data; lp is a list
    assert content["footer_contact"]["missing"] == ["address", "hours"]
    # no address in the footer: nothing recorded beside item 3
    item3 = next(c for c in entry["disclosure"]["categories"] if c["item"] == 3)
    assert "footer_contact" not in item3


def test_site_without_defects(tmp_path: Path) -> None:
    entry = _audit(True, tmp_path)
    assert _content_findings(entry) == []
    content = entry["content"]
    assert content["footer_contact"]["missing"] == []
    assert content["open_data_declaration"] == [{"page": entry["_base"] + "/open-data.html", "missing": []}]
    assert content["english_version"]["english_newest"] == "2026-10-01"
    item3 = next(c for c in entry["disclosure"]["categories"] if c["item"] == 3)
    assert item3["footer_contact"] == [entry["_base"] + "/"]


# ---------------------------------------------------------------------------------------------
# 360 × 640 in the browser (one browser for the module)

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


@pytest.mark.skipif(not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()), reason="Chromium/chromedriver not installed")
def test_horizontal_scroll_measured_at_phone_size() -> None:
    from crawler.a11y import A11yOptions, run_accessibility

    site = Site().start()
    site.html("/wide.html", f'<!DOCTYPE html><html lang="zh-Hant"><head>{VIEWPORT}<title>寬</title></head>'
              '<body><main><h1>寬</h1><div style="width:1000px">固定寬度表格</div></main></body></html>')
    site.html("/fluid.html", f'<!DOCTYPE html><html lang="zh-Hant"><head>{VIEWPORT}<title>流動</title></head>'
              '<body><main><h1>流動</h1><p style="max-width:100%">自適應內容</p></main></body></html>')
    try:
        run = run_accessibility([(f"{site.url}/wide.html", "home", "t1"), (f"{site.url}/fluid.html", "random", "t2")],
                                A11yOptions(page_timeout_s=10, script_timeout_s=10, extra_args=[LOOPBACK_ONLY]))
    finally:
        site.stop()
    assert run.status == "ok"
    layouts = {r.url.removeprefix(site.url): r.layout for r in run.results}
    assert layouts["/wide.html"]["scroll_width"] >= 1000
    assert layouts["/wide.html"]["client_width"] <= 360
    assert layouts["/fluid.html"]["scroll_width"] == layouts["/fluid.html"]["client_width"]
    facts = SiteFacts(agency=Agency(name="示範", url=f"{site.url}/wide.html"), a11y=run.results)
    findings = MobileLayoutCheck().run(facts, AuditContext(today=TODAY))
    assert [(f.rule, f.page.removeprefix(site.url)) for f in findings] == [("horizontal-scroll", "/wide.html")]


def test_horizontal_scroll_judged_from_stored_layout() -> None:
    results = [A11yPageResult(url=f"{B}/a.html", layout={"width": 360, "height": 640, "scroll_width": 980,
                                                         "client_width": 360}),
               A11yPageResult(url=f"{B}/b.html", layout={"width": 360, "height": 640, "scroll_width": 360,
                                                         "client_width": 345}),  # a desktop scroll bar
               A11yPageResult(url=f"{B}/c.html")]  # not measured (an older run): nothing judged
    facts = SiteFacts(agency=Agency(name="示範", url=f"{B}/"), a11y=results)
    findings = MobileLayoutCheck().run(facts, AuditContext(today=TODAY))
    assert [(f.rule, f.page, f.evidence["scroll_width"]) for f in findings] == [("horizontal-scroll", f"{B}/a.html", 980)]
    assert findings[0].detail == "以 360 × 640 的手機畫面瀏覽時須左右捲動（內容寬 980 像素，畫面寬 360 像素）。"


def test_english_site_out_of_scope_is_not_judged() -> None:
    home = ('<html><head><title>勞動部</title></head><body><a href="https://english.mol.gov.tw/">English</a>'
            "<p>更新日期：2021/06/01</p></body></html>")
    facts = build_site({f"{B}/": home})
    ctx = AuditContext(today=TODAY)
    assert EnglishVersionCheck().run(facts, ctx) == []
    assert "english_version" not in ctx.summary.get("content", {})  # the English host was never verified


def test_footer_line_recorded_by_the_extractor() -> None:
    html = "<html><body><p>內容</p><article><footer>文章頁尾</footer></article><footer><p>頁尾</p></footer></body></html>"
    facts = extract_page(html, B).facts
    assert facts.text.split("\n")[facts.artifacts.footer_line] == "頁尾"  # an article's own footer is not it
    assert extract_page("<html><body><p>內容</p></body></html>", B).facts.artifacts.footer_line is None
