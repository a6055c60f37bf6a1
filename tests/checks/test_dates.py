"""Date parsing over every form of domain/README.md §4, labelled dates, and the evidence order."""

from __future__ import annotations

from datetime import date

import pytest
from disclosure_helpers import keelung_site, ncyu_site
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.dates import (
    find_dates,
    format_roc,
    gregorian_to_roc,
    labelled_dates,
    last_update_evidence,
    page_last_update,
    parse_date,
    parse_http_date,
    parse_meta_date,
    roc_to_gregorian,
)
from checks.facts import PageFacts

# every form listed in domain/README.md §4, plus full-width and time-of-day variants
PARSE_TABLE = [
    ("113-05-20", date(2024, 5, 20)),
    ("111-09-28", date(2022, 9, 28)),
    ("113/05/12", date(2024, 5, 12)),
    ("113.5.20", date(2024, 5, 20)),
    ("民國 111 年 12 月 02 日", date(2022, 12, 2)),
    ("中華民國112年4月26日", date(2023, 4, 26)),
    ("99年1月5日", date(2010, 1, 5)),
    ("1130512", date(2024, 5, 12)),
    ("2016/11/01", date(2016, 11, 1)),
    ("2024-05-12", date(2024, 5, 12)),
    ("2024年5月12日", date(2024, 5, 12)),
    ("20080910", date(2008, 9, 10)),
    ("１１３／０５／２０", date(2024, 5, 20)),
    ("2017/10/12", date(2017, 10, 12)),
    ("2024-05-12T10:30:00+08:00", date(2024, 5, 12)),
    ("113-05-20 14:03", date(2024, 5, 20)),
    ("113年5月20日(一)", date(2024, 5, 20)),
    ("  2018-03-20  ", date(2018, 3, 20)),
    ("1.1.1", None),  # one-digit year: a version number, not a date
    ("國立嘉義大學全球資訊網", None),  # NCYU html_news DC.Date
    ("", None),
    ("113-13-01", None),
    ("113-02-30", None),
    ("2.16.886.111.100046", None),
    ("02-2420-1122", None),
    ("113年度", None),
    ("更新日期：113-05-20", None),  # text containing a date is not a date value
    ("2024-05-12 extra words", None),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_TABLE)
def test_parse_date_every_form(value: str, expected: date | None) -> None:
    assert parse_date(value) == expected


