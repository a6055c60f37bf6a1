"""A page's own date versus the site's footer date, on real government pages (issue 16 item 1).

Expected values are read from ../shared/realworld/INDEX.md §5 (52 Hyweb pages) and §1 (NCYU,
Keelung): per page, the date the stale-page check uses (or None), its source, label and region, and
the site's dates (footer / chrome) with the number of pages carrying each. Facts are built with the
real extractor (tests/disclosure_helpers.build_site); the files are read from ../shared/realworld.

Decisions where INDEX leaves a choice:
- a page whose text carries only the footer date (勞動部 home pages, every list page) is undated by
  its text and falls to meta / HTTP / DC.Date: mptest and mptest2 are dated by their DC.Date
  `2018/6/29 下午 05:19:22` (source dc.date, a notice-level finding), tps mp_new by `2009-05-15 00:00:00.0`,
  NCYU's index by 2017/10/12; the others carry no date at all;
- NHI cp01: 更新日期 111-08-05 outranks 發布日期 112-04-04 (an update label says more about freshness
  than a publication label, data/date_labels.yaml), although it is the earlier date;
- NCYU html_news: INDEX names no date, the page's own `更新日期：2020-09-15` (in the content, between
  the C and Z keys) is its date;
- EPA cp_01: 資料更新日期 107-10-29 (rank 1) beats 發布日期 106-06-23; 資料檢視日期 is no update label.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from disclosure_helpers import build_site, realworld_dir, run

from checks.dates import last_update_evidence, line_region, page_text_dates
from checks.facts import Agency, PageFacts
from checks.staleness import StalePages

TODAY = date(2026, 12, 1)
B = "http://127.0.0.1:8000"
U = "更新日期"
P = "發布日期"

# folder -> ({page: (date, source, label, region) | None}, [(label, date, raw, region, pages)])
EXPECTED: dict[str, tuple[dict[str, tuple[str, str, str, str | None] | None], list[tuple[Any, ...]]]] = {
    "HywebU00__2021_mol_c_old": ({
        "ap02_statistics01_test01.html": ("2019-01-24", "text", "最後更新日期", "content"),
        "test.html": ("2021-06-01", "text", P, "content"),
        "mptest.html": ("2018-06-29", "dc.date", "DC.Date", None),
        "mptest2.html": ("2018-06-29", "dc.date", "DC.Date", None),
        "sitemap.html": None,
    }, [(U, "2018-01-01", "2018/01/01", "chrome", 1), (U, "2018-09-25", "2018/09/25", "chrome", 1),
        (U, "2019-08-14", "2019/08/14", "chrome", 1), (U, "2021-03-10", "2021/03/10", "chrome", 1),
        (U, "2021-06-01", "2021/06/01", "chrome", 1)]),
    "HywebU00__2020_ith_passport": ({
        "cptest.html": ("2020-12-15", "text", U, "content"), "mptest.html": None, "sitemap.htm": None,
    }, []),  # no footer date on the rendered pages; the prototype's is inside a comment
    "HywebU00__2019_tps": ({
        "cp_1.html": ("2018-08-13", "text", U, "content"),
        "mp_new.html": ("2009-05-15", "dc.date", "DC.Date", None),
    }, [(U, "2018-07-27", "2018年07月27日", "chrome", 1), (U, "2018-09-18", "2018年09月18日", "chrome", 1)]),
    "HywebU00__2023_NHI": ({
        "cp01.html": ("2022-08-05", "text", U, "content"), "mp.html": None, "lp01.html": None, "Sitemap.html": None,
    }, []),
    "HywebU00__2023Taichung_main": ({
        "cp.html": ("2015-09-25", "text", P, "content"), "mp.html": None, "lp.html": None, "sitemap.html": None,
    }, [(U, "2015-10-25", "2015-10-25", "chrome", 3), (U, "2025-01-21", "114年1月21日", "chrome", 1)]),
    "HywebU00__2022Taichung": ({
        "cp.html": ("2022-09-25", "text", P, "content"), "mp.html": None, "lp_openData.html": None,
        "sitemap.html": None,
    }, [(U, "2021-12-05", "110年12月5日", "chrome", 4)]),
    "HywebU00__2020_moe_portal": ({
        "CH/CP1.html": ("2015-10-15", "text", P, "content"), "CH/mp.html": None, "CH/LP1.html": None,
        "CH/LP5.html": None, "CH/sitemap.html": None,
    }, [(U, "2015-05-29", "2015/05/29", "chrome", 5)]),
    "HywebU00__2018_BSMI": ({
        "hsinchu/cp.htm": ("2018-01-01", "text", P, "content"), "hsinchu/mp.htm": None, "hsinchu/lp.htm": None,
        "hsinchu/sitemap.htm": None,
    }, [(U, "2018-01-01", "2018/01/01", "chrome", 4)]),  # the 13 attachment rows are neither
    "HywebU00__2022_roads": ({
        "pages_archive/cp.html": ("2022-02-24", "text", P, "content"), "pages_archive/mp.html": None,
        "pages_archive/lp.html": None, "pages_archive/sitemap.html": None,
    }, [(U, "2021-09-15", "110/09/15", "chrome", 4)]),
    "HywebU00__2021_epa_tcsb_weedControl": ({
        "cp_01.htm": ("2018-10-29", "text", "資料更新日期", "content"), "mp_.htm": None, "lp_01_list.htm": None,
        "sitemap_.htm": None,
    }, [(U, "2018-01-01", "2018/01/01", "chrome", 4)]),
    "HywebU00__2020_ntpc": ({
        "CP1.html": ("2018-03-20", "text", U, "content"), "MP.html": None, "LP1.html": None, "SP1.html": None,
        "sitemap.html": None,
    }, [(U, "2018-01-01", "2018/01/01", "chrome", 5)]),
    "HywebU00__2018_gazette": ({"mp.html": None, "SP3.html": None, "Sitemap.html": None}, []),
    "HywebU00__2015CivilAffairs": ({
        "cp.html": ("2015-09-25", "text", P, "content"), "mp.html": None, "mail.html": None,
    }, [(U, "2015-10-25", "2015-10-25", "chrome", 3)]),
    "HywebU00__2016_mohw_e": ({"mp.html": None, "sitemap.html": None}, []),
    "kevinhsu7361__NCYU": ({
        "html_news.htm": ("2020-09-15", "text", U, "content"),
        "index202009.html": ("2017-10-12", "dc.date", "DC.Date", None),
    }, []),
    "HywebU00__2021_keelung_gov": ({
        "cp01.htm": ("2018-03-20", "text", U, "content"), "mp.htm": None, "lp01.htm": None, "sitemap.htm": None,
    }, [(U, "2018-01-01", "2018/01/01", "chrome", 4)]),
}


def folder_site(folder: str) -> Any:
    root = realworld_dir(folder)
    names = EXPECTED[folder][0]
    return build_site({f"{B}/{name}": (root / name).read_text(encoding="utf-8-sig") for name in names})


def test_every_page_of_index_5_and_1_is_listed() -> None:
    hyweb = [f for f in EXPECTED if f.startswith("HywebU00") and f != "HywebU00__2021_keelung_gov"]
    assert sum(len(EXPECTED[f][0]) for f in hyweb) == 52
    for folder, (pages, _) in EXPECTED.items():
        root = realworld_dir(folder)
        on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".htm", ".html")}
        assert on_disk == set(pages), folder


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_page_dates_and_site_dates(folder: str) -> None:
    pages, site = EXPECTED[folder]
    findings, ctx = run(StalePages, folder_site(folder), today=TODAY)
    summary = ctx.summary["staleness"]
    got = {d["page"].removeprefix(f"{B}/"): (d["date"], d["source"], d["label"], d["region"])
           for d in summary["dates"]}
    assert got == {name: value for name, value in pages.items() if value is not None}
    assert sorted(p.removeprefix(f"{B}/") for p in summary["undated_pages"]) == sorted(
        name for name, value in pages.items() if value is None)
    assert [(e["label"], e["date"], e["raw"], e["region"], e["pages"]) for e in summary["site_dates"]] == site
    # every dated page is older than a year on 2026-12-01; the finding names the region too
    assert sorted((f.page.removeprefix(f"{B}/"), f.evidence["region"]) for f in findings) == sorted(
        (name, value[3]) for name, value in pages.items() if value is not None)


def region_of_dates(folder: str, name: str) -> list[tuple[str, str, str]]:
    page = folder_site(folder).page(f"{B}/{name}")
    return [(d.label, d.raw, d.region) for d in page_text_dates(page)]


def test_regions_of_every_labelled_date_on_the_pages_with_several_kinds() -> None:
    assert region_of_dates("HywebU00__2021_mol_c_old", "ap02_statistics01_test01.html") == [
        ("最後更新日期", "108-01-24", "content"), (U, "2021/03/10", "chrome")]
    assert region_of_dates("HywebU00__2021_mol_c_old", "test.html") == [
        *[(P, "110-06-01", "content")] * 6, (U, "2021/06/01", "chrome")]
    assert region_of_dates("HywebU00__2019_tps", "cp_1.html") == [  # div.MetaDay vs section#Footer
        (P, "2018年8月13日", "content"), (U, "2018/08/13", "content"), (U, "2018年07月27日", "chrome")]
    assert region_of_dates("HywebU00__2023_NHI", "cp01.html") == [  # <dt>/<dd> without a colon
        (P, "112-04-04", "content"), (U, "111-08-05", "content")]
    assert region_of_dates("HywebU00__2022_roads", "pages_archive/cp.html") == [  # <time title="發布日期">
        (U, "110/09/15", "chrome"), (P, "111-2-24", "content")]
    bsmi = region_of_dates("HywebU00__2018_BSMI", "hsinchu/cp.htm")
    assert bsmi == [(P, "2018-01-01", "content"), *[(U, "2014/5/30", "files")] * 13, (U, "2018/01/01", "chrome")]
    # the footer is printed twice (in the header's side block and at the bottom): chrome both times
    assert region_of_dates("HywebU00__2021_epa_tcsb_weedControl", "cp_01.htm") == [
        (U, "2018/01/01", "chrome"), (P, "106-06-23", "content"), ("資料更新日期", "107-10-29", "content"),
        (U, "2018/01/01", "chrome")]
    # a footer that differs from the other pages' is still chrome: by structure, not by repetition
    assert region_of_dates("HywebU00__2023Taichung_main", "mp.html") == [(U, "114年1月21日", "chrome")]
    assert region_of_dates("kevinhsu7361__NCYU", "html_news.htm") == [(U, "2020-09-15", "content")]


def test_comments_and_scripts_are_never_text() -> None:
    ith = folder_site("HywebU00__2020_ith_passport").page(f"{B}/sitemap.htm")
    assert "2018/01/01" not in ith.text and "46476653" not in ith.text  # the footer is commented out
    ntpc = folder_site("HywebU00__2020_ntpc").page(f"{B}/CP1.html")
    assert "2014/5/30" not in ntpc.text  # a commented-out 更新日期
    taichung = folder_site("HywebU00__2023Taichung_main").page(f"{B}/mp.html")
    assert "new Date(" not in taichung.text and "102年1月" not in taichung.text  # chart data in <script>


# ---------------------------------------------------------------------------------------------
# synthetic pages: repetition, precedence, bounds


def html(body: str) -> str:
    return f"<!doctype html><html lang='zh-Hant'><head><title>t</title></head><body>{body}</body></html>"


def test_a_block_repeated_on_most_pages_is_a_site_date_without_any_marker() -> None:
    footer = "<p>更新日期：113-01-05</p>"
    pages = {f"{B}/{n}.htm": html(f"<p>內容 {n}</p>{extra}{footer}") for n, extra in (
        ("a", "<p>發布日期：112-03-01</p>"), ("b", ""), ("c", "<p>更新日期：112-07-07</p>"), ("d", ""))}
    findings, ctx = run(StalePages, build_site(pages), today=date(2024, 6, 1))
    summary = ctx.summary["staleness"]
    assert summary["site_date_min_pages"] == 3  # more than half of 4 pages
    assert summary["site_dates"] == [
        {"label": U, "date": "2024-01-05", "raw": "113-01-05", "region": "repeated", "pages": 4}]
    assert {d["page"]: (d["date"], d["region"]) for d in summary["dates"]} == {
        f"{B}/a.htm": ("2023-03-01", "unmarked"), f"{B}/c.htm": ("2023-07-07", "unmarked")}
    assert sorted(summary["undated_pages"]) == [f"{B}/b.htm", f"{B}/d.htm"]
    assert [f.page for f in findings] == [f"{B}/a.htm"]
    # on 2 of 4 pages a block is not "most pages": each page keeps it
    two = {**pages, f"{B}/b.htm": html("<p>更新日期：113-02-02</p>"), f"{B}/d.htm": html("<p>更新日期：113-02-03</p>")}
    summary = run(StalePages, build_site(two), today=date(2024, 6, 1))[1].summary["staleness"]
    assert summary["site_dates"] == [] and summary["pages_without_date"] == 0


def test_one_page_alone_is_read_without_the_repetition_rule() -> None:
    page = build_site({f"{B}/a.htm": html("<main><p>更新日期：113-01-05</p></main><footer>更新日期：113-05-05</footer>")})
    evidence = last_update_evidence(page.pages[0])
    assert (evidence.date, evidence.region) == (date(2024, 1, 5), "content")


def test_content_beats_unmarked_and_weak_tokens_do_not_turn_landmarks_around() -> None:
    body = ("<div class='side'><p>更新日期：113-09-09</p></div><main><p>發布日期：113-01-01</p></main>"
            "<footer><div class='content'><p>更新日期：113-10-10</p></div></footer>")
    page = build_site({f"{B}/a.htm": html(body)}).pages[0]
    assert [(d.raw, d.region) for d in page_text_dates(page)] == [
        ("113-09-09", "unmarked"), ("113-01-01", "content"), ("113-10-10", "chrome")]
    assert last_update_evidence(page).raw == "113-01-01"  # content first, though an unmarked 更新日期 outranks it


def test_an_articles_own_footer_is_content_and_a_wrapper_is_no_content_marker() -> None:
    article = "<article><h1>x</h1><footer>更新日期：113-04-04</footer></article>"
    page = build_site({f"{B}/a.htm": html(article)}).pages[0]
    assert [(d.raw, d.region) for d in page_text_dates(page)] == [("113-04-04", "unmarked")]
    # div.main around the whole page (HywebU00__2023Taichung_main): the accesskeys decide
    wrapped = ("<div class='main'><a accesskey='U' href='#aU' id='aU'>:::</a><p>更新日期：113-01-01</p>"
               "<a accesskey='C' href='#aC' id='aC'>:::</a><p>發布日期：113-02-02</p>"
               "<a accesskey='Z' href='#aZ' id='aZ'>:::</a><p>更新日期：113-03-03</p></div>")
    page = build_site({f"{B}/a.htm": html(wrapped)}).pages[0]
    assert [(d.raw, d.region) for d in page_text_dates(page)] == [
        ("113-01-01", "chrome"), ("113-02-02", "content"), ("113-03-03", "chrome")]


def test_a_top_key_with_nothing_after_it_leaves_the_page_unmarked() -> None:
    # HywebU00__2021_epa_tcsb_weedControl/mp_.htm: only U (its C is commented out)
    page = build_site({f"{B}/a.htm": html("<a accesskey='U' href='#aU' id='aU'>:::</a><p>更新日期：113-01-01</p>")})
    assert [d.region for d in page_text_dates(page.pages[0])] == ["unmarked"]


def test_region_runs_are_bounded_and_looked_up() -> None:
    body = "".join(f"<nav>選單 {i}</nav><p>段落 {i}</p>" for i in range(400))
    page = build_site({f"{B}/a.htm": html(f"<main>{body}</main>")}).pages[0]
    assert len(page.text_regions) == 256
    assert line_region(page.text_regions, 0) == "chrome" and line_region(page.text_regions, 1) == "content"
    assert line_region(page.text_regions, 799) == "content" and line_region(page.text_regions, 400) == "unmarked"
    assert line_region([], 3) == "unmarked"


def test_regions_and_label_values_survive_the_run_store(tmp_path) -> None:
    from crawler.store import Store

    folder = "HywebU00__2023_NHI"
    written = folder_site(folder).page(f"{B}/cp01.html")
    assert written.text_regions and any(p["via"] == "dt" for p in written.label_values)
    store = Store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    site = store.create_site(store.create_run(TODAY, "0", {}), Agency("健保署", f"{B}/"), [])
    store.add_pages(site, [written])
    [read] = store.load_site_facts(site).pages
    assert read.text_regions == written.text_regions and read.label_values == written.label_values
    assert last_update_evidence(read) == last_update_evidence(written)
    assert isinstance(read.to_page_facts(), PageFacts)
    store.close()


# ---------------------------------------------------------------------------------------------
# end to end: each folder served from 127.0.0.1 and audited (tests/realworld_sites.py), results.json


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_results_json_page_dates_and_site_dates(folder: str) -> None:
    """The same dates in results.json. The crawl may reach a file under a second URL too (roads:
    `lp.html?P`, a form's target): such a URL reads as its file does."""
    from realworld_sites import audit_realworld, rel

    pages, site_expected = EXPECTED[folder]
    site = audit_realworld(folder)
    summary = site["staleness"]

    def file_of(url: str) -> str:
        return str(rel(url, folder)).split("?", 1)[0]

    crawled = [d["page"] for d in summary["dates"]] + summary["undated_pages"]
    extra = len(crawled) - len(pages)
    assert {file_of(url) for url in crawled} == set(pages)
    for d in summary["dates"]:
        assert (d["date"], d["source"], d["label"], d["region"]) == pages[file_of(d["page"])], d["page"]
    assert all(pages[file_of(url)] is None for url in summary["undated_pages"])
    assert [(e["label"], e["date"], e["raw"], e["region"], e["pages"]) for e in summary["site_dates"]] == [
        (*entry[:4], entry[4] + extra if entry[4] == len(pages) else entry[4]) for entry in site_expected]
    stale = {(file_of(f["page"]), f["evidence"]["date"], f["evidence"]["region"])
             for f in site["findings"] if f["rule"] == "stale-page"}
    assert stale == {(name, value[0], value[3]) for name, value in pages.items() if value is not None}
