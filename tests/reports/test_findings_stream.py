"""Findings as a stream (issue 6, 100,000 pages): a site entry may hold its findings as a StreamedList
read back from a real SQLite file, and every consumer (report.html, CSV, XLSX, ODS, SARIF, JUnit,
results.json, the gate, scores, trend, the CLI summary) gives exactly what it gives for the same
findings as a list, in the number of passes its docstring states, without holding the findings."""

from __future__ import annotations

import copy
import gc
import json
import sqlite3
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import SAMPLE

from checks.base import Finding
from checks.scoring import load_rubric, score_site
from checks.trend import annotate_trend
from disclosure_audit.cli import summarise
from reports import exports
from reports.gate import evaluate_gate
from reports.render import render_all, render_html, site_view, write_html
from reports.streaming import StreamedList, iter_json, write_json

BASE = "https://www.big-city.example"


class FindingsFile:
    """Findings in a real SQLite file, read back as StreamedLists the way the run store hands them
    out: each iteration runs a new query and builds fresh dicts; `passes` counts the iterations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.passes: dict[str, int] = {}
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS findings (id INTEGER PRIMARY KEY, site TEXT, body TEXT)")
            con.execute("CREATE INDEX IF NOT EXISTS by_site ON findings (site, id)")

    def add(self, site: str, findings: Iterable[dict[str, Any]]) -> None:
        with sqlite3.connect(self.path) as con:
            con.executemany("INSERT INTO findings (site, body) VALUES (?, ?)",
                            ((site, json.dumps(f, ensure_ascii=False)) for f in findings))
        con.close()

    def stream(self, site: str) -> StreamedList:
        with sqlite3.connect(self.path) as con:
            count = con.execute("SELECT COUNT(*) FROM findings WHERE site = ?", (site,)).fetchone()[0]
        con.close()
        return StreamedList(lambda: self._read(site), count)

    def _read(self, site: str) -> Iterator[dict[str, Any]]:
        self.passes[site] = self.passes.get(site, 0) + 1
        con = sqlite3.connect(self.path)
        try:
            for (body,) in con.execute("SELECT body FROM findings WHERE site = ? ORDER BY id", (site,)):
                yield json.loads(body)
        finally:
            con.close()


def streamed(results: dict[str, Any], store: FindingsFile, prefix: str = "") -> dict[str, Any]:
    """A copy of `results` whose sites hold their findings as StreamedLists from `store`."""
    out = copy.deepcopy(results)
    for i, site in enumerate(out["sites"]):
        key = f"{prefix}{i}"
        store.add(key, site["findings"])
        site["findings"] = store.stream(key)
    return out


def finding(check: str, rule: str, severity: str, page: str, target: str | None, detail: str,
            evidence: dict[str, Any], detail_en: str | None = None) -> dict[str, Any]:
    return Finding(check, rule, severity, page, target, detail, evidence, detail_en=detail_en).to_json()


def big_site_findings() -> list[dict[str, Any]]:
    """~1,100 findings that exercise every table and cap of the report and every export: 250 stale
    pages (over the 200-row cap), a broken link from 230 pages plus repeats, 210 broken targets
    (over the 200-target cap), indeterminate links, accessibility, presence rules, an unknown check,
    findings without a stored fingerprint and hostile text."""
    out = [finding("staleness", "stale-page", "warning", f"{BASE}/news/{i:05d}.html", None,
                   f"網頁最後更新日期為 2020-01-01，已 {2000 + i} 天未更新。",
                   {"date": "2020-01-01", "source": "text", "age_days": 2000 + i},
                   f"Last updated 2020-01-01, {2000 + i} days ago.") for i in range(250)]
    out += [finding("links", "broken-link", "error", f"{BASE}/p/{i % 230}.html", f"{BASE}/gone.pdf",
                    "連結失效：HTTP 404", {"kind": "http", "status": 404}, "Broken link: HTTP 404")
            for i in range(236)]  # 6 repeats of a source page: the table counts distinct sources
    out += [finding("links", "broken-link", "error", f"{BASE}/list/{i}.html", f"{BASE}/dead/{i}",
                    "連結失效：HTTP 404", {"kind": "http", "status": 404}) for i in range(210)]
    out += [finding("links", "unverified-link", "warning", f"{BASE}/p/{i}.html", f"https://slow.example/{i % 7}",
                    "無法確認連結（逾時）", {"kind": "timeout"}) for i in range(40)]
    out += [finding("links", "soft-404", "warning", f"{BASE}/p/{i}.html", f"{BASE}/soft/{i}", "疑似軟性 404",
                    {"confidence": "low" if i % 2 else 0.9}) for i in range(12)]
    out += [finding("links", "title-mismatch", "notice", f"{BASE}/p/{i}.html", f"{BASE}/t/{i % 5}.html",
                    f"連結文字「第 {i} 則」與目的頁標題不相符。", {"link_text": f"第 {i} 則", "similarity": 0.1})
            for i in range(230)]
    out += [finding("classification", "missing-metadata", "warning", f"{BASE}/news/{i:05d}.html", None,
                    "缺少 DC.Subject", {"missing": ["DC.Subject", "DC.Creator"]}) for i in range(90)]
    out += [finding("accessibility", "image-alt", "error", f"{BASE}/a11y/{i}.html", f"img.banner-{i % 3}",
                    "圖片缺少替代文字", {"wcag": ["wcag111"], "freego": "HM1110100C", "nodes": 2, "impact": "critical",
                                  "template": "list" if i % 2 else "home", "helpUrl": "https://dequeuniversity.com/x"})
            for i in range(10)]
    out += [finding("disclosure", "missing-disclosure-category", "error", f"{BASE}/disclosure/", None,
                    f"未發現第 {item} 款資訊", {"item": item}) for item in (4, 7)]
    out += [finding("services", "missing-mailbox", "warning", f"{BASE}/", None, "未發現首長信箱", {}),
            finding("custom", "custom-rule", "warning", f"{BASE}/c.html", None, "自訂檢查", {"x": [1, 2]})]
    hostile = finding("links", "broken-link", "error", f"{BASE}/h.html", "javascript:alert(1)",
                      "=HYPERLINK(\"x\")<script>alert(1)</script>\x00\x1f", {"kind": "<b>"}, "\ufffe\u3000全形")
    out.append(hostile)
    for f in out[250:253]:  # findings from a hand-made file: no stored fingerprint
        f.pop("fingerprint")
    return out


def big_results() -> dict[str, Any]:
    site = {"agency": {"name": "大型市政府", "code": "380000000A", "url": f"{BASE}/", "group": "第1組"},
            "status": "ok", "detail": None, "stats": {"pages": 1000, "documents": 3, "links_checked": 600},
            "disclosure": {"section_urls": [f"{BASE}/disclosure/"],
                           "categories": [{"item": n, "name": f"第{n}款", "found": n not in (4, 7), "evidence": []}
                                          for n in range(1, 11)]},
            "services": {"mailbox": {"found": False}, "e-payment": {"found": True, "evidence": [f"{BASE}/pay"]}},
            "accessibility": {"status": "ok", "pages_tested": 10},
            "findings": big_site_findings()}
    site["scores"] = score_site(site, load_rubric(None))
    return {"schema": "disclosure-audit/1", "tool": {"name": "disclosure-audit", "version": "1"},
            "run": {"id": "big", "today": "2026-11-23", "finished_at": "2026-11-23T00:00:00Z"}, "sites": [site]}


@pytest.fixture()
def store(tmp_path: Path) -> FindingsFile:
    return FindingsFile(tmp_path / "findings.sqlite")


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return big_results()


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------- the StreamedList


def test_a_streamed_list_is_sized_re_iterable_and_refused_by_json_dumps(store: FindingsFile) -> None:
    items = [{"rule": "stale-page", "n": i} for i in range(3)]
    store.add("s", items)
    stream = store.stream("s")
    assert (len(stream), bool(stream), store.passes) == (3, True, {})  # no pass for its size
    assert list(stream) == items and list(stream) == items
    assert store.passes == {"s": 2}
    empty = store.stream("none")
    assert (len(empty), bool(empty), list(empty)) == (0, False, [])
    assert repr(stream) == "StreamedList(<3 items>)"
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({"findings": stream})  # never silently materialised: write_json streams it
    with pytest.raises(ValueError, match="count must be a whole number >= 0, got -1"):
        StreamedList(lambda: [], -1)


def test_results_json_is_byte_identical_and_streamed(store: FindingsFile, tmp_path: Path) -> None:
    for i, results in enumerate((sample(), big_results())):
        doc = streamed(results, store, f"r{i}-")
        for indent in (1, 2):
            expected = json.dumps(results, ensure_ascii=False, indent=indent).encode("utf-8")
            assert write_json(results, tmp_path / "list.json", indent=indent).read_bytes() == expected
            assert write_json(doc, tmp_path / "stream.json", indent=indent).read_bytes() == expected
            assert "".join(iter_json(doc, indent)).encode("utf-8") == expected
    assert store.passes["r1-0"] == 4  # once per write (two files, two iter_json): never held
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.sqlite", "list.json", "stream.json"]


# ------------------------------------------------------------------------ every writer, same output


def cell_values_xlsx(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def cell_values_ods(path: Path) -> list[list[list[str]]]:
    from odf import opendocument, table, teletype

    doc = opendocument.load(str(path))
    return [[[teletype.extractText(c) for c in row.getElementsByType(table.TableCell)]
             for row in t.getElementsByType(table.TableRow)]
            for t in doc.spreadsheet.getElementsByType(table.Table)]


def same_output(a: Path, b: Path) -> None:
    """The files two render_all calls wrote are the same: byte for byte; in the spreadsheets (zip
    files whose headers hold the time) every member's content, but report.xlsx's
    docProps/core.xml (its creation time). Cell values are compared in
    test_each_writer_alone_is_identical_and_makes_its_passes."""
    import zipfile

    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.endswith((".xlsx", ".ods")):
            with zipfile.ZipFile(a / name) as za, zipfile.ZipFile(b / name) as zb:
                assert za.namelist() == zb.namelist()
                for member in za.namelist():
                    if member != "docProps/core.xml":
                        assert za.read(member) == zb.read(member), (name, member)
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_every_report_and_export_is_identical_for_a_list_and_a_stream(
        big: dict[str, Any], store: FindingsFile, tmp_path: Path) -> None:
    doc = streamed(big, store)
    for lang, cap in (("zh-TW", 200), ("en", None)):
        render_all(big, tmp_path / f"list-{lang}-{cap}", lang, max_rows=cap)
        store.passes.clear()
        render_all(doc, tmp_path / f"stream-{lang}-{cap}", lang, max_rows=cap)
        # report.html, CSV, XLSX, ODS, JUnit one pass each, SARIF two (render_all's docstring)
        assert store.passes == {"0": 7}
        same_output(tmp_path / f"list-{lang}-{cap}", tmp_path / f"stream-{lang}-{cap}")
    # the content is what the list gives, and the caps and groups really were exercised
    from lxml import html as lxml_html

    page = lxml_html.fromstring((tmp_path / "stream-zh-TW-200/report.html").read_text("utf-8"))
    assert len(page.get_element_by_id("s1-stale-table").findall("tbody/tr")) == 200
    row = next(r for r in page.get_element_by_id("s1-links-table").iter("tr") if "gone.pdf" in r.text_content())
    assert row.findall("td")[4].text_content() == "230"  # distinct source pages, not 236 findings
    sheet = cell_values_xlsx(tmp_path / "stream-zh-TW-200/report.xlsx")["發現"]
    assert len(sheet) == 1 + len(big["sites"][0]["findings"])
    assert sheet[1][3] == "stale-page"
    sarif = json.loads((tmp_path / "stream-en-None/results.sarif").read_text("utf-8"))
    assert len(sarif["runs"][0]["results"]) == len(big["sites"][0]["findings"])


def test_each_writer_alone_is_identical_and_makes_its_passes(
        big: dict[str, Any], store: FindingsFile, tmp_path: Path) -> None:
    doc = streamed(big, store)
    for name, file, passes in (("write_csv", "findings.csv", 1), ("write_xlsx", "report.xlsx", 1),
                               ("write_ods", "report.ods", 1), ("write_junit", "junit.xml", 1),
                               ("write_sarif", "results.sarif", 2)):
        a, b = tmp_path / f"list-{file}", tmp_path / f"stream-{file}"
        getattr(exports, name)(big, a, "en")
        store.passes.clear()
        getattr(exports, name)(doc, b, "en")
        assert store.passes == {"0": passes}, name
        if name == "write_xlsx":
            assert cell_values_xlsx(a) == cell_values_xlsx(b)
        elif name == "write_ods":
            assert cell_values_ods(a) == cell_values_ods(b)
        else:
            assert a.read_bytes() == b.read_bytes(), name
    store.passes.clear()
    assert render_html(doc) == render_html(big)
    write_html(doc, tmp_path / "stream.html", max_rows=30)
    assert (tmp_path / "stream.html").read_text("utf-8") == render_html(big, max_rows=30)
    assert store.passes == {"0": 2}  # one per report
    view = site_view(doc["sites"][0], "zh-TW", 200)
    assert [len(view[k]) for k in ("rows", "stale", "broken", "metadata")] == [
        len(site_view(big["sites"][0], "zh-TW", 200)[k]) for k in ("rows", "stale", "broken", "metadata")]


def test_a_multi_agency_run_with_streamed_findings_writes_the_same_folders(store: FindingsFile,
                                                                           tmp_path: Path) -> None:
    results = sample()
    doc = streamed(results, store)
    render_all(results, tmp_path / "list")
    render_all(doc, tmp_path / "stream")
    same_output(tmp_path / "list", tmp_path / "stream")
    assert (tmp_path / "stream/index.html").is_file()
    per_agency = json.loads((tmp_path / "stream/agencies/001-379000000A/results.json").read_text("utf-8"))
    assert per_agency["sites"][0]["findings"] == results["sites"][0]["findings"]
    # two reports of each site (the whole run, then its own folder) and its own results.json
    assert store.passes == {"0": 15, "1": 15}  # the failed site has no findings: never read


# ------------------------------------------------------------------------- gate, scores, trend, CLI


@pytest.mark.parametrize(("fail_under", "fail_on", "baseline"), [
    (None, None, False), (80, None, False), (None, "error", False), (None, "warning", False),
    (None, "error", True), (60, "warning", True)])
def test_the_gate_decides_the_same_in_at_most_two_passes(big: dict[str, Any], store: FindingsFile,
                                                         fail_under: float | None, fail_on: str | None,
                                                         baseline: bool) -> None:
    results = copy.deepcopy(big)
    results["sites"].append({**copy.deepcopy(sample()["sites"][0]), "findings": big_site_findings()[::-3]})
    base = {"sites": [{"findings": big_site_findings()[:400]}]} if baseline else None
    expected = evaluate_gate(results, fail_under, fail_on, base, lang="en")
    assert isinstance(expected.failing_findings, list)  # a list stays a list
    doc = streamed(results, store)
    got = evaluate_gate(doc, fail_under, fail_on, base, lang="en")
    assert (got.exit_code, got.message, got.reasons) == (expected.exit_code, expected.message, expected.reasons)
    # the failing findings are handed back streamed: counted, and read again in order when asked
    assert len(got.failing_findings) == len(expected.failing_findings)
    passes = dict(store.passes)
    assert all(n <= 2 for n in passes.values()), passes
    assert list(got.failing_findings) == expected.failing_findings
    if fail_on:
        assert len(expected.failing_findings) > 200
    # without the share in the scores, the unverified links are read once, for both uses
    for site in doc["sites"]:
        site["scores"]["indeterminate"].pop("share")
    store.passes.clear()
    evaluate_gate(doc, fail_under, fail_on, base)
    assert all(n == (2 if fail_on else 1) for n in store.passes.values()), store.passes


def test_scores_are_the_same_from_one_pass(big: dict[str, Any], store: FindingsFile) -> None:
    rubric = load_rubric(None)
    site = copy.deepcopy(big["sites"][0])
    cases = [("ok", "ok"), ("ok", "error"), ("failed", "ok")]  # a failed site / a11y run: criteria excluded
    for status, a11y in cases:
        site.update(status=status, accessibility={"status": a11y, "pages_tested": 10})
        expected = score_site(site, rubric)
        key = f"{status}-{a11y}"
        store.add(key, site["findings"])
        got = score_site({**site, "findings": store.stream(key)}, rubric)
        assert store.passes[key] == 1
        assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
        if a11y == "error":
            assert any(x["reason"] == "criterion-accessibility-error" for x in got["indeterminate"]["findings"])
    links = next(d for d in score_site(site | {"status": "ok", "accessibility": {"status": "ok"}}, rubric)
                 ["deductions"] if d["criterion"] == "links-valid")
    assert links["pages"] < links["findings"]  # distinct pages, from the repeated broken-link sources


def test_trend_is_the_same_reading_this_run_once_and_the_last_twice(store: FindingsFile) -> None:
    findings = big_site_findings()
    earlier = findings[100:] + [finding("links", "broken-link", "error", f"{BASE}/old.html", f"{BASE}/x",
                                        "舊的失效連結", {})]
    earlier += earlier[:5]  # repeated fingerprints: the first place, the last finding, as before

    def entry(run: str, items: Any) -> dict[str, Any]:
        return {"agency": {"name": "大型市政府"}, "status": "ok", "scores": {"dimension": 70.0},
                "run": {"id": run, "finished_at": f"{run}T00:00:00Z", "today": run}, "findings": items}

    expected = entry("2026-02-01", copy.deepcopy(findings))
    annotate_trend(expected, [entry("2026-01-01", copy.deepcopy(earlier))])
    store.add("now", findings)
    store.add("before", earlier)
    got = entry("2026-02-01", store.stream("now"))
    annotate_trend(got, [entry("2026-01-01", store.stream("before"))])
    assert store.passes == {"now": 1, "before": 2}
    assert (got["history"], got["changes"]) == (expected["history"], expected["changes"])
    assert [len(expected["changes"][k]) for k in ("new", "fixed")] == [100, 1]


def test_the_cli_summary_is_the_same_from_one_pass(big: dict[str, Any], store: FindingsFile, tmp_path: Path) -> None:
    doc = streamed(big, store)
    for lang in ("zh-TW", "en"):
        assert summarise(doc, tmp_path, lang) == summarise(big, tmp_path, lang)
    assert store.passes == {"0": 2}
    assert "失效連結 447 個，發現 1083 項" in summarise(big, tmp_path, "zh-TW")


# ------------------------------------------------------------------- any findings, same everywhere

RULES = [("links", "broken-link"), ("links", "unverified-link"), ("links", "soft-404"), ("links", "tls-error"),
         ("links", "title-mismatch"), ("staleness", "stale-page"), ("staleness", "outdated-annual-document"),
         ("classification", "missing-metadata"), ("disclosure", "missing-disclosure-category"),
         ("disclosure", "missing-disclosure-section"), ("services", "missing-mailbox"),
         ("accessibility", "image-alt"), ("accessibility", "tw-badge-expired"), ("custom", "weird")]
any_finding = st.builds(
    lambda cr, sev, page, target, evidence, keep_fp: {
        k: v for k, v in finding(cr[0], cr[1], sev, page, target, f"{cr[1]}：{page}", dict(evidence),
                                 f"{cr[1]} on {page}" if keep_fp else None).items()
        if keep_fp or k != "fingerprint"},
    st.sampled_from(RULES), st.sampled_from(["error", "warning", "notice"]),
    st.sampled_from([f"{BASE}/{i}" for i in range(5)]),  # few pages: repeated fingerprints
    st.sampled_from([None, f"{BASE}/x", "https://other.example/y"]),
    st.sampled_from([{}, {"confidence": "low"}, {"confidence": 0.9}, {"item": 4}, {"reason": "unknown issuer"},
                     {"wcag": ["wcag111"], "freego": "HM1", "nodes": 2, "template": "list"}]),
    st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(now=st.lists(any_finding, max_size=20), before=st.lists(any_finding, max_size=20),
       status=st.sampled_from(["ok", "partial", "failed"]), a11y=st.sampled_from(["ok", "error"]),
       fail_on=st.sampled_from([None, "error", "warning"]))
def test_any_findings_give_the_same_outputs_as_a_list_or_a_stream(
        tmp_path_factory: pytest.TempPathFactory, now: list[dict[str, Any]], before: list[dict[str, Any]],
        status: str, a11y: str, fail_on: str | None) -> None:
    tmp = tmp_path_factory.mktemp("any")
    store = FindingsFile(tmp / "f.sqlite")
    store.add("now", now)
    store.add("before", before)
    site = {"agency": {"name": "機關", "url": f"{BASE}/"}, "status": status,
            "stats": {"pages": 3, "links_checked": 4}, "accessibility": {"status": a11y, "pages_tested": 2},
            "run": {"id": "2", "finished_at": "2", "today": "2"}, "findings": copy.deepcopy(now)}
    site["scores"] = score_site(site, load_rubric(None))
    assert score_site({**site, "findings": store.stream("now")}, load_rubric(None)) == site["scores"]
    earlier = {"status": "ok", "run": {"id": "1"}, "findings": copy.deepcopy(before)}
    listed = copy.deepcopy(site)
    annotate_trend(listed, [earlier])
    stream_site = {**copy.deepcopy(site), "findings": store.stream("now")}
    annotate_trend(stream_site, [{**earlier, "findings": store.stream("before")}])
    assert stream_site["changes"] == listed["changes"]
    results = {"run": {"id": "r"}, "tool": {"name": "t", "version": "1"}, "sites": [listed]}
    doc = {**results, "sites": [stream_site]}
    expected, got = (evaluate_gate(r, 50, fail_on, {"sites": [earlier]}) for r in (results, doc))
    assert (got.exit_code, got.message, list(got.failing_findings)) == (
        expected.exit_code, expected.message, expected.failing_findings)
    assert render_html(doc, "en", max_rows=2) == render_html(results, "en", max_rows=2)
    for name in ("write_csv", "write_junit", "write_sarif"):
        assert getattr(exports, name)(doc, tmp / "s", "zh-TW").read_bytes() == \
            getattr(exports, name)(results, tmp / "l", "zh-TW").read_bytes(), name
    assert write_json(doc, tmp / "s.json").read_bytes() == write_json(results, tmp / "l.json").read_bytes()
    assert summarise(doc, tmp, "en") == summarise(results, tmp, "en")


# --------------------------------------------------------------------------------- bounded memory

# 10,000 findings keep this test under half a minute with tracemalloc on (it slows every allocation
# ~5x; the JSON and SARIF writers use the pure-Python indenting encoder). What is held per finding
# is what scales to 180,000: the bound below separates that from holding the findings at any size.
N_MEMORY = 10_000


def generated(i: int) -> dict[str, Any]:
    """About 1 KB of JSON, like a real finding of a 100,000-page site."""
    page = f"{BASE}/news/2024/{i // 7:05d}/article-{i:06d}.html?lang=zh-tw&category=公告"
    kind = i % 4
    if kind == 0:
        return finding("staleness", "stale-page", "warning", page, None,
                       f"網頁最後更新日期為 2020-05-19，已 {1500 + i % 900} 天未更新，超過 365 天的期限，"
                       "請檢查本頁內容是否仍然正確並更新日期。",
                       {"date": "2020-05-19", "source": "text", "label": "更新日期", "age_days": 1500 + i % 900,
                        "threshold_days": 365, "snippet": "更新日期：2020-05-19　發布單位：秘書處　瀏覽人次：" + str(i)},
                       f"Last updated 2020-05-19, {1500 + i % 900} days ago, over the 365-day limit; check the page.")
    if kind == 1:
        return finding("classification", "missing-metadata", "warning", page, None,
                       "網頁缺少政府資訊分類檢索詮釋資料（DC.Subject、DC.Creator、DC.Date、DC.Type、DC.Coverage），"
                       "不符合政府網站詮釋資料規範。",
                       {"missing": ["DC.Subject", "DC.Creator", "DC.Date", "DC.Type", "DC.Coverage"],
                        "present": ["DC.Title", "DC.Identifier"], "source": "meta", "template": "article"},
                       "The page lacks the government metadata fields DC.Subject, DC.Creator, DC.Date, DC.Type.")
    if kind == 2:
        return finding("links", "title-mismatch", "notice", page, f"{BASE}/service/{i % 997}.html",
                       f"連結文字「第 {i} 則服務說明與申辦須知」與目的頁標題「線上申辦服務 - 大型市政府」不相符。",
                       {"link_text": f"第 {i} 則服務說明與申辦須知", "target_title": "線上申辦服務 - 大型市政府",
                        "similarity": 0.12, "threshold": 0.3},
                       f"Link text 'item {i}' does not match the target title 'Online services'.")
    return finding("links", "broken-link", "error", page, f"{BASE}/files/report-{i % 50:02d}.pdf",
                   "連結失效：HTTP 404（找不到網頁），請更新或移除此連結，以免民眾無法取得資訊。",
                   {"kind": "http", "status": 404, "method": "GET", "elapsed_ms": 120 + i % 300,
                    "final_url": f"{BASE}/files/report-{i % 50:02d}.pdf", "content_type": "text/html"},
                   "Broken link: HTTP 404 (not found); update or remove the link.")


def test_every_consumer_of_streamed_findings_holds_a_fraction_of_them(tmp_path: Path) -> None:
    """tracemalloc peak while scores, trend, results.json, report.html, CSV, XLSX, ODS, JUnit,
    SARIF, the gate and the CLI summary read 10,000 streamed findings (~1 KB of JSON each).

    The bound, 15 MB: holding the findings costs ~2.5 KB each as dicts (measured below: over
    20 MB for these 10,000; ~450 MB for the 180,000 of a 100,000-page site). Streamed, what is
    held is what is output or aggregated: constant buffers (the spreadsheets' 500-row blocks,
    ~5 MB; the capped report rows) plus per finding only a fingerprint and a page (scoring's
    deductions and distinct pages, the trend's fingerprints of the earlier run: ~0.3 KB), ~8 MB
    here. Materialising the findings in any one consumer (`list(findings)` in scoring, the SARIF
    writer, the gate...) adds their 20 MB and fails this test."""
    store = FindingsFile(tmp_path / "run.sqlite")
    store.add("now", (generated(i) for i in range(N_MEMORY)))
    store.add("before", (generated(i) for i in range(1_000, N_MEMORY + 1_000)))  # 1,000 fixed, 1,000 new
    results = {"schema": "disclosure-audit/1", "tool": {"name": "disclosure-audit", "version": "1"},
               "run": {"id": "m", "today": "2026-11-23"},
               "sites": [{"agency": {"name": "大型市政府", "code": "380000000A", "url": f"{BASE}/"},
                          "status": "ok", "detail": None,
                          "stats": {"pages": 100_000, "documents": 0, "links_checked": 200_000},
                          "accessibility": {"status": "not_run", "pages_tested": 0},
                          "findings": store.stream("now")}]}
    site = results["sites"][0]
    out = tmp_path / "out"
    out.mkdir()
    rubric = load_rubric(None)
    # imports (openpyxl, odfpy) and compiled templates are not what is measured
    render_all({**results, "sites": [{**site, "findings": [generated(3)]}]}, tmp_path / "warm")

    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        site["scores"] = score_site(site, rubric)
        site["run"] = {"id": "m", "finished_at": "2026-11-23T00:00:00Z", "today": "2026-11-23"}
        annotate_trend(site, [{"status": "ok", "run": {"id": "e"}, "findings": store.stream("before")}])
        site.pop("run")
        write_json(results, out / "results.json")
        render_all(results, out)
        gate = evaluate_gate(results, 50, "warning", None)
        summary = summarise(results, out, "zh-TW")
        streamed_peak = tracemalloc.get_traced_memory()[1] - start

        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        held = list(store.stream("now"))
        list_cost = tracemalloc.get_traced_memory()[0] - start
        del held
    finally:
        tracemalloc.stop()

    assert list_cost > 20_000_000, list_cost  # what the bound below is measured against
    assert streamed_peak < 15_000_000, f"peak {streamed_peak / 1e6:.1f} MB while streaming"
    # every finding reached every output
    assert (out / "findings.csv").read_bytes().count(b"\n") == 1 + N_MEMORY
    assert json.loads((out / "results.json").read_text("utf-8"))["sites"][0]["findings"][-1] == generated(N_MEMORY - 1)
    assert len(json.loads((out / "results.sarif").read_text("utf-8"))["runs"][0]["results"]) == N_MEMORY
    assert (out / "report.html").stat().st_size < 3_000_000  # 200 rows per rule, not all of them
    assert [len(site["changes"][k]) for k in ("new", "fixed")] == [1_000, 1_000]
    assert len(gate.failing_findings) == N_MEMORY * 3 // 4  # stale pages, metadata and broken links
    assert f"發現 {N_MEMORY} 項" in summary
    assert store.passes == {"now": 14, "before": 2}  # 13 reads + the measured list: never held
