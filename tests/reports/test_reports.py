"""Reports: every export is written and readable, the HTML report is inert against hostile site
content, zh-TW by default with an English option, and multi-agency runs get a ranked overview."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import html as lxml_html
from paths import SAMPLE

from checks.base import Finding
from checks.scoring import load_rubric, score_site
from crawler.extract import extract_page
from reports.render import TEMPLATES, ReportError, load_results, render_all, render_html


@pytest.fixture()
def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def single(results: dict, index: int = 0) -> dict:
    return {**results, "sites": [results["sites"][index]]}


# ---------------------------------------------------------------------------------------------- exports


def test_every_export_is_written_and_readable(sample: dict, tmp_path: Path) -> None:
    from odf import opendocument, table, text
    from openpyxl import load_workbook

    before = copy.deepcopy(sample)
    written = render_all(sample, tmp_path)
    assert sample == before  # rendering never changes the results it reads
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"report.html", "findings.csv", "report.xlsx", "report.ods", "junit.xml", "results.sarif",
            "index.html", "agencies/001-379000000A/report.html", "agencies/001-379000000A/results.json",
            "agencies/003-health.sample-city.invalid/report.html"} <= names
    assert all(p.stat().st_size > 0 for p in written)
    n_findings = sum(len(s["findings"]) for s in sample["sites"])  # 28 + 3 + 0

    raw = (tmp_path / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["機關", "機關代碼", "檢查類別", "規則"]
    assert len(rows) == 1 + n_findings == 32
    broken = [r for r in rows if r[3] == "broken-link" and r[0] == "範例市政府"]
    assert len(broken) == 3 and broken[0][4] == "失效連結" and broken[0][-1] == "計分"
    assert {r[-1] for r in rows if r[3] == "unverified-link"} == {"無法判定"}

    wb = load_workbook(tmp_path / "report.xlsx")
    assert wb.sheetnames == ["摘要", "發現", "扣分明細", "主動公開資訊"]
    summary = [[c.value for c in row] for row in wb["摘要"].iter_rows()]
    assert summary[1][:5] == ["範例市政府", "379000000A", "第1組", "ok", 75.06]
    assert summary[3][4] is None  # the failed site is not scored
    assert wb["發現"].max_row == 1 + n_findings
    assert wb["主動公開資訊"].max_row == 1 + 20  # ten §7 items for each of the two crawled sites

    doc = opendocument.load(str(tmp_path / "report.ods"))
    tables = doc.spreadsheet.getElementsByType(table.Table)
    assert [t.getAttribute("name") for t in tables] == ["摘要", "發現", "扣分明細", "主動公開資訊"]
    finding_rows = tables[1].getElementsByType(table.TableRow)
    assert len(finding_rows) == 1 + n_findings
    first_cell = finding_rows[1].getElementsByType(table.TableCell)[0]
    assert "".join(str(p) for p in first_cell.getElementsByType(text.P)) == "範例市政府"

    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.tag == "testsuites"
    suites = {s.get("name"): s for s in junit.findall("testsuite")}
    assert list(suites) == ["範例市政府", "範例區公所", "範例衛生局"]
    city = {(c.get("classname"), c.get("name")): c for c in suites["範例市政府"].findall("testcase")}
    assert city[("links", "broken-link")].find("failure").get("message") == "3 × 失效連結"
    assert city[("links", "unverified-link")].find("skipped") is not None
    assert city[("links", "title-mismatch")].find("failure") is None  # notices do not fail
    assert city[("links", "soft-404")].find("failure").get("message") == "1 × 偽裝正常的錯誤頁"
    assert city[("staleness", "expired-notice")].find("failure") is not None
    assert city[("classification", "missing-metadata")].find("failure") is not None
    assert suites["範例衛生局"].find("testcase/error").get("type") == "site-failed"
    assert int(junit.get("tests")) == sum(int(s.get("tests")) for s in suites.values())

    sarif = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "disclosure-audit"
    assert len(run["results"]) == 28
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note", "none"}
    assert sorted(r["ruleId"] for r in run["results"] if r.get("kind") == "open") == ["soft-404", "unverified-link"]
    assert sarif["runs"][2]["invocations"][0]["executionSuccessful"] is False


def test_english_exports(sample: dict, tmp_path: Path) -> None:
    render_all(single(sample), tmp_path, lang="en")
    rows = list(csv.reader(io.StringIO((tmp_path / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["agency", "agency_code", "check", "rule"]
    assert rows[1][8] == "Broken link: HTTP 404"  # detail_en when present


# ---------------------------------------------------------------------------------------------- HTML


def test_html_sections_zh_tw(sample: dict) -> None:
    page = lxml_html.fromstring(render_html(single(sample)))
    assert page.get("lang") == "zh-Hant-TW"
    assert page.findtext(".//h1") == "資訊流通服務網站檢測報告"
    assert page.find(".//*[@data-testid='dimension']").text_content().startswith("75.06")
    headings = [h.text_content() for h in page.iter("h3")]
    for expected in ("摘要", "評分假設", "政府資訊公開法第7條第1項主動公開資訊", "優先改善項目",
                     "扣分明細（分數由來）", "失效連結（依目標彙整，列出所有來源頁）", "逾期未更新網頁與年度文件",
                     "詮釋資料缺漏", "無障礙", "線上服務與電子參與", "無法判定的結果（不列入計分）",
                     "人工評分項目", "歷次檢測趨勢"):
        assert expected in headings
    # the chart: four bars drawn in inline SVG
    chart = page.find(".//svg[@class='chart']")
    assert len(chart.findall("rect")) == 8
    assert "預設四項指標權重相同" in page.text_content() or "權重相同" in page.text_content()
    # broken links grouped by target with every source page
    links_table = page.get_element_by_id("s1-links-table")
    row = next(r for r in links_table.iter("tr") if "old-report.pdf" in r.text_content())
    assert [a.get("href") for a in row.findall("td")[3].iter("a")] == [
        "https://www.sample-city.example/news/list.aspx", "https://www.sample-city.example/disclosure/index.aspx"]
    # §7 coverage: items 4 and 7 missing
    cov = page.get_element_by_id("s1-coverage-table")
    missing = [r.findall("td")[0].text_content() for r in cov.iter("tr") if "未發現" in r.text_content()]
    assert missing == ["4", "7"]
    # fix these first: the biggest gain first
    first = page.xpath("//h3[@id='s1-fix']/following-sibling::ol[1]/li")[0].text_content()
    assert first.startswith("提供線上申辦、電子付費、預約、取件通知：+5.88")
    # accessibility by rule with WCAG and Freego references
    a11y = page.get_element_by_id("s1-a11y-table").text_content()
    assert "1.1.1" in a11y and "HM1110100C" in a11y
    templates = {r.findall("td")[0].text_content(): (r.findall("td")[1].text_content(), r.findall("td")[2].text_content())
                 for r in page.get_element_by_id("s1-tpl-table").find("tbody").iter("tr")}
    assert templates == {"list": ("3", "image-alt"), "form": ("1", "label"), "home": ("1", "color-contrast")}
    assert ".banner h2" in page.get_element_by_id("s1-a11y-incomplete").text_content()
    # trend: new/fixed/unchanged since the previous run
    assert "與前次檢測比較：新增 2／已修正 1／未變 26" in page.text_content()


def test_html_english(sample: dict) -> None:
    page = lxml_html.fromstring(render_html(single(sample), lang="en"))
    assert page.get("lang") == "en"
    assert page.findtext(".//h1") == "Information-services website audit report"
    assert "Fix these first" in [h.text_content() for h in page.iter("h3")]
    assert "Broken link: HTTP 404" in page.text_content()


def test_bad_input_is_a_clear_error(sample: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"sites": [', encoding="utf-8")
    with pytest.raises(ReportError, match=r"results file .*bad.json: not valid JSON \(line 1, column 12\)"):
        load_results(bad)
    with pytest.raises(ReportError, match=r"results file .*missing.json: not found"):
        load_results(tmp_path / "missing.json")
    bad.write_text('{"sites": [1]}', encoding="utf-8")
    with pytest.raises(ReportError, match=r"results file .*bad.json: sites\[0\] has no \"agency\" object"):
        load_results(bad)
    assert load_results(SAMPLE)["sites"][0]["agency"]["name"] == "範例市政府"
    with pytest.raises(ReportError, match='key "sites" must be a list'):
        render_all({"schema": "x"}, tmp_path)
    with pytest.raises(ReportError, match="--lang: expected one of zh-TW, en"):
        render_all(sample, tmp_path, lang="fr")


def test_overview_ranks_agencies_within_groups(sample: dict, tmp_path: Path) -> None:
    render_all(sample, tmp_path)
    page = lxml_html.fromstring((tmp_path / "index.html").read_text(encoding="utf-8"))
    groups = [h.text_content() for h in page.iter("h2")]
    assert groups == ["組別：第1組", "組別：第2組"]
    first_group = page.get_element_by_id("g1-table")
    ranked = [(r.findall("td")[0].text_content(), r.find(".//a").text_content(), r.find(".//a").get("href"))
              for r in first_group.find("tbody").iter("tr")]
    assert ranked == [("1", "範例市政府", "agencies/001-379000000A/report.html"),
                      ("2", "範例區公所", "agencies/002-379010000B/report.html")]
    failed = page.get_element_by_id("g2-table").find("tbody/tr")
    assert failed.findall("td")[0].text_content() == "—"
    for _, _, href in ranked:
        assert (tmp_path / href).is_file()


# ---------------------------------------------------------------------------------------------- XSS

PAYLOAD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>首頁<script>alert('title')</script></title></head><body>
<a href="javascript:alert(document.cookie)">市長信箱<img src=x onerror=alert('img')></a>
<a href="/news">"&gt;&lt;svg onload=alert('svg')&gt;最新消息</a>
<a href="/about" title="x"><b onmouseover="alert('b')">機關簡介</b></a>
</body></html>"""


