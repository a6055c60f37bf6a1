"""主動公開資訊: the area, the ten §7 I items with evidence, dead links, service information."""

from __future__ import annotations

import pytest
from disclosure_helpers import build_site, by_rule, keelung_site, ncyu_site, page, run

from checks import audit
from checks.disclosure import DisclosureCoverage, is_section_label
from checks.facts import LinkResult
from checks.textnorm import norm

B = "http://127.0.0.1:8000"


def a(href: str, text: str) -> str:
    return f'<a href="{href}">{text}</a>'


def disclosure_site() -> tuple[dict[str, str], dict[str, LinkResult]]:
    pages = {
        f"{B}/index.htm": page(
            "<nav>" + a("open.htm", "主動公開資訊") + a("faq.htm", "常見問答") + a("news.htm", "最新消息") + "</nav>"
            "<footer>" + a("#", "政府資訊公開") + "</footer>"
        ),
        f"{B}/open.htm": page(
            "<h1>主動公開資訊</h1><ul>"
            + a("laws.htm", "法規查詢")
            + a("interp.htm", "解釋函令")  # 404
            + a("org.htm", "組織職掌")
            + a("#", "行政指導")  # points nowhere
            + a("plan.htm", "施政計畫")
            + a("budget.htm", "預算及決算書")
            + a("http://petition.invalid/", "請願及訴願")  # dns failure
            + a("http://web.pcc.invalid/tps", "政府採購")  # never checked: unverified, not found
            + a("subsidy.htm", "補（捐）助")  # full-width parentheses
            + a("committee.htm", "委員會專區")  # item 10 only through the target's title
            + "</ul>",
            title="主動公開資訊 - 測試市政府",
        ),
        f"{B}/laws.htm": page("<h1>法規查詢</h1>", title="法規查詢 - 測試市政府"),
        f"{B}/org.htm": page("<h1>組織職掌</h1>", title="組織職掌 - 測試市政府"),
        f"{B}/plan.htm": page("<h1>施政計畫</h1>", title="施政計畫 - 測試市政府"),
        f"{B}/budget.htm": page("<h1>預決算</h1>", title="預算書 - 測試市政府"),
        f"{B}/subsidy.htm": page("<h1>補助</h1>", title="補助 - 測試市政府"),
        f"{B}/committee.htm": page("<h1>委員會</h1>", title="委員會會議紀錄 - 測試市政府"),
        f"{B}/faq.htm": page("<h1>常見問答</h1>", title="常見問答 - 測試市政府"),
        f"{B}/news.htm": page("<h1>最新消息</h1>", title="最新消息 - 測試市政府"),
    }
    results = {
        f"{B}/interp.htm": LinkResult(url=f"{B}/interp.htm", status=404),
        "http://petition.invalid/": LinkResult(url="http://petition.invalid/", error="dns"),
    }
    return pages, results


def test_section_and_ten_items_with_evidence() -> None:
    pages, results = disclosure_site()
    facts = build_site(pages, results=results)
    findings, ctx = run(DisclosureCoverage, facts)
    summary = ctx.summary["disclosure"]
    assert summary["section_urls"] == [f"{B}/open.htm"]
    assert summary["search_scope"] == "section"
    got = {c["item"]: (c["found"], c["evidence"]) for c in summary["categories"]}
    assert got == {
        1: (True, [f"{B}/laws.htm"]),
        2: (False, []),
        3: (True, [f"{B}/org.htm"]),
        4: (False, []),
        5: (True, [f"{B}/plan.htm"]),
        6: (True, [f"{B}/budget.htm"]),
        7: (False, []),
        8: (False, []),
        9: (True, [f"{B}/subsidy.htm"]),
        10: (True, [f"{B}/committee.htm"]),
    }
    names = [c["name"] for c in summary["categories"]]
    assert names[5] == "預算及決算書" and names[9] == "合議制機關之會議紀錄"
    dead = {c["item"]: [(d["target"], d["reason"]) for d in c.get("dead_evidence", [])]
            for c in summary["categories"]}
    assert dead[2] == [(f"{B}/interp.htm", "http:404")]
    assert dead[4] == [(f"{B}/open.htm", "self")]
    assert dead[7] == [("http://petition.invalid/", "error:dns")]
    statuses = [c["status"] for c in summary["categories"]]
    assert statuses == ["found", "dead", "found", "dead", "found", "found", "dead", "unverified", "found", "found"]
    assert summary["categories"][7]["unverified_evidence"] == [
        {"page": f"{B}/open.htm", "target": "http://web.pcc.invalid/tps", "text": "政府採購", "reason": "unverified"}
    ]
    # an item whose only link was never checked is indeterminate: its own rule, never "missing"
    unverified = by_rule(findings, "unverified-disclosure-category")
    assert [(f.evidence["item"], f.severity) for f in unverified] == [(8, "notice")]
    assert by_rule(findings, "missing-disclosure-section") == []
    missing = by_rule(findings, "missing-disclosure-category")
    assert [(f.evidence["item"], f.page, f.target, f.severity) for f in missing] == [
        (2, f"{B}/open.htm", None, "warning"),
        (4, f"{B}/open.htm", None, "warning"),
        (7, f"{B}/open.htm", None, "warning"),
    ]
    # the footer's 政府資訊公開 → "#" is recorded, but a usable area exists
    assert summary["dead_section_links"] == [
        {"page": f"{B}/index.htm", "target": f"{B}/index.htm", "text": "政府資訊公開", "reason": "self"}
    ]


