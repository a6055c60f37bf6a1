"""Staleness: stale pages, outdated annual documents, expired notices, constant DC.Date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from disclosure_helpers import build_site, by_rule, keelung_site, ncyu_site, page, run
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.staleness import (
    AnnualRulesError,
    DcDateConstant,
    ExpiredNotices,
    OutdatedAnnualDocuments,
    StalePages,
    document_year,
    load_series,
    notice_end_dates,
)

B = "http://127.0.0.1:8000"


def dated_site() -> dict[str, str]:
    return {
        f"{B}/index.htm": page("<p>更新日期：113-05-20</p>"),
        f"{B}/old.htm": page("<p>發布日期：民國 111 年 12 月 02 日</p>"),
        f"{B}/older.htm": page("<p>最後更新 2016/11/01</p>"),
        f"{B}/nodate.htm": page("<p>沒有任何日期</p>"),
        f"{B}/http.htm": page("<p>內容</p>"),
    }


def test_stale_pages_and_summary() -> None:
    facts = build_site(dated_site(), meta={f"{B}/http.htm": {"last_modified": "Tue, 01 Aug 2023 02:00:00 GMT"}})
    findings, ctx = run(StalePages, facts, today=date(2024, 6, 1))
    got = [(f.page, f.severity, f.evidence["date"], f.evidence["source"], f.evidence["age_days"]) for f in findings]
    assert got == [
        (f"{B}/old.htm", "warning", "2022-12-02", "text", 547),
        (f"{B}/older.htm", "warning", "2016-11-01", "text", 2769),
    ]
    summary = ctx.summary["staleness"]
    assert summary["pages_with_date"] == 4 and summary["pages_without_date"] == 1
    assert summary["undated_pages"] == [f"{B}/nodate.htm"]
    assert summary["limit_days"] == 365
    assert {d["page"]: (d["date"], d["source"]) for d in summary["dates"]} == {
        f"{B}/index.htm": ("2024-05-20", "text"),
        f"{B}/old.htm": ("2022-12-02", "text"),
        f"{B}/older.htm": ("2016-11-01", "text"),
        f"{B}/http.htm": ("2023-08-01", "http"),
    }


def test_stale_limit_is_configurable() -> None:
    facts = build_site(dated_site())
    findings, _ = run(StalePages, facts, today=date(2024, 6, 1), stale_days=10)
    assert sorted(f.page for f in findings) == [f"{B}/index.htm", f"{B}/old.htm", f"{B}/older.htm"]
    with pytest.raises(ValueError, match="stale_days must be a positive integer"):
        run(StalePages, facts, stale_days="abc")


def test_dc_date_is_weak_evidence_and_a_constant_is_not_used() -> None:
    head = '<meta name="DC.Date" content="2015-01-01">'
    facts = build_site({f"{B}/one.htm": page("<p>x</p>", head=head)})
    findings, _ = run(StalePages, facts)
    assert [(f.severity, f.evidence["source"]) for f in findings] == [("notice", "dc.date")]

    three = {f"{B}/{n}.htm": page("<p>x</p>", head=head) for n in ("a", "b", "c")}
    three[f"{B}/d.htm"] = page("<p>更新日期：113-01-01</p>", head=head)
    facts = build_site(three)
    findings, ctx = run(StalePages, facts)
    assert findings == []  # the template constant says nothing about the pages
    assert ctx.summary["staleness"]["pages_without_date"] == 3
    assert ctx.summary["staleness"]["dc_date_constant"] == "2015-01-01"
    notices, _ = run(DcDateConstant, facts)
    assert [(f.rule, f.severity, f.page, f.evidence) for f in notices] == [
        ("dc-date-constant", "notice", f"{B}/a.htm", {"value": "2015-01-01", "pages": 4})
    ]


def test_varied_dc_dates_are_not_a_constant() -> None:
    facts = build_site({
        f"{B}/a.htm": page("x", head='<meta name="dc.date" content="2015-01-01">'),
        f"{B}/b.htm": page("x", head='<meta name="dc.date" content="2016-01-01">'),
    })
    assert run(DcDateConstant, facts)[0] == []


# ---------------------------------------------------------------------------------------------
# annual documents


@pytest.mark.parametrize(("text", "year"), [
    ("113年度單位預算書", 113), ("中華民國112年度總決算", 112), ("2024年 決算書", 113),
    ("民國 99 年施政計畫", 99), ("預算書", None), ("服務20年紀念", None),
])
def test_document_year(text: str, year: int | None) -> None:
    assert document_year(text) == year


def annual_site(*texts: str) -> dict[str, str]:
    links = "".join(f'<a href="doc{i}.pdf">{t}</a>' for i, t in enumerate(texts))
    return {f"{B}/open.htm": page(f"<ul>{links}</ul>")}


ANNUAL_TABLE = [
    # (links, today, expected findings: (series name, expected_year, latest_year_found))
    (("111年度單位預算書", "112年度單位預算書"), date(2024, 6, 1), [("預算書", 113, 112)]),
    (("111年度單位預算書", "112年度單位預算書"), date(2024, 3, 31), []),  # before the 04-01 grace date
    (("113年度單位預算書",), date(2024, 6, 1), []),
    (("111年度決算書",), date(2024, 8, 1), [("決算書", 112, 111)]),
    (("111年度決算書",), date(2024, 6, 30), []),
    (("112年提升服務品質執行計畫",), date(2024, 1, 31), []),  # plans: by the end of January
    (("112年提升服務品質執行計畫",), date(2024, 2, 1), [("提升服務品質執行計畫", 113, 112)]),
    (("110-113年度中程施政計畫", "112年度施政計畫"), date(2024, 6, 1), [("施政計畫", 113, 112)]),
    (("111年業務統計",), date(2024, 6, 1), [("業務統計", 112, 111)]),
    (("2023年度單位預算書",), date(2024, 6, 1), [("預算書", 113, 112)]),
]


@pytest.mark.parametrize(("texts", "today", "expected"), ANNUAL_TABLE)
def test_outdated_annual_documents(texts: tuple[str, ...], today: date, expected: list[tuple[str, int, int]]) -> None:
    facts = build_site(annual_site(*texts))
    findings, ctx = run(OutdatedAnnualDocuments, facts, today=today)
    got = [(f.evidence["document"], f.evidence["expected_year"], f.evidence["latest_year_found"]) for f in findings]
    assert got == expected
    for f in findings:
        assert f.page == f"{B}/open.htm" and f.target.startswith(f"{B}/doc") and f.severity == "warning"
    assert len(ctx.summary["staleness"]["annual_documents"]) == 5


def test_annual_document_behind_a_dead_link_does_not_count() -> None:
    pages = {f"{B}/open.htm": page('<a href="#">113年度單位預算書</a><a href="b.pdf">112年度單位預算書</a>')}
    findings, _ = run(OutdatedAnnualDocuments, build_site(pages), today=date(2024, 6, 1))
    assert [(f.evidence["latest_year_found"], f.target) for f in findings] == [(112, f"{B}/b.pdf")]


def test_annual_rules_file_option(tmp_path: Path) -> None:
    rules = tmp_path / "annual.yaml"
    rules.write_text(
        "series:\n  - {id: report, name: 年報, keywords: [年報], expected: previous, grace: '03-01'}\n",
        encoding="utf-8",
    )
    facts = build_site(annual_site("111年報"))
    findings, _ = run(OutdatedAnnualDocuments, facts, today=date(2024, 3, 1), annual_documents=str(rules))
    assert [(f.evidence["series"], f.evidence["expected_year"]) for f in findings] == [("report", 112)]

    bad = tmp_path / "bad.yaml"
    bad.write_text("series:\n  - {id: x, name: x, keywords: [x], expected: soon, grace: '03-01'}\n", encoding="utf-8")
    with pytest.raises(AnnualRulesError, match=r"bad.yaml: series\[1\].expected: .*must be current or previous"):
        load_series(str(bad))
    with pytest.raises(AnnualRulesError, match="file not found"):
        load_series(str(tmp_path / "missing.yaml"))
    bad.write_text("series:\n  - {id: x, name: x, keywords: [x], expected: current, grace: '13-40'}\n",
                   encoding="utf-8")
    with pytest.raises(AnnualRulesError, match="expected MM-DD"):
        load_series(str(bad))


# ---------------------------------------------------------------------------------------------
# expired notices


@pytest.mark.parametrize(("text", "expected"), [
    ("公告期間：113-05-01至113-05-31", [("公告期間", date(2024, 5, 31))]),
    ("公告期間：即日起至113年7月1日止", [("公告期間", date(2024, 7, 1))]),
    ("報名期間：113.1.1～113.2.1", [("報名期間", date(2024, 2, 1))]),
    ("截止日期：113/06/30", [("截止日期", date(2024, 6, 30))]),
    ("收件截止：\n2024-04-30", [("收件截止", date(2024, 4, 30))]),
    ("公告期間：113-05-01起", []),  # no end stated
    ("更新日期：113-05-01", []),
])
def test_notice_end_dates(text: str, expected: list[tuple[str, date]]) -> None:
    assert notice_end_dates(text) == expected


def _notice_end_dates_reference(text: str) -> list[tuple[str, date]]:
    """The algorithm before issue 6: fold the whole text, then look for labels line by line."""
    import re

    from checks.dates import find_dates, fold_width
    from checks.staleness import _OPEN_START, _notice_spec

    pattern, period, _ = _notice_spec()
    lines = fold_width(text or "").split("\n")
    out: list[tuple[str, date]] = []
    for i, line in enumerate(lines):
        for m in pattern.finditer(line):
            label = m.group(1)
            rest = line[m.end():m.end() + 80]
            if not re.sub(r"[\s:：]", "", rest) and i + 1 < len(lines):
                rest = lines[i + 1][:80]
            found = find_dates(rest, compact=True)
            if not found or found[0].start > 6:
                continue
            if label in period:
                if len(found) >= 2:
                    out.append((label, found[1].date))
                elif _OPEN_START.search(rest[: found[0].start]):
                    out.append((label, found[0].date))
            else:
                out.append((label, found[0].date))
    return out


_NOTICE_TEXT = st.lists(st.sampled_from(
    ["公告期間", "公告期限", "報名期間", "期間", "期限", "截止", "截止日期", "報名截止日", "收件截止", "截止日",
     "下架日期", "日期", "申請期限", "：", ":", " ", "\u3000", "\n", "\n", "113-05-01", "至", "~", "～", "起",
     "即日起", "１１３／０６／３０", "2024-04-30", "113年7月1日", "止", "x", "報名"]),
    max_size=40).map("".join)


@settings(max_examples=500)
@given(_NOTICE_TEXT)
def test_notice_end_dates_equal_folding_the_whole_text_first(text: str) -> None:
    assert notice_end_dates(text) == _notice_end_dates_reference(text)


def test_expired_notice() -> None:
    pages = {
        f"{B}/notice1.htm": page("<h1>招標公告</h1><p>公告期間：113-05-01至113-05-31</p>"),
        f"{B}/notice2.htm": page("<h1>徵才</h1><p>截止日期：113/06/30</p>"),
        f"{B}/history.htm": page("<h1>歷史公告</h1><p>公告期間：112-05-01至112-05-31</p>"),
        f"{B}/list.htm": page("<p>甲案 截止日期：113-01-10</p><p>乙案 截止日期：113-03-10</p>"
                              "<p>丙案 截止日期：113-12-10</p>"),
    }
    facts = build_site(pages)
    findings, _ = run(ExpiredNotices, facts, today=date(2024, 6, 1))
    got = [(f.page, f.evidence["end_date"], f.evidence["expired"], f.evidence["notices"]) for f in findings]
    assert got == [
        (f"{B}/notice1.htm", "2024-05-31", 1, 1),
        (f"{B}/list.htm", "2024-03-10", 2, 3),
    ]
    assert all(f.rule == "expired-notice" and f.severity == "warning" for f in findings)
    # the last day itself is still current
    assert run(ExpiredNotices, facts, today=date(2024, 5, 31))[0][0].page == f"{B}/list.htm"


# ---------------------------------------------------------------------------------------------
# real pages


def test_keelung_dates_and_staleness() -> None:
    facts = keelung_site()
    findings, ctx = run(StalePages, facts, today=date(2018, 6, 1))
    assert findings == []
    summary = ctx.summary["staleness"]
    dates = {d["page"].rsplit("/", 1)[1]: (d["date"], d["source"], d["label"], d["region"]) for d in summary["dates"]}
    # the footer's 更新日期：2018/01/01 is the site's date (issue 16): only cp01 carries a date of its own
    assert dates == {"cp01.htm": ("2018-03-20", "text", "更新日期", "content")}
    assert sorted(p.rsplit("/", 1)[1] for p in summary["undated_pages"]) == ["lp01.htm", "mp.htm", "sitemap.htm"]
    assert summary["site_dates"] == [
        {"label": "更新日期", "date": "2018-01-01", "raw": "2018/01/01", "region": "chrome", "pages": 4},
    ]
    findings, _ = run(StalePages, facts, today=date(2024, 6, 1))
    assert {f.page.rsplit("/", 1)[1]: (f.evidence["age_days"], f.evidence["region"]) for f in findings} == {
        "cp01.htm": (2265, "content"),
    }
    assert run(DcDateConstant, facts)[0] == []  # no DC.Date at all


def test_ncyu_dates() -> None:
    facts = ncyu_site()
    findings, ctx = run(StalePages, facts, today=date(2020, 9, 16))
    # the news page is dated by its 更新日期; the index only by its (weak) DC.Date 2017/10/12
    assert [(f.page.rsplit("/", 1)[1], f.severity, f.evidence["source"]) for f in findings] == [
        ("index202009.html", "notice", "dc.date")
    ]
    assert {d["page"].rsplit("/", 1)[1]: d["date"] for d in ctx.summary["staleness"]["dates"]} == {
        "index202009.html": "2017-10-12", "html_news.htm": "2020-09-15",
    }
    assert run(DcDateConstant, facts)[0] == []  # 2017/10/12 vs 國立嘉義大學全球資訊網: not one value
    assert by_rule(run(ExpiredNotices, facts, today=date(2020, 9, 16))[0], "expired-notice") == []


# ---------------------------------------------------------------------------------------------
# options are validated at the edge (the CLI calls validate_options before crawling)


def test_validate_options(tmp_path: Path) -> None:
    from checks.disclosure_options import OptionError, validate_options

    validate_options({"stale_days": 30, "notice_grace_days": 0, "title_mismatch_threshold": 0.3})
    validate_options({})
    cases = [
        ({"stale_days": 0}, "stale_days .*positive integer.*got 0"),
        ({"stale_days": "soon"}, "stale_days"),
        ({"notice_grace_days": -1}, "notice_grace_days .*non-negative integer"),
        ({"title_mismatch_threshold": 2}, "title_mismatch_threshold .*between 0 and 1"),
        ({"code_tables": {"Category.Theme": str(tmp_path / "none.csv")}}, "code table not found: .*none.csv"),
        ({"annual_documents": str(tmp_path / "none.yaml")}, "none.yaml: .*file not found"),
    ]
    for options, message in cases:
        with pytest.raises(OptionError, match=message):
            validate_options(options)
