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
            + a("http://web.pcc.invalid/tps", "政府採購")  # not checked: benefit of the doubt
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
        8: (True, ["http://web.pcc.invalid/tps"]),
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
    assert info["faq"] == {"name": "常見問答", "found": True, "evidence": [f"{B}/faq.htm"]}
    assert info["news"] == {"name": "最新消息", "found": True, "evidence": [f"{B}/news.htm"]}
    assert info["publications"] == {"name": "出版品", "found": True, "evidence": [f"{B}/pub.htm"]}


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
    # the footer's items (預算及會計月報, 法規專區…) are "#" links too: nothing counts as found, but item 3
    # (地址、電話): the fat footer gives the address and telephone (issue 18, checks/content.py)
    categories = ctx.summary["disclosure"]["categories"]
    assert [c["found"] for c in categories] == [False, False, True] + [False] * 7
    assert categories[2]["evidence"] == [mp]
    assert any(d["text"] == "預算及會計月報" for d in categories[5]["dead_evidence"])
    assert len(by_rule(findings, "missing-disclosure-category")) == 9


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
    assert ctx.summary["service_info"]["faq"]["found"] is True