FIND_TABLE = [
    ("本校109年9月11日9時30分辦理研討會", [date(2020, 9, 11)]),
    ("臺灣災害管理學會辦理研討會-109.12.1", [date(2020, 12, 1)]),
    ("公告期間：113-05-01至113-05-31", [date(2024, 5, 1), date(2024, 5, 31)]),
    ("市府總機 (02)2420-1122 服務時間：08:00-12:00", []),
    ("IP 10.1.1.5 與 OID 2.16.886.111.100046", []),
    ("案號1130512", []),  # compact forms only when asked
    ("2020年臺灣災害管理研討會", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_TABLE)
def test_find_dates_in_running_text(text: str, expected: list[date]) -> None:
    assert [f.date for f in find_dates(text)] == expected


def test_find_dates_reports_calendar_and_raw() -> None:
    found = find_dates("上版 113/5/2 與 2024-05-03")
    assert [(f.raw, f.calendar) for f in found] == [("113/5/2", "roc"), ("2024-05-03", "gregorian")]
    assert find_dates("案號1130512", compact=True)[0].date == date(2024, 5, 12)


LABEL_TABLE = [
    ("更新日期：113-05-20", [("更新日期", 1, date(2024, 5, 20))]),
    ("日期:111-09-28", [("日期", 3, date(2022, 9, 28))]),
    ("最後更新 113/05/12", [("最後更新", 1, date(2024, 5, 12))]),
    ("發布日期：2018-03-20", [("發布日期", 2, date(2018, 3, 20))]),
    ("發佈日期：民國 111 年 12 月 02 日", [("發佈日期", 2, date(2022, 12, 2))]),
    ("上版日期：1130512", [("上版日期", 2, date(2024, 5, 12))]),
    ("公告日期 99年1月5日", [("公告日期", 2, date(2010, 1, 5))]),
    ("資料更新：113.5.20", [("資料更新", 1, date(2024, 5, 20))]),
    ("更新日期：2018/01/01瀏覽人次：46476653", [("更新日期", 1, date(2018, 1, 1))]),
    ("更新日期：\n113-05-20", [("更新日期", 1, date(2024, 5, 20))]),  # <dt>/<dd> layout
    ("發布日期\n2018-03-09", []),  # a column header above list rows is not the page's date
    ("截止日期：113-05-20", []),  # a deadline is not an update date
    ("活動日期：113-05-20", []),
    ("更新日期：尚未更新", []),
    ("ＦＵＬＬ更新日期：１１３－０５－２０", [("更新日期", 1, date(2024, 5, 20))]),
]


@pytest.mark.parametrize(("text", "expected"), LABEL_TABLE)
def test_labelled_dates(text: str, expected: list[tuple[str, int, date]]) -> None:
    assert [(d.label, d.rank, d.date) for d in labelled_dates(text)] == expected


def _page(text: str = "", meta: dict[str, list[str]] | None = None, last_modified: str | None = None) -> PageFacts:
    return PageFacts(url="http://127.0.0.1/p", text=text, meta=meta or {}, last_modified=last_modified)


def test_evidence_order_text_then_meta_then_http_then_dc_date() -> None:
    meta = {"article:modified_time": ["2023-01-02T10:00:00+08:00"], "dc.date": ["2001-01-01"]}
    lm = "Wed, 01 Feb 2023 20:00:00 GMT"  # 2023-02-02 in Taipei
    assert page_last_update(_page("更新日期：113-05-20", meta, lm)) == (date(2024, 5, 20), "text")
    assert page_last_update(_page("", meta, lm)) == (date(2023, 1, 2), "meta")
    assert page_last_update(_page("", {"dc.date": ["2001-01-01"]}, lm)) == (date(2023, 2, 2), "http")
    assert page_last_update(_page("", {"dc.date": ["2001-01-01"]})) == (date(2001, 1, 1), "dc.date")
    assert page_last_update(_page("", {"dc.date": ["2001-01-01"]}), use_dc_date=False) is None
    assert page_last_update(_page("沒有日期的頁面")) is None


def test_update_label_beats_publication_label_and_latest_wins_within_rank() -> None:
    text = "發布日期：113-06-01\n更新日期：113-05-20\n頁尾 更新日期：112-01-01"
    ev = last_update_evidence(_page(text))
    assert (ev.date, ev.source, ev.label, ev.raw) == (date(2024, 5, 20), "text", "更新日期", "113-05-20")


def test_http_and_meta_date_parsers_reject_junk() -> None:
    assert parse_http_date("not a date") is None
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == date(1994, 11, 6)
    assert parse_meta_date("2024-05-12T23:30:00Z") == date(2024, 5, 13)  # Taipei calendar day
    assert parse_meta_date("113/05/12") == date(2024, 5, 12)
    assert parse_meta_date("garbage") is None


# ---------------------------------------------------------------------------------------------
# real pages (../shared/realworld)


def test_keelung_cp01_dates() -> None:
    facts = keelung_site()
    cp01 = facts.page("http://127.0.0.1:8000/cp01.htm")
    labels = [(d.label, d.date) for d in labelled_dates(cp01.text)]
    assert ("發布日期", date(2018, 3, 20)) in labels
    assert ("更新日期", date(2018, 3, 20)) in labels
    assert page_last_update(cp01) == (date(2018, 3, 20), "text")
    assert last_update_evidence(cp01).region == "content"
    # every other page only has the footer's 更新日期：2018/01/01: a site date (issue 16), so these
    # pages are undated by their text (no meta, Last-Modified or DC.Date either)
    for name in ("mp.htm", "sitemap.htm", "lp01.htm"):
        assert page_last_update(facts.page(f"http://127.0.0.1:8000/{name}")) is None
    # lp01's 發布日期 column header is not read as the page's date
    lp01 = facts.page("http://127.0.0.1:8000/lp01.htm")
    assert [d.label for d in labelled_dates(lp01.text)] == ["更新日期"]


def test_ncyu_dates() -> None:
    facts = ncyu_site()
    news = facts.page("http://127.0.0.1:8000/html_news.htm")
    index = facts.page("http://127.0.0.1:8000/index202009.html")
    assert page_last_update(news) == (date(2020, 9, 15), "text")
    ev = last_update_evidence(index)
    assert (ev.date, ev.source, ev.raw) == (date(2017, 10, 12), "dc.date", "2017/10/12")
    assert parse_date(news.meta_first("DC.Date")) is None


# ---------------------------------------------------------------------------------------------
# properties

# numeric ROC forms need a year of two digits or more (ROC 10 = 1921): a one-digit "9-01-01"
# is not read, it is as likely a version or an item number; 民國 forms cover 1912 onwards.
DATES = st.dates(min_value=date(1921, 1, 1), max_value=date(2110, 12, 31))


@given(st.dates(min_value=date(1912, 1, 1), max_value=date(1921, 12, 31)))
def test_early_roc_years_in_minguo_form(d: date) -> None:
    assert parse_date(f"民國{gregorian_to_roc(d.year)}年{d.month}月{d.day}日") == d


@given(st.integers(min_value=-5000, max_value=5000))
def test_roc_year_round_trip(year: int) -> None:
    assert gregorian_to_roc(roc_to_gregorian(year)) == year
    assert roc_to_gregorian(gregorian_to_roc(year)) == year


@settings(max_examples=300)
@given(DATES, st.sampled_from(["-", "/", "."]))
def test_roc_date_round_trip(d: date, sep: str) -> None:
    roc = gregorian_to_roc(d.year)
    assert parse_date(format_roc(d, sep)) == d
    assert parse_date(f"{roc}{sep}{d.month}{sep}{d.day}") == d
    assert parse_date(f"民國 {roc} 年 {d.month} 月 {d.day:02d} 日") == d
    assert parse_date(f"中華民國{roc}年{d.month}月{d.day}日") == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.strftime("%Y/%m/%d")) == d
    if roc >= 100:
        assert parse_date(f"{roc}{d.month:02d}{d.day:02d}") == d
    else:
        assert parse_date(f"{roc}年{d.month}月{d.day}日") == d  # two-digit ROC years
    assert [f.date for f in find_dates(f"更新日期：{format_roc(d)}。")] == [d]


