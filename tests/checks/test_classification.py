"""Classification tags: required DC/Category fields, code validity, DC.Date and DC.Title."""

from __future__ import annotations

from pathlib import Path

import pytest
from disclosure_helpers import build_site, by_rule, keelung_site, ncyu_site, page, run

from checks.classification import (
    ClassificationTags,
    CodeTableError,
    dc_title_verdict,
    load_code_table,
    load_code_tables,
    required_fields,
)

FULL = {
    "DC.Title": "測試市政府-市政新聞", "DC.Creator": "測試市政府", "DC.Subject": "市政新聞",
    "DC.Description": "市政新聞列表", "DC.Contributor": "新聞處", "DC.Type": "文字", "DC.Format": "text/html",
    "DC.Source": "測試市政府", "DC.Language": "中文", "DC.coverage.t.min": "2020-01-01",
    "DC.coverage.t.max": "2030-12-31", "DC.Publisher": "測試市政府", "DC.Date": "2024-05-01",
    "DC.Identifier": "376000000A", "DC.Relation": "GIP", "DC.Rights": "測試市政府",
    "Category.Theme": "770", "Category.Cake": "C21", "Category.Service": "E41",
}
ALL18 = [
    "DC.Title", "DC.Creator", "DC.Subject", "DC.Description", "DC.Contributor", "DC.Type", "DC.Format",
    "DC.Source", "DC.Language", "DC.Coverage", "DC.Publisher", "DC.Date", "DC.Identifier", "DC.Relation",
    "DC.Rights", "Category.Theme", "Category.Cake", "Category.Service",
]
URL = "http://127.0.0.1:8000/news.htm"


def tagged(fields: dict[str, str], title: str = "市政新聞 - 測試市政府") -> str:
    head = "".join(f'<meta name="{k}" content="{v}">' for k, v in fields.items())
    return page("<h1>市政新聞</h1>", title=title, head=head)


def with_(**changes: str | None) -> dict[str, str]:
    """FULL with some fields changed (None removes the field)."""
    out = dict(FULL)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def test_required_fields_are_the_15_dc_and_3_category_fields() -> None:
    assert list(required_fields()) == ALL18


MISSING_TABLE = [
    ("complete set", FULL, [], []),
    ("names in any case", {k.upper() if k.startswith("DC") else k.lower(): v for k, v in FULL.items()}, [], []),
    ("DC.Coverage alone counts", {**with_(**{"DC.coverage.t.min": None, "DC.coverage.t.max": None}),
                                  "DC.Coverage": "2020"}, [], []),
    ("t.min without t.max", with_(**{"DC.coverage.t.max": None}), ["DC.Coverage"], []),
    ("empty DC.Coverage", {**with_(**{"DC.coverage.t.min": None, "DC.coverage.t.max": None}), "DC.Coverage": ""},
     ["DC.Coverage"], ["DC.Coverage"]),
    ("no Category", with_(**{"Category.Theme": None, "Category.Cake": None, "Category.Service": None}),
     ["Category.Theme", "Category.Cake", "Category.Service"], []),
    ("empty title", with_(**{"DC.Title": ""}), ["DC.Title"], ["DC.Title"]),
    ("nothing at all", {}, ALL18, []),
]


@pytest.mark.parametrize(("case", "fields", "missing", "empty"), MISSING_TABLE, ids=[c[0] for c in MISSING_TABLE])
def test_missing_metadata(case: str, fields: dict[str, str], missing: list[str], empty: list[str]) -> None:
    facts = build_site({URL: tagged(fields)})
    findings, _ = run(ClassificationTags, facts)
    got = by_rule(findings, "missing-metadata")
    if not missing:
        assert got == []
    else:
        assert len(got) == 1
        assert got[0].page == URL and got[0].severity == "warning" and got[0].check == "classification"
        assert got[0].evidence == {"fields": missing, "empty": empty}


CODE_TABLE = [
    ({"Category.Theme": "770", "Category.Cake": "C21", "Category.Service": "E41"}, None),
    ({"Category.Theme": "770;610", "Category.Cake": "812", "Category.Service": "I00"}, None),
    ({"Category.Theme": "77"}, ("Category.Theme", "77", "form")),
    ({"Category.Cake": "C2A"}, ("Category.Cake", "C2A", "form")),
    ({"Category.Cake": "c21"}, ("Category.Cake", "c21", "form")),
    ({"Category.Service": "J10"}, ("Category.Service", "J10", "service-top-level")),
    ({"Category.Service": "E41,Z99"}, ("Category.Service", "Z99", "service-top-level")),
    ({"Category.Theme": "主題"}, ("Category.Theme", "主題", "form")),
]


@pytest.mark.parametrize(("fields", "expected"), CODE_TABLE)
def test_invalid_category_code(fields: dict[str, str], expected: tuple[str, str, str] | None) -> None:
    facts = build_site({URL: tagged({**FULL, **fields})})
    got = by_rule(run(ClassificationTags, facts)[0], "invalid-category-code")
    if expected is None:
        assert got == []
    else:
        assert len(got) == 1
        ev = got[0].evidence
        assert (ev["field"], ev["value"], ev["reason"]) == expected