def hostile_results() -> dict:
    """A results dict built from a crawled page whose title and link texts carry payloads."""
    base = "https://evil.example/"
    parsed = extract_page(PAYLOAD_PAGE, base)
    title = parsed.facts.title
    findings = []
    for link in parsed.links:
        findings.append(Finding("links", "title-mismatch", "warning", base, link.target,
                                f"連結文字「{link.text}」與「{title}」不符",
                                {"link_text": link.text, "target_title": title},
                                detail_en=f"Link text {link.text} vs {title}").to_json())
        findings.append(Finding("links", "broken-link", "error", link.target, link.target, title,
                                {"kind": "http", "status": 404}).to_json())
    findings.append(Finding("accessibility", "<img src=x onerror=alert('rule')>", "error",
                            "JaVaScRiPt:alert('page')", " javascript:alert('space')",
                            "<iframe src=javascript:alert('detail')>",
                            {"helpUrl": "javascript:alert('help')", "template": "<b onclick=alert(1)>t</b>",
                             "wcag": ["<script>alert('wcag')</script>"], "freego": "\"><script>x</script>"}).to_json())
    findings.append(Finding("staleness", "stale-page", "warning", "data:text/html,<script>alert('d')</script>",
                            None, "<style>body{display:none}</style>",
                            {"date": "<script>1</script>", "source": "<b>text</b>"}).to_json())
    findings.append(Finding("<script>check</script>", "x-rule", "notice", base, None, "=HYPERLINK(\"http://x\")",
                            {}).to_json())
    site = {
        "agency": {"name": f"{title}<img src=x onerror=alert('agency')>", "code": "<b>code</b>",
                   "url": "javascript:alert('agency-url')", "group": "<script>alert('group')</script>"},
        "status": "\"><script>alert('status')</script>", "detail": "<svg/onload=alert('detail')>",
        "stats": {"pages": 3, "documents": 0, "links_checked": 3, "duration_s": 1},
        "disclosure": {"section_urls": ["javascript:alert('section')"],
                       "categories": [{"item": 1, "name": "<script>alert('cat')</script>", "found": True,
                                       "evidence": ["javascript:alert('cat-ev')", "https://evil.example/ok?a=\"><x"]}]},
        "services": {"<img src=x onerror=alert('feat')>": {"found": True, "evidence": ["vbscript:msgbox(1)"]}},
        "accessibility": {"status": "ok", "pages_tested": 1, "detail": "<script>alert('a11y')</script>",
                          "templates": [{"template": "<script>alert('tpl')</script>", "pages_tested": 1,
                                         "violations": {"<b>r</b>": 1}}]},
        "findings": findings,
    }
    site["scores"] = score_site(site, load_rubric(None))
    site["history"] = [{"run_id": "<script>1</script>", "finished_at": "x", "today": "<b>old</b>", "dimension": 50},
                       {"run_id": "r2", "finished_at": "y", "today": "<script>alert('today')</script>",
                        "dimension": 60}]
    site["changes"] = {"new": [{"rule": "<script>n</script>", "page": "javascript:alert('new')", "target": None}],
                       "fixed": [], "unchanged": 0}
    return {"schema": "disclosure-audit/1", "tool": {"name": "<script>t</script>", "version": "1"},
            "run": {"id": "<script>alert('run')</script>", "today": "2025-06-01", "finished_at": "x"},
            "sites": [site, copy.deepcopy(site)]}


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
def test_hostile_site_content_renders_inert(lang: str, tmp_path: Path) -> None:
    results = hostile_results()
    render_all(results, tmp_path, lang=lang)
    agency_reports = sorted(tmp_path.glob("agencies/*/report.html"))
    assert [p.parent.name for p in agency_reports] == ["001-b-code-b", "002-b-code-b"]
    for path in (tmp_path / "report.html", tmp_path / "index.html", *agency_reports):
        source = path.read_text(encoding="utf-8")
        page = lxml_html.fromstring(source)
        scripts = page.xpath("//script")
        assert len(scripts) == 1 and scripts[0].text == (TEMPLATES / "report.js").read_text(encoding="utf-8")
        for el in page.iter():
            if not isinstance(el.tag, str):
                continue
            assert el.tag not in ("img", "iframe", "object", "embed", "base", "form", "b", "x", "style") or (
                el.tag == "style" and el.getparent().tag == "head"), (path, el.tag)
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (path, el.tag, name)
                if name in ("href", "src", "action", "formaction", "xlink:href"):
                    assert value.startswith(("https://", "http://", "#", "agencies/")), (path, value)
        svgs = page.xpath("//svg")
        assert all(s.get("class") == "chart" for s in svgs)
        csp = page.xpath("//meta[@http-equiv='Content-Security-Policy']")[0].get("content")
        digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode("utf-8")).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    report = lxml_html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8"))
    text = report.text_content()
    # the payloads are shown as text, so an evaluator sees what the site holds
    assert "首頁<script>alert('title')</script><img src=x onerror=alert('agency')>" in text
    assert "javascript:alert('agency-url')" in text
    assert "\"><svg onload=alert('svg')>最新消息" in text
    # hostile cells cannot become spreadsheet formulas
    rows = list(csv.reader(io.StringIO((tmp_path / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert "'=HYPERLINK(\"http://x\")" in [r[8] for r in rows]
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "report.xlsx")["發現" if lang == "zh-TW" else "Findings"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s"
    ET.parse(tmp_path / "junit.xml")
    json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