_ALPHABET = st.sampled_from(
    list("0123456789-/.年月日民國中華：: \n()（）T+Z") + ["更新日期", "發布日期", "日期", "公告期間", "至", "臺"]
)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=200), st.lists(_ALPHABET, max_size=60).map("".join)))
def test_no_text_crashes_the_parsers(text: str) -> None:
    assert parse_date(text) is None or isinstance(parse_date(text), date)
    for found in find_dates(text, compact=True) + find_dates(text):
        assert isinstance(found.date, date)
    for item in labelled_dates(text):
        assert isinstance(item.date, date)
    parse_http_date(text)
    parse_meta_date(text)
    page_last_update(PageFacts(url="http://127.0.0.1/", text=text, meta={"dc.date": [text]}, last_modified=text))


# ---------------------------------------------------------------------------------------------
# The shortcut labelled_dates and notice_end_dates take (issue 6): labels are looked for in the
# unfolded text and only the lines holding one are folded. That is only the same as folding first
# while no label holds a character folding changes or produces.


def _date_label_data() -> dict:
    from checks.textnorm import load_yaml

    return load_yaml("date_labels.yaml")


def test_every_date_and_notice_label_is_fold_invariant() -> None:
    from checks.dates import fold_width, is_fold_invariant

    data = _date_label_data()
    labels = [entry["label"] for entry in data["labels"]]
    labels += data["notice_end_labels"]["period"] + data["notice_end_labels"]["deadline"]
    assert len(labels) == 39
    for label in labels:
        assert is_fold_invariant(label), label
        assert fold_width(label) == label
    # what the guard refuses: a full-width character, an ASCII one (folding produces those), a space
    assert [is_fold_invariant(x) for x in ("更新日期", "更新ＤＡＴＥ", "Update", "更新 日期", "更新\n日期")] == [
        True, False, False, False, False]


def test_fold_width_is_the_full_width_table_character_for_character() -> None:
    from checks.dates import fold_width

    every = "".join(chr(c) for c in range(0x2F00, 0x10000) if not 0xD800 <= c < 0xE000)
    folded = fold_width(every)
    assert len(folded) == len(every)
    changed = {(a, b) for a, b in zip(every, folded, strict=True) if a != b}
    expected = {(chr(c), chr(c - 0xFEE0)) for c in range(0xFF01, 0xFF5F)} | {("\u3000", " ")}
    assert changed == expected
    assert fold_width("更新日期：１１３／０５／２０\u3000（一）") == "更新日期:113/05/20 (一)"


def _labelled_dates_reference(text: str) -> list[tuple[str, int, date, str]]:
    """The algorithm before issue 6: fold the whole text, then every line."""
    from checks.dates import _AFTER_LABEL, MAX_SCAN_CHARS, _label_data, fold_width

    pattern, ranks, _ = _label_data()
    lines = fold_width(text[:MAX_SCAN_CHARS]).split("\n")
    out = []
    for i, line in enumerate(lines):
        for m in pattern.finditer(line):
            label = m.group(1)
            rest_start = _AFTER_LABEL.match(line, m.end()).end()
            rest = line[rest_start:]
            found = find_dates(rest[:40], compact=True)
            if found and found[0].start == 0:
                out.append((label, ranks[label], found[0].date, found[0].raw))
                continue
            if not rest.strip() and line[m.end():rest_start].strip() and i + 1 < len(lines):
                following = find_dates(lines[i + 1][:40], compact=True)
                if following and following[0].start == 0:
                    out.append((label, ranks[label], following[0].date, following[0].raw))
    return out


_LABEL_TEXT = st.lists(st.sampled_from(
    ["更新日期", "最後更新", "資料更新時間", "發布日期", "發佈時間", "截止日期", "日期", "期", "更新", "日",
     "：", ":", "（上午）", "(", ")", " ", "\u3000", "\n", "\n", "113-05-20", "１１３／０５／２０", "2024年5月2日",
     "1130512", "20240102", "民國", "公告期間", "至", "~", "～", "報名截止日", "下架日期", "113.5.20", "x", "臺"]),
    max_size=40).map("".join)


@settings(max_examples=500)
@given(_LABEL_TEXT)
def test_labelled_dates_equal_folding_the_whole_text_first(text: str) -> None:
    assert [(d.label, d.rank, d.date, d.raw) for d in labelled_dates(text)] == _labelled_dates_reference(text)
