"""Freego v3 checks axe does not run, the badge rules of 標章核發辦法 §6, and `--a11y-level` (issue 18).

Facts-level tests build SiteFacts from markup and from real pages (../shared/realworld, read in place);
the end-to-end tests crawl real servers on 127.0.0.1 (accessibility off: the style sheets and the
badge image are fetched by the post-crawl gatherer); one test starts a browser to show that a site
claiming AAA gets axe's AAA rules (skipped without Chromium).
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from disclosure_helpers import build_site, realworld_site, run
from servers import Site

from checks.base import AuditContext
from checks.facts import A11yPageResult
from checks.freego import BadgeSection6, FreegoStatic, refresh_target, static_failures
from checks.taiwan_a11y import TaiwanAccessibility
from crawler.extract import extract_page, parse_document
from crawler.static_a11y import css_scan, dom_scan, image_size

BASE = "http://127.0.0.1:8000"
CERT = "https://accessibility.moda.gov.tw/Applications/Detail?category=20250101120000"


def png(width: int, height: int) -> bytes:
    """A complete, valid PNG of one colour (real bytes, not only a header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def codes_of(html: str) -> dict[str, int]:
    root = parse_document(html)
    return {code: entry["count"] for code, entry in dom_scan(root, BASE + "/")["codes"].items()}


def doc(body: str, head: str = "", lang: str = "zh-Hant") -> str:
    return f'<html lang="{lang}"><head><title>t</title>{head}</head><body>{body}</body></html>'


# ---------------------------------------------------------------------------------------------
# the gatherer's scans

def test_css_scan_flags_absolute_font_sizes_only() -> None:
    css = """/* p { font-size: 9px } in a comment */
    body { font-size: 100%; line-height: 1.5 }
    h1 { font-size: 2em } small { font-size: smaller } .v { font-size: calc(1rem + 1vw) }
    .a { font-size: 12px } .b{font-size:10.5PT;max-width:960px}
    @media print { .c { font-size: 0.8em; line-height: 18px } }
    .d { font: 12px Arial } .e { max-width: 40em } .f { font-size: 0 }"""
    found = css_scan(css)
    assert {c: e["count"] for c, e in found.items()} == {"CS2140401C": 2, "CS3140801C": 1, "CS3140802C": 1}
    assert found["CS2140401C"]["examples"] == [".a { font-size: 12px }", ".b { font-size: 10.5PT }"]
    assert found["CS3140802C"]["examples"] == [".c { line-height: 18px }"]


def test_dom_scan_each_static_code_fires_and_does_not() -> None:
    assert codes_of(doc('<div style="font-size:12px">x</div><style>p{font-size:9pt}</style>')) == {"CS2140401C": 2}
    assert codes_of(doc('<div style="font-size:1.2em">x</div><style>p{font-size:90%}</style>')) == {}
    assert codes_of(doc("<fieldset><input></fieldset><fieldset><legend> </legend></fieldset>")) == {"HM1130103C": 2}
    assert codes_of(doc("<fieldset><legend>聯絡方式</legend><input></fieldset>")) == {}
    assert codes_of(doc('<nav></nav><nav> </nav><nav hidden></nav><nav style="display: none"></nav>')) == \
        {"HM1240102C": 2}
    assert codes_of(doc('<nav><img src="m.png" alt="主選單"></nav><nav>選單</nav>')) == {}
    assert codes_of(doc('<img src="a.png" alt="" title="裝飾">')) == {"HM1110106C": 1}
    assert codes_of(doc('<img src="a.png" alt=""><img src="b.png" alt="圖" title="圖"><img src="c.png" title="x">')) == {}
    assert codes_of(doc("<center>x</center><font>y</font><marquee>z</marquee>")) == {"HM1410100C": 3}
    assert codes_of(doc('<p lang="zh-hant">中</p><p lang="en">English</p>')) == {"HM2310200C": 1}
    assert codes_of(doc('<a href="/a">A</a><a href="/b" title="B 頁">B</a><a href="/c"></a>')) == {"HM3240900C": 1}


def test_linked_style_sheets_and_badge_image_facts_are_recorded() -> None:
    html = doc('<div id="footer"><a href="' + CERT + '"><img src="/img/aa.png" alt="通過AA檢測等級無障礙網頁檢測" '
               'width="88" height="31"></a></div>',
               head='<link rel="stylesheet" href="css/site.css"><link rel="icon" href="/f.ico">'
                    '<link rel="alternate stylesheet" href="/alt.css">')
    facts = extract_page(html, BASE + "/index.html").facts
    assert facts.artifacts.freego["stylesheets"] == [f"{BASE}/css/site.css", f"{BASE}/alt.css"]
    assert facts.images == [{"src": "/img/aa.png", "alt": "通過AA檢測等級無障礙網頁檢測", "width": "88",
                             "height": "31", "link": CERT, "footer": True, "position": 1.0}]


def test_image_size_from_png_gif_jpeg_headers() -> None:
    assert image_size(png(88, 31)) == ("png", 88, 31)
    assert image_size(b"GIF89a" + struct.pack("<HH", 100, 40) + b"\x00" * 10) == ("gif", 100, 40)
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 31, 88) + b"\x00" * 10
    assert image_size(b"\xff\xd8" + app0 + sof0) == ("jpeg", 88, 31)
    assert image_size(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert image_size(b"\xff\xd8\xff\xe0") is None  # cut short


# ---------------------------------------------------------------------------------------------
# the checks

AA_BADGE = f'<footer><a href="{CERT}"><img src="/aa.png" alt="通過AA檢測等級無障礙網頁檢測" width="88" height="31"></a></footer>'


def test_findings_carry_code_level_and_are_grouped_over_pages() -> None:
    body = '<nav></nav><fieldset><input title="q"></fieldset><div style="font-size:12px">x</div>'
    facts = build_site({f"{BASE}/": doc(body + AA_BADGE), f"{BASE}/a.html": doc(body), f"{BASE}/b.html": doc("ok")})
    findings, ctx = run(FreegoStatic, facts)
    got = sorted((f.rule, f.severity, f.evidence["freego"], f.evidence["level"], f.page, f.evidence["pages_affected"])
                 for f in findings)
    assert got == [("freego-fieldset-legend-missing", "error", "HM1130103C", "A", f"{BASE}/", 2),
                   ("freego-font-size-absolute", "warning", "CS2140401C", "AA", f"{BASE}/", 2),
                   ("freego-nav-empty", "error", "HM1240102C", "A", f"{BASE}/", 2)]
    font = next(f for f in findings if f.rule == "freego-font-size-absolute")
    assert font.detail == ("Freego CS2140401C（AA 級，WCAG 1.4.4）：字型大小以 `px`、`pt` 等絕對單位指定（應使用 `em`、"
                           "百分比或具名尺寸），共 1 處，例如「<div style=\"font-size: 12px\">」（同樣情形共 2 頁，僅報告一次）。")
    summary = ctx.summary["accessibility"]["freego"]
    assert summary["level"] == "AA" and summary["pages_scanned"] == 3
    assert summary["not_judged"] == ["CS3140801C", "CS3140802C", "HM3240900C"]  # AAA, site claims AA


def test_aaa_rules_judged_only_at_aaa() -> None:
    aaa_badge = AA_BADGE.replace("AA檢測", "AAA檢測")
    body = '<a href="/x">更多</a><style>p{line-height:20px}</style>'
    aa = build_site({f"{BASE}/": doc(body + AA_BADGE)})
    assert [f.rule for f in run(FreegoStatic, aa)[0]] == []
    aaa = build_site({f"{BASE}/": doc(body + aaa_badge)})
    assert sorted(f.rule for f in run(FreegoStatic, aaa)[0]) == ["freego-line-height-absolute",
                                                                "freego-link-title-missing"]
    forced = sorted(f.rule for f in run(FreegoStatic, aa, a11y_level="AAA")[0])
    assert forced == ["freego-line-height-absolute", "freego-link-title-missing"]
    only_a = build_site({f"{BASE}/": doc('<div style="font-size:9pt">x</div>' + AA_BADGE)})
    assert run(FreegoStatic, only_a, a11y_level="A")[0] == []  # CS2140401C is AA


def test_aa_claim_with_px_fonts_fails_badge_level_without_a_browser() -> None:
    facts = build_site({f"{BASE}/": doc('<p style="font-size:12px">x</p>' + AA_BADGE)})
    findings, ctx = run(TaiwanAccessibility, facts, today=date(2026, 1, 1))
    [finding] = [f for f in findings if f.rule == "tw-badge-level-not-met"]
    assert finding.evidence["rules"] == [{"rule": "freego-font-size-absolute", "freego": "CS2140401C", "level": "AA",
                                          "pages": 1}]
    assert finding.evidence["freego_static"] == ["CS2140401C"] and finding.evidence["axe_ran"] is False
    assert "「字型大小使用絕對單位」（AA 級，Freego CS2140401C）" in finding.detail
    assert ctx.summary["accessibility"]["tw_rules"]["partial"] == ["tw-badge-level-not-met"]
    assert ctx.summary["accessibility"]["tw_rules"]["not_run"] == []
    a_claim = build_site({f"{BASE}/": doc('<p style="font-size:12px">x</p>' + AA_BADGE.replace("AA檢測", "A檢測"))})
    assert not [f for f in run(TaiwanAccessibility, a_claim, today=date(2026, 1, 1))[0]
                if f.rule == "tw-badge-level-not-met"]  # px fonts are AA: an A claim is kept


def test_instant_meta_refresh_is_judged_from_static_facts() -> None:
    facts = build_site({f"{BASE}/": doc('<a href="/go.html">go</a>' + AA_BADGE),
                        f"{BASE}/go.html": doc("<fieldset></fieldset>",
                                               head='<meta http-equiv="refresh" content="0; url=/new.html">'),
                        f"{BASE}/slow.html": doc("x", head='<meta http-equiv="refresh" content="300">')})
    assert refresh_target(facts.pages[1]) == f"{BASE}/new.html" and refresh_target(facts.pages[2]) is None
    violation = {"id": "image-alt", "tags": ["wcag2a", "wcag111"], "nodes": [{"target": ["img"]}]}
    facts.a11y_status = "ok"
    facts.a11y = [A11yPageResult(url=f"{BASE}/go.html", violations=[violation])]
    ctx = AuditContext(today=date(2026, 1, 1))
    from checks.accessibility import Accessibility

    assert Accessibility().run(facts, ctx) == []  # axe saw /new.html, not /go.html
    static = FreegoStatic().run(facts, ctx)
    assert [(f.rule, f.page) for f in static] == [("freego-fieldset-legend-missing", f"{BASE}/go.html")]
    assert ctx.summary["accessibility"]["freego"]["static_only"] == [{"url": f"{BASE}/go.html",
                                                                       "refresh": f"{BASE}/new.html"}]


def test_badge_size_and_placement() -> None:
    def badge(html: str, measured: dict | None = None) -> list[tuple[str, list[str]]]:
        facts = build_site({f"{BASE}/": doc(html), f"{BASE}/about.html": doc(AA_BADGE)})
        facts.artifacts.freego_assets = {"images": measured or {}}
        return [(f.rule, f.evidence["problems"]) for f in run(BadgeSection6, facts)[0]]

    assert badge("<main>內容</main>" + AA_BADGE, {f"{BASE}/aa.png": {"width": 88, "height": 31}}) == []
    assert badge("<main>內容</main>" + AA_BADGE, {f"{BASE}/aa.png": {"width": 100, "height": 36}}) == \
        [("tw-badge-size", ["image"])]
    assert badge("<main>內容</main>" + AA_BADGE.replace('width="88" height="31"', 'width="120" height="42"')) == \
        [("tw-badge-size", ["attributes"])]
    top = AA_BADGE.replace("<footer>", "<div>").replace("</footer>", "</div>")
    assert badge(top + "<main>" + "<p>內容</p>" * 20 + "</main>") == [("tw-badge-placement", ["not-at-bottom"])]
    unlinked = f'<a href="{CERT}">無障礙</a><p>x</p><footer><img src="/aa.png" alt="通過AA檢測等級無障礙網頁檢測"></footer>'
    assert badge(unlinked) == [("tw-badge-placement", ["not-linked-to-certificate"])]
    assert badge("<main>首頁沒有標章</main>") == [("tw-badge-placement", ["not-on-home"])]
    none = build_site({f"{BASE}/": doc("沒有標章")})
    assert run(BadgeSection6, none)[0] == []  # tw-badge-missing says it


# ---------------------------------------------------------------------------------------------
# real pages (../shared/realworld, read in place)

def test_realworld_taipei_a_plus_claim_with_pt_font_fails_level() -> None:
    """2019_tps cp_1 claims A+ (= AA) and has one `font-size: 12pt` style attribute: CS2140401C."""
    facts = realworld_site("HywebU00__2019_tps", ("mp_new.html", "cp_1.html"), BASE, "臺北市政府")
    findings, _ = run(FreegoStatic, facts)
    assert [(f.rule, f.page, f.evidence["examples"]) for f in findings] == \
        [("freego-font-size-absolute", f"{BASE}/cp_1.html", ['<span style="font-size: 12pt">'])]
    tw, _ = run(TaiwanAccessibility, facts, today=date(2026, 12, 1))
    [level] = [f for f in tw if f.rule == "tw-badge-level-not-met"]
    assert level.evidence["claimed_level"] == "A+" and level.evidence["freego_static"] == ["CS2140401C"]


def test_realworld_ncyu_badge_as_section_6_requires_and_font_elements() -> None:
    """NCYU's home page: 88 × 31 AA badge in the footer, linked to its certificate; two `<font>` (HM1410100C)."""
    facts = realworld_site("kevinhsu7361__NCYU", ("index202009.html", "html_news.htm"), BASE, "國立嘉義大學")
    assert run(BadgeSection6, facts)[0] == []
    findings, _ = run(FreegoStatic, facts)
    assert [(f.rule, f.severity, f.page, f.evidence["count"]) for f in findings] == \
        [("freego-deprecated-element", "error", f"{BASE}/index202009.html", 2)]
    assert static_failures(facts) == [  # every level; tw-badge-level-not-met keeps those up to the claim (AA)
        {"rule": "freego-deprecated-element", "freego": "HM1410100C", "level": "A", "pages": 1},
        {"rule": "freego-link-title-missing", "freego": "HM3240900C", "level": "AAA", "pages": 2}]
    tw, _ = run(TaiwanAccessibility, facts, today=date(2026, 12, 1))
    [level] = [f for f in tw if f.rule == "tw-badge-level-not-met"]
    assert level.evidence["freego_static"] == ["HM1410100C"] and level.evidence["level_a_failures"] == 1


# ---------------------------------------------------------------------------------------------
# end to end: real servers on 127.0.0.1, the style sheets and badge image fetched by the gatherer

def _site(css: str, badge: bytes, extra_head: str = "") -> Site:
    site = Site()
    head = '<link rel="stylesheet" href="/css/site.css">' \
           '<link rel="stylesheet" href="http://cdn.example.invalid/x.css">' + extra_head
    site.html("/", doc('<main><a href="/a.html">第一頁</a></main>' + AA_BADGE.replace('/aa.png', '/img/aa.png'), head))
    site.html("/a.html", doc("<p>內容</p>", head))
    site.routes["/css/site.css"] = (200, {"Content-Type": "text/css"}, css)
    site.routes["/img/aa.png"] = (200, {"Content-Type": "image/png"}, badge)
    return site.start()


def _audit(site: Site, out: Path) -> dict:
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site

    results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False, external="skip",
                                      today=date(2026, 1, 1)))
    return results["sites"][0]


