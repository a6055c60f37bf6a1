"""Large runs (issue 6): report.html caps each table at MAX_ROWS_PER_RULE rows per rule and says so
on the page, while every export keeps every finding; results.json, results.sarif and report.xlsx
are streamed and stay byte-identical to what the one-shot writers produced."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from paths import ROOT, SAMPLE

from checks.base import Finding
from reports import exports
from reports.render import MAX_ROWS_PER_RULE, ReportError, render_all, render_html, write_html
from reports.streaming import LazyArray, iter_json, write_json

BASE = "https://www.big-city.example"


def stale(i: int) -> dict[str, Any]:
    return Finding("staleness", "stale-page", "warning", f"{BASE}/news/{i:05d}.html", None,
                   f"網頁最後更新日期為 2020-01-01，已 {2000 + i} 天未更新。",
                   {"date": "2020-01-01", "source": "text", "age_days": 2000 + i},
                   detail_en=f"Last updated 2020-01-01, {2000 + i} days ago.").to_json()


def broken(target: str, page: str) -> dict[str, Any]:
    return Finding("links", "broken-link", "error", page, target, "連結失效：HTTP 404",
                   {"kind": "http", "status": 404}, detail_en="Broken link: HTTP 404").to_json()


def big_site(findings: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"schema": "disclosure-audit/1", "tool": {"name": "disclosure-audit", "version": "1"},
            "run": {"id": "big", "today": "2026-11-23", "finished_at": "2026-11-23T00:00:00Z"},
            "sites": [{"agency": {"name": "大型市政府", "code": "380000000A", "url": f"{BASE}/"},
                       "status": "ok", "stats": {"pages": 10000, "documents": 0, "links_checked": 10},
                       "findings": findings, **extra}]}


def body_rows(page: Any, table_id: str) -> list[Any]:
    return page.get_element_by_id(table_id).findall("tbody/tr")


def notes_after(page: Any, table_id: str) -> list[str]:
    """The "…另有 N 筆" notes written right after a table's wrapper."""
    wrap = page.get_element_by_id(table_id).getparent()
    nxt = wrap.getnext()
    if nxt is None or nxt.get("data-testid") != "more-rows":
        return []
    return [li.text_content() for li in nxt.iter("li")]


# ------------------------------------------------------------------------------------------- the cap


