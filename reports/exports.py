"""Exports of results.json for other tools: findings.csv, report.xlsx, report.ods, junit.xml,
results.sarif.

Why these: evaluators open CSV/XLSX in Excel (UTF-8 with BOM so Chinese shows correctly); Taiwan's
document policy (ODF-CNS15251 政府文件標準格式) expects ODF, hence report.ods; CI systems read JUnit;
code-review tools read SARIF 2.1.0. All cell text is untrusted crawled content: spreadsheet formulas
are neutralised (CSV: a leading quote; XLSX: cells are typed as text) and characters XML cannot hold
are removed.

Every writer reads a site's findings as a stream (a list, or the StreamedList the run store backs,
issue 6): CSV, XLSX, ODS and JUnit make one pass, SARIF two (its rule table comes before its
results); none holds the findings, only the row being written and small per-rule tallies.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from checks.identity import fingerprint_of
from checks.rules import contract_rules
from reports.i18n import entry_status, rule_title, status_text, strings
from reports.streaming import LazyArray, StreamedList, atomic_text, items_of, iter_json, write_chunks

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32000  # Excel's cell limit is 32,767 characters


def xml_text(value: Any, limit: int = MAX_CELL) -> str:
    """Text XML can hold, at most `limit` characters."""
    text = "" if value is None else str(value)
    # every character _XML_BAD removes is non-printable (control, surrogate, noncharacter): the C-speed
    # isprintable() spares the regex scan for almost every cell
    if not text.isprintable():
        text = _XML_BAD.sub("", text)
    return text[:limit]


def _site_name(site: dict[str, Any]) -> str:
    agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
    return xml_text(agency.get("name") or agency.get("url") or "?", 200)


def _sites(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in results.get("sites") or [] if isinstance(s, dict)]


def _indeterminate(site: dict[str, Any]) -> set[str]:
    ind = ((site.get("scores") or {}).get("indeterminate") or {}) if isinstance(site.get("scores"), dict) else {}
    return {str(f.get("fingerprint")) for f in ind.get("findings") or [] if isinstance(f, dict)}


# one encoder for every finding's evidence: same text as json.dumps(..., ensure_ascii=False), without
# building a new encoder 40,000 times
_EVIDENCE_JSON = json.JSONEncoder(ensure_ascii=False)


def finding_header(lang: str) -> list[str]:
    t = strings(lang)
    return [t[k] for k in ("col_agency", "col_agency_code", "col_check", "col_rule", "col_rule_title",
                           "col_severity", "col_page", "col_target", "col_detail", "col_evidence",
                           "col_fingerprint", "col_scored")]


def count_findings(results: dict[str, Any]) -> int:
    """How many rows `iter_finding_rows` yields (counted without building them; a StreamedList says
    its length without a pass, and its items are findings)."""
    total = 0
    for site in _sites(results):
        findings = items_of(site.get("findings"))
        total += len(findings) if isinstance(findings, StreamedList) else sum(isinstance(f, dict) for f in findings)
    return total


def iter_finding_rows(results: dict[str, Any], lang: str) -> Iterator[list[Any]]:
    """One row per finding of every site (the table behind CSV, XLSX and ODS), made one at a time so
    that 100,000 findings never sit in memory as rows. One pass over each site's findings."""
    t = strings(lang)
    scored, not_counted, indeterminate = t["scored"], t["not_counted"], t["indeterminate_short"]
    titles: dict[str, str] = {}  # rule id -> title: a few dozen rules, tens of thousands of findings
    encode = _EVIDENCE_JSON.encode
    for site in _sites(results):
        agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
        name, code = agency.get("name"), agency.get("code")
        skip = _indeterminate(site)
        for f in items_of(site.get("findings")):
            if not isinstance(f, dict):
                continue
            fp = fingerprint_of(f)
            status = (indeterminate if fp in skip else not_counted if f.get("severity") == "notice" else scored)
            detail = f.get("detail_en") if lang == "en" and f.get("detail_en") else f.get("detail")
            rule = str(f.get("rule") or "")
            title = titles.get(rule)
            if title is None:
                title = titles[rule] = rule_title(rule, lang)
            yield [name, code, f.get("check"), f.get("rule"), title, f.get("severity"), f.get("page"),
                   f.get("target"), detail, encode(f.get("evidence") or {}), fp, status]