def test_end_to_end_px_style_sheet_and_wrong_badge_size(tmp_path: Path) -> None:
    site = _site("body{font-size:100%}\n.menu a { font-size: 13px }\n", png(100, 36))
    try:
        entry = _audit(site, tmp_path)
    finally:
        site.stop()
    findings = {f["rule"]: f for f in entry["findings"]}
    sheet = f"{site.url}/css/site.css"
    font = findings["freego-font-size-absolute"]
    assert (font["page"], font["target"], font["severity"]) == (f"{site.url}/", sheet, "warning")
    assert font["evidence"]["examples"] == [".menu a { font-size: 13px }"] and font["evidence"]["pages_affected"] == 2
    size = findings["tw-badge-size"]
    assert (size["evidence"]["image_width"], size["evidence"]["image_height"], size["evidence"]["problems"]) == \
        (100, 36, ["image"])
    assert findings["tw-badge-level-not-met"]["evidence"]["freego_static"] == ["CS2140401C"]
    assert "tw-badge-placement" not in findings
    assert ("GET", "/css/site.css") in site.hits and ("GET", "/img/aa.png") in site.hits
    assert entry["accessibility"]["freego"]["stylesheets"] == {"scanned": 1, "unreadable": []}  # cdn: out of scope
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert "freego-font-size-absolute" in {f["rule"] for f in stored["sites"][0]["findings"]}