def test_service_information_faq_news_publications() -> None:
    pages, results = disclosure_site()
    pages[f"{B}/index.htm"] = pages[f"{B}/index.htm"].replace("</nav>", a("pub.htm", "政府出版品") + "</nav>")
    pages[f"{B}/pub.htm"] = page("<h1>出版品</h1>", title="出版品 - 測試市政府")
    facts = build_site(pages, results=results)
    _, ctx = run(DisclosureCoverage, facts)
    info = ctx.summary["service_info"]
    assert info["faq"] == {"name": "常見問答", "found": True, "status": "found", "evidence": [f"{B}/faq.htm"]}
    assert info["news"] == {"name": "最新消息", "found": True, "status": "found", "evidence": [f"{B}/news.htm"]}
    assert info["publications"] == {"name": "出版品", "found": True, "status": "found", "evidence": [f"{B}/pub.htm"]}


def test_section_found_at_any_depth_and_with_full_width_text() -> None:
    pages = {
        f"{B}/index.htm": page(a("sitemap.htm", "網站導覽")),
        f"{B}/sitemap.htm": page("<ul><li>" + a("a/b/c/open.htm", "政府資訊公開　專區") + "</li></ul>"),
        f"{B}/a/b/c/open.htm": page("<p>" + a("rules.htm", "主管法規") + a("faq.htm", "ＦＡＱ") + "</p>",
                                    title="測試市政府"),
        f"{B}/a/b/c/rules.htm": page("<h1>主管法規</h1>"),
        f"{B}/a/b/c/faq.htm": page("<h1>FAQ</h1>"),
    }
    facts = build_site(pages)
    _, ctx = run(DisclosureCoverage, facts)
    assert ctx.summary["disclosure"]["section_urls"] == [f"{B}/a/b/c/open.htm"]
    found = {c["item"] for c in ctx.summary["disclosure"]["categories"] if c["found"]}
    assert found == {1}
    assert ctx.summary["service_info"]["faq"]["evidence"] == [f"{B}/a/b/c/faq.htm"]


def test_no_section_falls_back_to_the_whole_site() -> None:
    pages = {
        f"{B}/index.htm": page(a("laws.htm", "法規") + a("budget.htm", "預算書")),
        f"{B}/laws.htm": page("<h1>法規</h1>"),
        f"{B}/budget.htm": page("<h1>預算書</h1>"),
    }
    facts = build_site(pages)
    findings, ctx = run(DisclosureCoverage, facts)
    section = by_rule(findings, "missing-disclosure-section")
    assert [(f.page, f.target, f.severity, f.evidence) for f in section] == [
        (f"{B}/index.htm", None, "error", {"dead_links": []})
    ]
    summary = ctx.summary["disclosure"]
    assert summary["search_scope"] == "site" and summary["section_urls"] == []
    assert {c["item"] for c in summary["categories"] if c["found"]} == {1, 6}
    missing = by_rule(findings, "missing-disclosure-category")
    assert [f.evidence["item"] for f in missing] == [2, 3, 4, 5, 7, 8, 9, 10]
    assert all(f.evidence["scope"] == "site" for f in missing)

    findings, ctx = run(DisclosureCoverage, facts, disclosure_sitewide_fallback=False)
    assert ctx.summary["disclosure"]["search_scope"] == "none"
    assert len(by_rule(findings, "missing-disclosure-category")) == 10