def finding_rows(results: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """Header and every finding row as lists (small results and tests; writers use the iterator)."""
    return finding_header(lang), list(iter_finding_rows(results, lang))


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)[:MAX_CELL]
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(finding_header(lang))
        for row in iter_finding_rows(results, lang):
            writer.writerow([_csv_cell(v) for v in row])
    return path


def summary_rows(results: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    t = strings(lang)
    ids = ("disclosure", "retrieval", "online_services", "e_participation")
    header = [t["agency"], t["code"], t["group"], t["status"], t["dimension"],
              *[t[f"ind_{i}"] for i in ids], t["rubric_version"], t["findings_count"]]
    rows = []
    for site in _sites(results):
        agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
        scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
        by_id = {i.get("id"): i.get("score") for i in scores.get("indicators") or [] if isinstance(i, dict)}
        rows.append([agency.get("name"), agency.get("code"), agency.get("group"), site.get("status"),
                     scores.get("dimension"), *[by_id.get(i) for i in ids], scores.get("rubric_version"),
                     len(items_of(site.get("findings")))])
    return header, rows


def deduction_rows(results: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    t = strings(lang)
    header = [t["agency"], t["indicator"], t["criterion"], t["rules"], t["formula"], t["lost_points"],
              t["gain"], t["fingerprints"]]
    rows = []
    for site in _sites(results):
        scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
        for d in scores.get("deductions") or []:
            if isinstance(d, dict):
                name = d.get("name_en") if lang == "en" and d.get("name_en") else d.get("name")
                rows.append([_site_name(site), d.get("indicator"), name,
                             ", ".join(f"{k}×{v}" for k, v in (d.get("rules") or {}).items()),
                             d.get("formula"), d.get("points"), d.get("dimension_points"),
                             " ".join(d.get("fingerprints") or [])])
    return header, rows


def coverage_rows(results: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    t = strings(lang)
    header = [t["agency"], t["item"], t["category"], t["found"], t["evidence"]]
    rows = []
    for site in _sites(results):
        disc = site.get("disclosure") if isinstance(site.get("disclosure"), dict) else {}
        for c in disc.get("categories") or []:
            if isinstance(c, dict):
                rows.append([_site_name(site), c.get("item"), c.get("name"),
                             status_text(entry_status(c), lang, found_word="yes"),
                             " ".join(map(str, c.get("evidence") or []))])
    return header, rows


@dataclass(frozen=True)
class Sheet:
    """One table of the spreadsheets: its rows are produced while the sheet is written."""

    title: str
    header: list[str]
    count: int  # number of rows `rows()` yields, known before writing (XLSX states it up front)
    rows: Callable[[], Iterable[list[Any]]]


def _sheets(results: dict[str, Any], lang: str) -> list[Sheet]:
    """The four sheets of report.xlsx and report.ods. Only the findings sheet is large: it is
    streamed; the other three have a few rows per site."""
    t = strings(lang)

    def small(title: str, table: tuple[list[str], list[list[Any]]]) -> Sheet:
        header, rows = table
        return Sheet(title, header, len(rows), lambda: rows)

    return [small(t["sheet_summary"], summary_rows(results, lang)),
            Sheet(t["sheet_findings"], finding_header(lang), count_findings(results),
                  lambda: iter_finding_rows(results, lang)),
            small(t["sheet_deductions"], deduction_rows(results, lang)),
            small(t["sheet_coverage"], coverage_rows(results, lang))]


def _xlsx_escape(text: str) -> str:
    # str.replace runs in C; str.translate with a dict looks up every character in Python
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xlsx_cell(ref: str, value: Any) -> str:
    """One <c> element, written exactly as openpyxl's write-only worksheet writes it (a test compares
    the two): numbers typed `n`, everything else an inline string, so crawled text that starts with
    "=" is never a formula."""
    return f'<c r="{ref}"{_xlsx_body(value)}'


def _xlsx_body(value: Any) -> str:
    """A <c> element after its reference: the same for every cell of the same value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = "" if isinstance(value, float) and not math.isfinite(value) else f"{value:.16g}"
        return f' t="n"><v>{number}</v></c>'
    text = xml_text(value)
    if not text:
        return ' t="inlineStr"></c>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' t="inlineStr"><is><t{space}>{_xlsx_escape(text)}</t></is></c>'


_CACHED_PER_COLUMN = 512  # distinct values remembered per column: agency, check, rule, severity… repeat


class _CellCache:
    """The text of a cell by column and value, for values that repeat down a column (the agency, the
    check, the rule and its title, the severity, whether it is scored: half the cells of a findings
    row). Per column at most _CACHED_PER_COLUMN values are kept, so the unique ones (page, detail,
    evidence, fingerprint) only cost a lookup; keyed by type too (1, 1.0 and True are different cells)."""

    __slots__ = ("make", "columns")

    def __init__(self, make: Callable[[Any], str], width: int) -> None:
        self.make = make
        self.columns: list[dict[tuple[type, Any], str]] = [{} for _ in range(width)]

    def text(self, col: int, value: Any) -> str:
        kind = type(value)
        if kind is not str and kind is not int and kind is not float and kind is not bool:
            return self.make(value)
        column = self.columns[col] if col < len(self.columns) else {}
        key = (kind, value)
        hit = column.get(key)
        if hit is None:
            hit = self.make(value)
            if len(column) < _CACHED_PER_COLUMN:
                column[key] = hit
        return hit


def _xlsx_rows(rows: Iterable[list[Any]], width: int, first: int = 2) -> Iterator[tuple[bytes, int]]:
    """The <row> elements of a sheet, in blocks of a few hundred rows (with the number of rows in
    each), as ASCII with character references (what openpyxl writes)."""
    letters = [_column_letter(i) for i in range(1, width + 1)]
    body = _CellCache(_xlsx_body, width).text
    block: list[str] = []
    index = first
    for row in rows:
        cells = "".join([f'<c r="{letters[col]}{index}"{body(col, value)}'
                         for col, value in enumerate(row) if value is not None])
        block.append(f'<row r="{index}">{cells}</row>')
        index += 1
        if len(block) >= 500:
            yield "".join(block).encode("ascii", "xmlcharrefreplace"), len(block)
            block.clear()
    if block:
        yield "".join(block).encode("ascii", "xmlcharrefreplace"), len(block)


def write_xlsx(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """report.xlsx: openpyxl writes the workbook (sheets, bold header row, frozen pane, auto filter,
    styles) with the header rows only; the data rows are then streamed into each sheet's XML in
    openpyxl's own format. Same file as openpyxl's write-only mode, in a fraction of the time
    (openpyxl spends ~20 µs per cell: 9 s for 40,000 findings) and without holding the rows."""
    # deferred: openpyxl (~0.15 s) only when report.xlsx is written
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheets = _sheets(results, lang)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(title=sheet.title[:31])
        ws.freeze_panes = "A2"
        if sheet.count:
            ws.auto_filter.ref = f"A1:{_column_letter(len(sheet.header))}{sheet.count + 1}"
        head = []
        for value in sheet.header:
            cell = WriteOnlyCell(ws, value=xml_text(value))
            cell.font = bold
            head.append(cell)
        ws.append(head)
    skeleton = io.BytesIO()
    wb.save(skeleton)
    by_member = {f"xl/worksheets/sheet{i}.xml": sheet for i, sheet in enumerate(sheets, 1)}
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            sheet = by_member.get(info.filename)
            if sheet is None:
                dst.writestr(member, data)
                continue
            head_xml, end, tail = data.partition(b"</sheetData>")
            if not end:
                raise RuntimeError(f"report.xlsx: openpyxl wrote {info.filename} without <sheetData>")
            written = 0
            with dst.open(member, "w") as out:
                out.write(head_xml)
                for block, n in _xlsx_rows(sheet.rows(), len(sheet.header)):
                    out.write(block)
                    written += n
                out.write(end + tail)
            if written != sheet.count:  # the auto filter above covers exactly sheet.count rows
                raise RuntimeError(f"report.xlsx: sheet {sheet.title} has {written} rows, expected {sheet.count}")
    return path


def _column_letter(n: int) -> str:
    # deferred: openpyxl only when report.xlsx is written
    from openpyxl.utils import get_column_letter

    return get_column_letter(max(1, n))


_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{_ODS_MIME}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
)


def write_ods(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """ODF spreadsheet (ODF-CNS15251, the government document standard), streamed row by row.

    odfpy builds the whole document tree in memory (minutes and hundreds of MB for a large site), so
    the few elements a table needs are written directly into the ODF package; tests read the file
    back with odfpy."""
    def cell(value: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        text = xml_text(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")  # saxutils.escape
        return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        with z.open("content.xml", "w") as raw:
            raw.write(_ODS_HEAD.encode("utf-8"))
            for sheet in _sheets(results, lang):
                raw.write(f"<table:table table:name={quoteattr(xml_text(sheet.title, 31))}>".encode())
                block: list[str] = []  # a few hundred rows per write: fewer, larger deflate calls
                text = _CellCache(cell, len(sheet.header)).text
                for row in itertools.chain([sheet.header], sheet.rows()):
                    block.append("<table:table-row>" + "".join([text(col, v) for col, v in enumerate(row)])
                                 + "</table:table-row>")
                    if len(block) >= 500:
                        raw.write("".join(block).encode("utf-8"))
                        block.clear()
                raw.write(("".join(block) + "</table:table>").encode("utf-8"))
            raw.write(b"</office:spreadsheet></office:body></office:document-content>")
    return path


JUNIT_LINES = 200  # finding lines in a test case's failure text or output


class _RuleCase:
    """What one JUnit test case shows of a rule's findings, gathered finding by finding: the counts
    and the first JUNIT_LINES lines of failing findings and of all findings (the lines only of
    those: a rule with 100,000 findings keeps 400 short strings, not its findings)."""

    __slots__ = ("found", "judged", "failing", "failing_lines", "found_lines")

    def __init__(self) -> None:
        self.found = self.judged = self.failing = 0
        self.failing_lines: list[str] = []
        self.found_lines: list[str] = []

    def add(self, f: dict[str, Any], judged: bool, lang: str) -> None:
        self.found += 1
        failing = judged and f.get("severity") in ("error", "warning")
        self.judged += judged
        self.failing += failing
        if len(self.found_lines) < JUNIT_LINES or (failing and len(self.failing_lines) < JUNIT_LINES):
            # xml_text per line, then again on the joined text: the same characters as xml_text of
            # the joined lines (newlines are kept and clipping a line cannot change the first
            # MAX_CELL characters of the join), with no line held longer than a cell
            line = xml_text(f"{f.get('severity')}: {f.get('page')} -> {f.get('target') or '-'}: "
                            f"{(f.get('detail_en') if lang == 'en' and f.get('detail_en') else f.get('detail'))}")
            if len(self.found_lines) < JUNIT_LINES:
                self.found_lines.append(line)
            if failing and len(self.failing_lines) < JUNIT_LINES:
                self.failing_lines.append(line)


def write_junit(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """One test suite per site, one test case per rule: failure for error/warning findings, skipped
    when every finding of the rule is indeterminate, error when the site could not be audited.
    One pass over each site's findings (per rule: counts and at most 2 × JUNIT_LINES lines)."""
    root = ET.Element("testsuites", name="disclosure-audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for site in _sites(results):
        suite = ET.SubElement(root, "testsuite", name=_site_name(site))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        scores = site.get("scores") if isinstance(site.get("scores"), dict) else {}
        props = ET.SubElement(suite, "properties")
        agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
        for key, value in (("url", agency.get("url")), ("code", agency.get("code")),
                           ("dimension", scores.get("dimension")), ("rubric_version", scores.get("rubric_version"))):
            ET.SubElement(props, "property", name=key, value=xml_text(value if value is not None else "", 2000))
        if site.get("status") == "failed":
            case = ET.SubElement(suite, "testcase", classname="audit", name="site-reachable")
            ET.SubElement(case, "error", message=xml_text(site.get("detail") or "site failed", 500), type="site-failed")
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            skip = _indeterminate(site)
            by_rule: dict[tuple[str, str], _RuleCase] = {
                (check, rule): _RuleCase() for rule, check in contract_rules().items()}
            for f in items_of(site.get("findings")):
                if isinstance(f, dict):
                    key = (str(f.get("check") or ""), str(f.get("rule") or ""))
                    tally = by_rule.get(key)
                    if tally is None:
                        tally = by_rule[key] = _RuleCase()
                    tally.add(f, fingerprint_of(f) not in skip, lang)
            for (check, rule), tally in by_rule.items():
                case = ET.SubElement(suite, "testcase", classname=xml_text(check, 100), name=xml_text(rule, 200))
                counts["tests"] += 1
                lines = tally.failing_lines if tally.failing else tally.found_lines
                if tally.failing:
                    fail = ET.SubElement(case, "failure", type=xml_text(rule, 200),
                                         message=xml_text(f"{tally.failing} × {rule_title(rule, lang)}", 500))
                    fail.text = xml_text("\n".join(lines))
                    counts["failures"] += 1
                elif tally.found and not tally.judged:
                    ET.SubElement(case, "skipped", message=xml_text(f"{tally.found} indeterminate", 200))
                    counts["skipped"] += 1
                elif tally.found:
                    out = ET.SubElement(case, "system-out")
                    out.text = xml_text("\n".join(lines))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_sarif(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """SARIF 2.1.0: one run per site; indeterminate findings are `kind: open` with level `none`.

    Streamed: each run's rule table is collected first (one entry per rule id), then its results are
    made and written one at a time; the bytes equal `json.dumps(doc, ensure_ascii=False, indent=1)`.
    Two passes over each site's findings: the rule table, then the results."""
    tool = results.get("tool") if isinstance(results.get("tool"), dict) else {}
    run_info = results.get("run") if isinstance(results.get("run"), dict) else {}
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": LazyArray(lambda: (_sarif_run(site, tool, run_info, lang) for site in _sites(results)),
                             nested=True)}
    with atomic_text(path) as fh:
        write_chunks(fh, iter_json(doc, indent=1))
    return path


_SARIF_LEVELS = {"error": "error", "warning": "warning", "notice": "note"}


def _sarif_run(site: dict[str, Any], tool: dict[str, Any], run_info: dict[str, Any], lang: str) -> dict[str, Any]:
    skip = _indeterminate(site)
    agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
    findings = items_of(site.get("findings"))  # read twice: the rule table first, then the results
    rules: dict[str, dict[str, Any]] = {}
    for f in findings:
        if not isinstance(f, dict):
            continue
        rule = xml_text(f.get("rule") or "unknown", 200)
        if rule not in rules:
            rules[rule] = {"id": rule, "name": rule_title(rule, "en"),
                           "shortDescription": {"text": rule_title(rule, lang)},
                           "properties": {"check": f.get("check")}}
    index = {rule: i for i, rule in enumerate(rules)}

    def results_of() -> Iterator[dict[str, Any]]:
        for f in findings:
            if not isinstance(f, dict):
                continue
            rule = xml_text(f.get("rule") or "unknown", 200)
            fp = fingerprint_of(f)
            detail = f.get("detail_en") if lang == "en" and f.get("detail_en") else f.get("detail")
            result: dict[str, Any] = {
                "ruleId": rule, "ruleIndex": index[rule],
                "level": _SARIF_LEVELS.get(str(f.get("severity")), "warning"),
                "message": {"text": xml_text(detail or rule, 2000)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": xml_text(f.get("page"), 2048)}}}],
                "partialFingerprints": {"disclosureAudit/v1": fp},
                "properties": {"check": f.get("check"), "severity": f.get("severity"),
                               "target": f.get("target"), "evidence": f.get("evidence") or {}},
            }
            if fp in skip:
                result["kind"] = "open"
                result["level"] = "none"
            yield result

    return {
        "tool": {"driver": {"name": str(tool.get("name") or "disclosure-audit"),
                            "version": str(tool.get("version") or "0"),
                            "rules": list(rules.values())}},
        "automationDetails": {"id": f"{run_info.get('id') or 'run'}/{agency.get('code') or agency.get('url') or ''}"},
        "invocations": [{"executionSuccessful": site.get("status") != "failed",
                         **({"exitCodeDescription": xml_text(site.get("detail"), 500)} if site.get("detail") else {})}],
        "properties": {"agency": agency, "status": site.get("status"),
                       "scores": {k: (site.get("scores") or {}).get(k) for k in ("dimension", "rubric_version")}},
        "results": LazyArray(results_of),
    }


def write_all(results: dict[str, Any], out: Path, lang: str = "zh-TW") -> list[Path]:
    """Every export into folder `out` (results.json itself is written by the pipeline)."""
    return [write_csv(results, out / "findings.csv", lang), write_xlsx(results, out / "report.xlsx", lang),
            write_ods(results, out / "report.ods", lang), write_junit(results, out / "junit.xml", lang),
            write_sarif(results, out / "results.sarif", lang)]