def test_250_findings_of_one_rule_show_200_rows_and_a_note_while_exports_keep_all(tmp_path: Path) -> None:
    assert MAX_ROWS_PER_RULE == 200
    findings = [stale(i) for i in range(250)] + [broken(f"{BASE}/gone.pdf", f"{BASE}/")]
    results = big_site(findings)
    render_all(results, tmp_path)
    page = lxml_html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8"))

    rows = body_rows(page, "s1-stale-table")
    assert len(rows) == 200
    assert rows[0].findall("td")[0].text_content() == f"{BASE}/news/00000.html"  # results.json order
    assert rows[-1].findall("td")[0].text_content() == f"{BASE}/news/00199.html"
    note = "網頁逾期未更新（stale-page）：本表只列出前 200 筆，另有 50 筆，完整清單見 findings.csv / results.json。"
    assert notes_after(page, "s1-stale-table") == [note]
    # "all findings": 200 stale rows + the broken link, and the same note (the link is not capped)
    assert len(body_rows(page, "s1-all-table")) == 201
    assert notes_after(page, "s1-all-table") == [note]
    assert notes_after(page, "s1-links-table") == []
    capped = page.xpath("//*[@data-testid='rows-capped']")
    assert [p.text_content() for p in capped] == [
        "本報告的表格每項規則最多列出 200 筆，省略的筆數註明於各表下方；findings.csv、report.xlsx、report.ods、"
        "results.sarif 與 results.json 保有全部發現。"]

    # every export still has all 251 findings
    rows_csv = list(csv.reader(io.StringIO((tmp_path / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows_csv) == 1 + 251
    assert sum(r[3] == "stale-page" for r in rows_csv) == 250
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "report.xlsx", read_only=True)["發現"]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + 251
    sarif = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == 251
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    case = junit.find("testsuite/testcase[@name='stale-page']")
    assert case.find("failure").get("message") == "250 × 網頁逾期未更新"
    from odf import opendocument, table

    tables = opendocument.load(str(tmp_path / "report.ods")).spreadsheet.getElementsByType(table.Table)
    assert len(tables[1].getElementsByType(table.TableRow)) == 1 + 251


def test_no_cap_when_asked_and_none_below_the_cap(tmp_path: Path) -> None:
    results = big_site([stale(i) for i in range(250)])
    page = lxml_html.fromstring(render_html(results, max_rows=None))
    assert len(body_rows(page, "s1-stale-table")) == 250
    assert page.xpath("//*[@data-testid='more-rows' or @data-testid='rows-capped']") == []
    exactly = lxml_html.fromstring(render_html(big_site([stale(i) for i in range(200)])))
    assert len(body_rows(exactly, "s1-stale-table")) == 200
    assert exactly.xpath("//*[@data-testid='more-rows' or @data-testid='rows-capped']") == []
    small = lxml_html.fromstring(render_html(results, max_rows=30))
    assert len(body_rows(small, "s1-stale-table")) == 30
    assert notes_after(small, "s1-stale-table") == [
        "網頁逾期未更新（stale-page）：本表只列出前 30 筆，另有 220 筆，完整清單見 findings.csv / results.json。"]
    for bad in (0, -1, 2.5, "200", True):
        with pytest.raises(ReportError, match="max rows per rule: expected a whole number of at least 1"):
            render_all(results, tmp_path, max_rows=bad)


def test_the_cap_is_per_rule_and_per_table_in_english() -> None:
    metadata = [Finding("classification", "missing-metadata", "warning", f"{BASE}/p/{i}.html", None,
                        "缺少 DC.Subject", {"fields": ["DC.Subject"]}).to_json() for i in range(203)]
    results = big_site([stale(i) for i in range(201)] + metadata)
    page = lxml_html.fromstring(render_html(results, lang="en"))
    assert len(body_rows(page, "s1-stale-table")) == 200
    assert len(body_rows(page, "s1-meta-table")) == 200
    assert len(body_rows(page, "s1-all-table")) == 400
    assert notes_after(page, "s1-all-table") == [
        "Page not updated (stale-page): only the first 200 rows are listed; 1 more are in findings.csv / results.json.",
        "Missing metadata (missing-metadata): only the first 200 rows are listed; 3 more are in findings.csv / "
        "results.json."]
    assert "Each table of this report lists at most 200 rows per rule" in page.text_content()


def test_broken_links_cap_targets_and_keep_the_source_count() -> None:
    menu = [broken(f"{BASE}/menu-gone.html", f"{BASE}/p/{i}.html") for i in range(300)]
    others = [broken(f"{BASE}/gone-{i}.pdf", f"{BASE}/list.html") for i in range(210)]
    page = lxml_html.fromstring(render_html(big_site(menu + others)))
    rows = body_rows(page, "s1-links-table")
    assert len(rows) == 200
    first = rows[0].findall("td")
    assert first[0].text_content() == f"{BASE}/menu-gone.html"  # most source pages first
    assert first[4].text_content() == "300"
    assert len(first[3].findall(".//a")) == 20 and first[3].text_content().endswith("… (+280)")
    assert notes_after(page, "s1-links-table") == [
        "失效連結（broken-link）：本表只列出前 200 個目標，另有 11 個目標，完整清單見 findings.csv / results.json。"]


def test_changes_beyond_the_cap_are_counted() -> None:
    new = [{"rule": "stale-page", "page": f"{BASE}/n/{i}.html", "target": None} for i in range(250)]
    results = big_site([stale(0)], history=[{"run_id": "a", "dimension": 50}, {"run_id": "b", "dimension": 60}],
                       changes={"since_run": "a", "new": new, "fixed": [], "unchanged": 0})
    page = lxml_html.fromstring(render_html(results))
    table = page.xpath("//h4[.='新增']/following-sibling::div[1]//table")[0]
    assert len(table.findall("tbody/tr")) == 200
    note = table.getparent().getnext()
    assert note.text_content() == "本表只列出前 200 筆，另有 50 筆，完整清單見 results.json（changes）。"


def test_a_hostile_rule_in_a_note_is_text() -> None:
    rule = "<img src=x onerror=alert('rule')>"
    findings = [Finding("x<script>", rule, "warning", f"{BASE}/{i}", None, "d", {}).to_json() for i in range(202)]
    source = render_html(big_site(findings))
    page = lxml_html.fromstring(source)
    assert page.xpath("//img") == [] and len(page.xpath("//script")) == 1
    assert notes_after(page, "s1-all-table") == [
        f"{rule}（{rule}）：本表只列出前 200 筆，另有 2 筆，完整清單見 findings.csv / results.json。"]


def test_streamed_html_equals_the_rendered_text(tmp_path: Path) -> None:
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for lang in ("zh-TW", "en"):
        path = write_html(sample, tmp_path / f"{lang}.html", lang=lang)
        assert path.read_text(encoding="utf-8") == render_html(sample, lang=lang)


def test_a_failure_while_streaming_keeps_the_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reports.render as render

    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    path = write_html(sample, tmp_path / "report.html")
    before = path.read_bytes()

    def broken_view(site: dict[str, Any], lang: str, max_rows: int | None = None) -> dict[str, Any]:
        raise RuntimeError("view failed")

    monkeypatch.setattr(render, "site_view", broken_view)
    with pytest.raises(RuntimeError, match="view failed"):
        write_html(sample, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ---------------------------------------------------------------------------- streamed JSON writers

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, indent=st.sampled_from([1, 2]))
def test_write_json_bytes_equal_json_dumps(tmp_path_factory: pytest.TempPathFactory, value: Any, indent: int) -> None:
    path = tmp_path_factory.mktemp("j") / "results.json"
    write_json(value, path, indent=indent)
    assert path.read_bytes() == json.dumps(value, ensure_ascii=False, indent=indent).encode("utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary file left


def test_write_json_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = write_json({"sites": []}, tmp_path / "results.json")
    with pytest.raises(TypeError):
        write_json({"sites": [object()]}, path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"sites": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    write_json(sample, path)
    assert path.read_text(encoding="utf-8") == json.dumps(sample, ensure_ascii=False, indent=2)


def lazify(value: Any, draw_flags: list[bool]) -> Any:
    """`value` with some of its lists replaced by LazyArrays (nested where they hold lazy items)."""
    if isinstance(value, dict):
        return {k: lazify(v, draw_flags) for k, v in value.items()}
    if isinstance(value, list):
        items = [lazify(v, draw_flags) for v in value]
        if draw_flags and draw_flags.pop():
            nested = any(isinstance(v, LazyArray | dict | list) for v in items)
            return LazyArray(lambda items=items: iter(items), nested=nested)
        return items
    return value


@settings(max_examples=200, deadline=None)
@given(value=json_values, flags=st.lists(st.booleans(), max_size=20), indent=st.sampled_from([1, 2]))
def test_iter_json_with_lazy_arrays_equals_json_dumps(value: Any, flags: list[bool], indent: int) -> None:
    doc = {"runs": [value, {"results": value}], "x": value}
    expected = json.dumps(doc, ensure_ascii=False, indent=indent)
    lazy = lazify(doc, flags)
    assert "".join(iter_json(lazy, indent)) == expected
    assert "".join(iter_json(lazy, indent)) == expected  # a LazyArray can be written twice


def test_sarif_is_streamed_with_the_same_bytes(tmp_path: Path) -> None:
    """The SARIF writer used to build the whole document and json.dumps it; the streamed one must
    write the same bytes (rules table first, then one result at a time)."""
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for lang in ("zh-TW", "en"):
        path = exports.write_sarif(sample, tmp_path / "results.sarif", lang)
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert path.read_text(encoding="utf-8") == json.dumps(doc, ensure_ascii=False, indent=1)
        runs = doc["runs"]
        assert [len(r["results"]) for r in runs] == [len(s["findings"]) for s in sample["sites"]]
        assert runs[2]["results"] == []  # the failed site: an empty array, written as []
        first = runs[0]["results"][0]
        assert first["ruleId"] == "broken-link"
        assert runs[0]["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "broken-link"


# ------------------------------------------------------------------------- XLSX rows as openpyxl writes


def openpyxl_xlsx(results: dict[str, Any], path: Path, lang: str) -> None:
    """The previous writer: every cell through openpyxl's write-only worksheet (the reference)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    for sheet in exports._sheets(results, lang):
        rows = list(sheet.rows())
        ws = wb.create_sheet(title=sheet.title[:31])
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = f"A1:{exports._column_letter(len(sheet.header))}{len(rows) + 1}"
        head = []
        for value in sheet.header:
            cell = WriteOnlyCell(ws, value=exports.xml_text(value))
            cell.font = Font(bold=True)
            head.append(cell)
        ws.append(head)
        for row in rows:
            out: list[Any] = []
            for value in row:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.append(value)
                elif value is None:
                    out.append(None)
                else:
                    cell = WriteOnlyCell(ws, value=exports.xml_text(value))
                    cell.data_type = "s"
                    out.append(cell)
            ws.append(out)
    wb.save(path)


def same_members(a: Path, b: Path) -> None:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            if name != "docProps/core.xml":  # creation time
                assert za.read(name) == zb.read(name), name


def test_xlsx_equals_openpyxl_on_the_sample_and_hostile_text(tmp_path: Path) -> None:
    from tests.reports.test_reports import hostile_results

    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for name, results in (("sample", sample), ("hostile", hostile_results())):
        for lang in ("zh-TW", "en"):
            exports.write_xlsx(results, tmp_path / f"{name}-{lang}.xlsx", lang)
            openpyxl_xlsx(results, tmp_path / f"{name}-{lang}-ref.xlsx", lang)
            same_members(tmp_path / f"{name}-{lang}.xlsx", tmp_path / f"{name}-{lang}-ref.xlsx")


cell_text = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["", " ", " x", "x\t", "=1+1", "@SUM(A1)", "a\r\nb", "&<>\"'", "\u3000全形\u3000", "\x85", "\ufffe", "😀",
     "#N/A", "]]>", "\x00\x1f", "\ud800x"])
cell_value = (cell_text | st.none() | st.booleans() | st.integers(-(2**60), 2**60)
              | st.floats(allow_nan=True, allow_infinity=True) | st.lists(st.integers(), max_size=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(cell_value, cell_value, cell_value), min_size=0, max_size=6))
def test_xlsx_cells_equal_openpyxl_for_any_value(tmp_path: Path, values: list[tuple[Any, Any, Any]]) -> None:
    findings = [{"check": a, "rule": "r", "severity": "warning", "page": b, "target": c, "detail": a,
                 "evidence": {}, "fingerprint": "f"} for a, b, c in values]
    results = big_site(findings)
    results["sites"][0]["agency"]["name"] = values[0][0] if values else None
    results["sites"][0]["scores"] = {"dimension": values[0][1] if values else math.nan}
    exports.write_xlsx(results, tmp_path / "new.xlsx", "zh-TW")
    openpyxl_xlsx(results, tmp_path / "ref.xlsx", "zh-TW")
    same_members(tmp_path / "new.xlsx", tmp_path / "ref.xlsx")


# ------------------------------------------------------------------------------------ bounded memory

MEMORY_PROBE = r"""
import gc, json, resource, sys, tempfile
from pathlib import Path
from checks.base import Finding
from reports.render import render_all
from reports.streaming import write_json
B = "https://www.big-city.example"
findings = []
for i in range(20000):
    if i % 2:
        findings.append(Finding("links", "title-mismatch", "notice", f"{B}/p/{i}.html", f"{B}/t/{i % 997}.html",
                                f"連結文字「第 {i} 則」與目的頁標題不相符。", {"link_text": f"第 {i} 則",
                                "target_title": "開放資料 - 臺灣範例市政府", "similarity": 0.0}).to_json())
    else:
        findings.append(Finding("staleness", "stale-page", "warning", f"{B}/n/{i}.html", None,
                                f"網頁最後更新日期為 2020-05-19，已 {i} 天未更新，超過 365 天的期限。",
                                {"date": "2020-05-19", "source": "text", "age_days": i}).to_json())
results = {"run": {"id": "m"}, "sites": [{"agency": {"name": "大型市政府", "url": B}, "status": "ok",
                                          "findings": findings}]}
warm = {"run": {"id": "w"}, "sites": [{"agency": {"name": "w"}, "findings": findings[:2]}]}
render_all(warm, Path(tempfile.mkdtemp()))  # imports and compiled templates are not what we measure
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = Path(tempfile.mkdtemp())
write_json(results, out / "results.json")
render_all(results, out)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sizes = {p.name: p.stat().st_size for p in out.iterdir()}
print(json.dumps({"growth_kb": after - before, "sizes": sizes}))
"""


def test_writing_20000_findings_needs_little_memory_beyond_the_results() -> None:
    """results.json plus every report for 20,000 findings: the one-shot writers grew the process by
    ~140 MB (a 20 MB HTML page, SARIF and results.json each built as one string from a list of
    chunks); the streamed ones by ~4 MB."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["sizes"]["findings.csv"] > 4_000_000  # every finding is exported...
    assert report["sizes"]["report.html"] < 1_000_000  # ...while the page shows 200 rows per rule
    assert report["growth_kb"] < 30_000, report


def test_report_command_lists_every_finding_when_asked(tmp_path: Path) -> None:
    """`disclosure-audit report results.json --html-max-rows all` re-renders an uncapped report.html."""
    from disclosure_audit.cli import main

    results = tmp_path / "results.json"
    results.write_text(json.dumps(big_site([stale(i) for i in range(250)]), ensure_ascii=False), "utf-8")
    assert main(["report", str(results), "--quiet"]) == 0
    capped = lxml_html.fromstring((tmp_path / "report.html").read_text("utf-8"))
    assert len(body_rows(capped, "s1-stale-table")) == 200
    assert main(["report", str(results), "--quiet", "--html-max-rows", "all"]) == 0
    full = lxml_html.fromstring((tmp_path / "report.html").read_text("utf-8"))
    assert len(body_rows(full, "s1-stale-table")) == 250
    assert main(["report", str(results), "--quiet", "--html-max-rows", "30"]) == 0
    assert len(body_rows(lxml_html.fromstring((tmp_path / "report.html").read_text("utf-8")), "s1-stale-table")) == 30
    with pytest.raises(SystemExit) as bad:
        main(["report", str(results), "--html-max-rows", "0"])
    assert bad.value.code == 2