def test_end_to_end_clean_site_has_no_freego_or_section_6_finding(tmp_path: Path) -> None:
    site = _site("body{font-size:100%}\n.menu a { font-size: .9em; line-height: 1.4 }\n", png(88, 31))
    try:
        entry = _audit(site, tmp_path)
    finally:
        site.stop()
    rules = {f["rule"] for f in entry["findings"]}
    assert not {r for r in rules if r.startswith("freego-")}
    assert not rules & {"tw-badge-size", "tw-badge-placement", "tw-badge-level-not-met", "tw-badge-missing"}


# ---------------------------------------------------------------------------------------------
# --a11y-level: options, CLI, agencies.yaml, and axe's AAA rules in a real browser

def test_a11y_level_options_cli_and_config(tmp_path: Path) -> None:
    from crawler.a11y import AAA_RULES, A11yOptions
    from disclosure_audit.cli import build_parser, options_from_args
    from disclosure_audit.fleet_config import Limits
    from disclosure_audit.gatherers import a11y_level
    from disclosure_audit.options import AuditOptions

    assert json.loads(A11yOptions(level="AAA").axe_options_json())["rules"] == \
        {rule: {"enabled": True} for rule in AAA_RULES}
    assert json.loads(A11yOptions(level="A").axe_options_json())["runOnly"] == \
        {"type": "tag", "values": ["wcag2a", "wcag21a", "wcag22a"]}
    assert "rules" not in json.loads(A11yOptions().axe_options_json())
    with pytest.raises(ValueError):
        A11yOptions(level="AAAA")
    args = build_parser().parse_args(["crawl", "http://127.0.0.1/", "--out", str(tmp_path), "--a11y-level", "aaa"])
    opts = options_from_args(args, "http://127.0.0.1/")
    assert opts.a11y["level"] == "AAA" and opts.check_options["a11y_level"] == "AAA"
    assert Limits(a11y_level="A").a11y_level == "A"
    with pytest.raises(ValueError):
        Limits(a11y_level="B")
    claims_aaa = build_site({f"{BASE}/": doc(AA_BADGE.replace("AA檢測", "AAA檢測"))})
    claims_aa = build_site({f"{BASE}/": doc(AA_BADGE)})
    plain = AuditOptions(url=BASE, out_dir=tmp_path)
    assert (a11y_level(claims_aaa, plain), a11y_level(claims_aa, plain)) == ("AAA", None)
    assert a11y_level(claims_aaa, AuditOptions(url=BASE, out_dir=tmp_path, a11y={"level": "A"})) == "A"


def test_aaa_level_runs_color_contrast_enhanced_in_the_browser() -> None:
    from crawler.a11y import A11yOptions, run_accessibility

    options = A11yOptions()
    if not (Path(options.chromium).exists() and Path(options.chromedriver).exists()):
        pytest.skip("Chromium or chromedriver not installed")
    site = Site()  # #767676 on white: 4.54:1, enough for AA (4.5), not for AAA (7)
    site.html("/", doc('<main><h1>標題</h1><p style="color:#767676;background:#fff">灰色文字</p></main>'))
    site.start()
    try:
        aa, aaa = (run_accessibility([(site.url + "/", "home", None)],
                                     A11yOptions(level=level, rules=None)) for level in (None, "AAA"))
    finally:
        site.stop()
    assert aa.status == "ok" and aaa.status == "ok", (aa.detail, aaa.detail)
    assert "color-contrast-enhanced" not in {v["id"] for v in aa.results[0].violations}
    assert "color-contrast-enhanced" in {v["id"] for v in aaa.results[0].violations}