LABELS = [
    ("主動公開資訊", True), ("政府資訊公開", True), ("資訊公開", True), ("資訊公開專區", True),
    ("臺北市政府－主動公開資訊", True), ("基隆市政府 - 資訊公開", True), ("政府資訊公開　專區", True),
    ("財務資訊公開", False), ("校務資訊公開", False), ("校務研究資訊公開平台", False),
    ("政府資訊公開法", False), ("行政院環境保護署資訊公開要點", False), ("", False), ("最新消息", False),
]


@pytest.mark.parametrize(("text", "expected"), LABELS)
def test_section_labels(text: str, expected: bool) -> None:
    assert is_section_label(text) is expected


def test_normalisation_of_width_and_tai() -> None:
    assert norm("臺北市 ＦＡＱ　（補助）") == norm("台北市FAQ(補助)") == "台北市faq(補助)"


def test_run_checks_keeps_the_ten_item_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """audit.run_checks de-duplicates on (rule, page, target) but tells target-less findings apart
    by their evidence item, so the ten missing-disclosure-category findings all survive."""
    from datetime import date

    from checks.base import AuditContext

    monkeypatch.setattr(audit, "load_checks", lambda: [DisclosureCoverage])
    facts = build_site({f"{B}/index.htm": page("<p>nothing</p>")})
    findings = audit.run_checks(facts, AuditContext(today=date(2024, 6, 1)))
    assert [f.evidence["item"] for f in findings if f.rule == "missing-disclosure-category"] == list(range(1, 11))
    assert len(by_rule(findings, "missing-disclosure-section")) == 1


# ---------------------------------------------------------------------------------------------
# real pages


def test_keelung_footer_label_points_to_hash() -> None:
    facts = keelung_site()
    mp = f"{B}/mp.htm"
    for p in facts.pages:  # as crawled from the home page: the other pages are one click away
        p.depth = 0 if p.url == mp else 1
    # the label is there (fat footer, line 858: <a href="# ">政府資訊公開</a>) ...
    assert any(link.source == mp and link.text == "政府資訊公開" for link in facts.links)
    findings, ctx = run(DisclosureCoverage, facts)
    # ... but its target is the page itself: no usable area
    section = by_rule(findings, "missing-disclosure-section")
    assert len(section) == 1
    assert (section[0].page, section[0].target) == (mp, mp)
    dead = section[0].evidence["dead_links"]
    assert {"page": mp, "target": mp, "text": "政府資訊公開", "reason": "self"} in dead
    assert ctx.summary["disclosure"]["section_urls"] == []
    # the footer's items (預算及會計月報, 法規專區…) are "#" links too: nothing counts as found
    categories = ctx.summary["disclosure"]["categories"]
    assert [c["found"] for c in categories] == [False] * 10
    # item 3 (地址、電話): the fat footer gives both; recorded beside the item, not as its evidence (issue 18)
    assert categories[2]["footer_contact"] == [mp]
    assert any(d["text"] == "預算及會計月報" for d in categories[5]["dead_evidence"])
    assert len(by_rule(findings, "missing-disclosure-category")) == 10


def test_ncyu_has_no_disclosure_section() -> None:
    facts = ncyu_site()
    texts = {link.text for link in facts.links}
    assert {"財務資訊公開", "校務資訊公開"} <= texts  # 資訊公開 only inside other names
    findings, ctx = run(DisclosureCoverage, facts)
    section = by_rule(findings, "missing-disclosure-section")
    assert [(f.page, f.target, f.evidence) for f in section] == [
        (f"{B}/index202009.html", None, {"dead_links": []})
    ]
    assert ctx.summary["disclosure"]["section_urls"] == []
    assert ctx.summary["disclosure"]["search_scope"] == "site"
    # the FAQ links lead to pages not in the set (absolute www.ncyu.edu.tw URLs, never requested):
    # seen, but not verified live
    assert ctx.summary["service_info"]["faq"]["found"] is False
    assert ctx.summary["service_info"]["faq"]["status"] == "unverified"


# ---------------------------------------------------------------------------------------------
# issue 16: what names an item, what the evidence is, zh-TW wording