def test_user_code_tables_take_precedence(tmp_path: Path) -> None:
    theme = tmp_path / "theme.csv"
    theme.write_text("\ufeffcode,name\n770,環境\n610,交通\n", encoding="utf-8")
    service = tmp_path / "service.csv"
    service.write_text("# official list\nE41\nA50\n", encoding="utf-8")
    facts = build_site({URL: tagged({**FULL, "Category.Theme": "170", "Category.Service": "E41"})})
    findings, ctx = run(ClassificationTags, facts,
                        code_tables={"category.theme": str(theme), "Category.Service": str(service)})
    got = by_rule(findings, "invalid-category-code")
    assert [(f.evidence["field"], f.evidence["value"], f.evidence["reason"]) for f in got] == [
        ("Category.Theme", "170", "not-in-table")
    ]
    assert got[0].evidence["official_table"] is True
    assert ctx.summary["classification"]["code_tables"] == ["Category.Service", "Category.Theme"]
    assert load_code_table(service) == frozenset({"E41", "A50"})


def test_code_table_errors_are_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(CodeTableError, match="code table not found: .*nope.csv"):
        load_code_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CodeTableError, match="empty"):
        load_code_table(empty)
    with pytest.raises(CodeTableError, match="unknown code table field 'Category.Foo'"):
        load_code_tables({"Category.Foo": []})


DC_DATE_TABLE = [("2024-05-01", False), ("113/05/01", False), ("20080910", False),
                 ("國立嘉義大學全球資訊網", True), ("2024-13-01", True), ("N/A", True)]


@pytest.mark.parametrize(("value", "invalid"), DC_DATE_TABLE)
def test_invalid_dc_date(value: str, invalid: bool) -> None:
    facts = build_site({URL: tagged({**FULL, "DC.Date": value})})
    got = by_rule(run(ClassificationTags, facts)[0], "invalid-dc-date")
    assert [f.evidence for f in got] == ([{"value": value}] if invalid else [])


DC_TITLE_TABLE = [
    ("測試市政府-市政新聞", "市政新聞 - 測試市政府", False, "consistent"),
    ("歡迎光臨國立嘉義大學資訊入口網站", "歡迎光臨 國立嘉義大學資訊入口網站", False, "consistent"),
    ("國立嘉義大學全球資訊網", "新聞櫥窗--歡迎光臨 國立嘉義大學資訊入口網站", True, "site-name-only"),
    ("測試市政府-預算書", "人事公告 - 測試市政府", True, "different"),
    ("測試市政府", "測試市政府", False, "consistent"),
    ("市政新聞", "市政新聞列表 - 測試市政府", False, "consistent"),
]


@pytest.mark.parametrize(("dc_title", "title", "mismatch", "reason"), DC_TITLE_TABLE)
def test_dc_title_verdict(dc_title: str, title: str, mismatch: bool, reason: str) -> None:
    got = dc_title_verdict(dc_title, title, "測試市政府")
    assert got[:2] == (mismatch, reason)


def test_dc_title_mismatch_finding_and_coverage_summary() -> None:
    other = "http://127.0.0.1:8000/hr.htm"
    facts = build_site({
        URL: tagged(FULL),
        other: tagged(with_(**{"DC.Title": "測試市政府-預算書", "Category.Cake": None}), title="人事公告 - 測試市政府"),
    })
    findings, ctx = run(ClassificationTags, facts)
    mism = by_rule(findings, "dc-title-mismatch")
    assert [(f.page, f.severity, f.evidence["reason"]) for f in mism] == [(other, "notice", "different")]
    summary = ctx.summary["classification"]
    assert summary["pages"] == 2 and summary["fully_tagged_pages"] == 1 and summary["fully_tagged"] == 0.5
    assert summary["fields"]["Category.Cake"] == 0.5
    assert summary["fields"]["DC.Title"] == 1.0


# ---------------------------------------------------------------------------------------------
# real pages


def test_keelung_has_no_dc_or_category_at_all() -> None:
    facts = keelung_site()
    findings, ctx = run(ClassificationTags, facts)
    missing = by_rule(findings, "missing-metadata")
    assert sorted(f.page.rsplit("/", 1)[1] for f in missing) == ["cp01.htm", "lp01.htm", "mp.htm", "sitemap.htm"]
    assert all(f.evidence["fields"] == ALL18 for f in missing)
    assert {f.rule for f in findings} == {"missing-metadata"}
    assert ctx.summary["classification"]["fully_tagged"] == 0.0
    assert set(ctx.summary["classification"]["fields"].values()) == {0.0}


def test_ncyu_metadata_defects() -> None:
    facts = ncyu_site()
    findings, ctx = run(ClassificationTags, facts)
    news = "http://127.0.0.1:8000/html_news.htm"
    index = "http://127.0.0.1:8000/index202009.html"
    assert [(f.page, f.evidence["value"]) for f in by_rule(findings, "invalid-dc-date")] == [
        (news, "國立嘉義大學全球資訊網")
    ]
    # Category.Theme=400, Cake=500, Service=300 are valid on both pages
    assert by_rule(findings, "invalid-category-code") == []
    # the index uses DC.Coverage.t.min/max (complete); the news page's DC.Coverage is empty
    assert [(f.page, f.evidence) for f in by_rule(findings, "missing-metadata")] == [
        (news, {"fields": ["DC.Coverage"], "empty": ["DC.Coverage"]})
    ]
    assert [(f.page, f.evidence["reason"]) for f in by_rule(findings, "dc-title-mismatch")] == [
        (news, "site-name-only")
    ]
    assert index not in {f.page for f in findings}
    summary = ctx.summary["classification"]
    assert (summary["pages"], summary["fully_tagged_pages"], summary["fields"]["DC.Coverage"]) == (2, 1, 0.5)