def test_an_application_system_is_not_the_published_list_of_subsidies() -> None:
    pages = {
        f"{B}/index.htm": page(a("open.htm", "主動公開資訊")),
        f"{B}/open.htm": page(a("apply.htm", "補助申請系統") + a("programme.htm", "視覺藝術補助要點")
                              + a("list.htm", "補助") + a("law.htm", "法律扶助"), title="主動公開資訊"),
        f"{B}/apply.htm": page("<h1>補助申請系統</h1>"),
        f"{B}/programme.htm": page("<h1>要點</h1>"),
        f"{B}/list.htm": page("<h1>補助</h1>"),
        f"{B}/law.htm": page("<h1>扶助</h1>"),
    }
    _, ctx = run(DisclosureCoverage, build_site(pages))
    categories = ctx.summary["disclosure"]["categories"]
    assert categories[8]["evidence"] == [f"{B}/list.htm"]  # only the list named 補助 as a whole
    assert categories[0]["status"] == "missing"  # 法律扶助 is legal aid, not a law


def test_the_start_page_is_never_evidence() -> None:
    """A home page whose every link is '#' has headings naming items: they are blocks of the home
    page, not the published documents (issue 16 item 3)."""
    body = "<h1>測試市政府</h1><h2>法規查詢</h2><h3>組織職掌</h3>" + a("#", "法規查詢") + a("#", "組織職掌")
    facts = build_site({f"{B}/index.htm": page(body, title="法規查詢 - 組織職掌")})
    findings, ctx = run(DisclosureCoverage, facts)
    categories = ctx.summary["disclosure"]["categories"]
    assert [(c["item"], c["status"]) for c in categories[:3]] == [(1, "dead"), (2, "missing"), (3, "dead")]
    assert all(c["evidence"] == [] for c in categories)
    assert len(by_rule(findings, "missing-disclosure-category")) == 10


def test_the_area_anchor_is_shallowest_then_strongest_then_url() -> None:
    pages = {
        f"{B}/index.htm": page(a("z-open.htm", "資訊公開") + a("a-open.htm", "資訊公開")
                               + a("y-open.htm", "主動公開資訊")),
        f"{B}/z-open.htm": page("<p>z</p>", title="資訊公開"),
        f"{B}/a-open.htm": page("<p>a</p>", title="資訊公開"),
        f"{B}/y-open.htm": page("<p>y</p>", title="主動公開資訊"),
        f"{B}/deep/open.htm": page("<p>deep</p>", title="主動公開資訊"),
    }
    depth = {url: {"depth": 0 if url.endswith("index.htm") else 2 if "/deep/" in url else 1} for url in pages}
    for order in (list(pages), list(reversed(pages))):
        facts = build_site({u: pages[u] for u in order}, home=f"{B}/index.htm", meta=depth)
        findings, ctx = run(DisclosureCoverage, facts)
        assert ctx.summary["disclosure"]["section_urls"] == [
            f"{B}/y-open.htm", f"{B}/a-open.htm", f"{B}/z-open.htm", f"{B}/deep/open.htm"]
        assert {f.page for f in by_rule(findings, "missing-disclosure-category")} == {f"{B}/y-open.htm"}


def test_item_names_are_never_cut_and_reasons_read_as_chinese() -> None:
    from checks.disclosure import item_names

    facts = build_site({f"{B}/index.htm": page(a("#", "政府資訊公開") + a("#", "行政指導"))})
    findings, _ = run(DisclosureCoverage, facts)
    missing = {f.evidence["item"]: f for f in by_rule(findings, "missing-disclosure-category")}
    for item, name in item_names().items():
        assert f"「{name}」" in missing[item].detail, item  # e.g. …而訂頒之解釋性規定及裁量基準 in full
    assert "而訂頒之解釋性規定及裁量基準」" in missing[2].detail
    section = by_rule(findings, "missing-disclosure-section")[0]
    assert "連結只指向本頁（#）" in section.detail and "self" not in section.detail
    assert "連結只指向本頁（#）" in missing[4].detail
    assert "the link only points to the page itself" in section.detail_en


def test_every_reason_code_has_zh_and_en_words() -> None:
    from checks.textnorm import reason_text

    codes = ["self", "javascript", "scheme", "missing-anchor", "unverified", "http:404", "http:500",
             "error:dns", "error:refused", "error:timeout", "error:redirect-loop", "error:too-many-redirects",
             "error:malformed", "error:reset", "error:tls", "error:whatever"]
    for code in codes:
        zh, en = reason_text(code), reason_text(code, "en")
        assert code not in zh and zh != en, code
        assert not any(ch.isascii() and ch.isalpha() for ch in zh.replace("HTTP", "")), (code, zh)
