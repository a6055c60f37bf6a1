"""Exports of results.json for other tools: findings.csv, report.xlsx, report.ods, junit.xml,
results.sarif.

Why these: evaluators open CSV/XLSX in Excel (UTF-8 with BOM so Chinese shows correctly); Taiwan's
document policy (ODF-CNS15251 政府文件標準格式) expects ODF, hence report.ods; CI systems read JUnit;
code-review tools read SARIF 2.1.0. All cell text is untrusted crawled content: spreadsheet formulas
are neutralised (CSV: a leading quote; XLSX: cells are typed as text) and characters XML cannot hold
are removed.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from reports.i18n import rule_title, strings

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32000  # Excel's cell limit is 32,767 characters

# the contract's rule ids and their check family: a JUnit test case exists for each even when it passed
CONTRACT_RULES: dict[str, str] = {
    "broken-link": "links", "unverified-link": "links", "soft-404": "links", "missing-anchor": "links",
    "tls-error": "links", "title-mismatch": "links", "stale-page": "staleness",
    "outdated-annual-document": "staleness", "expired-notice": "staleness",
    "missing-metadata": "classification", "invalid-category-code": "classification",
    "missing-disclosure-section": "disclosure", "missing-disclosure-category": "disclosure",
}


def xml_text(value: Any, limit: int = MAX_CELL) -> str:
    text = _XML_BAD.sub("", "" if value is None else str(value))
    return text[:limit]


def _site_name(site: dict[str, Any]) -> str:
    agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
    return xml_text(agency.get("name") or agency.get("url") or "?", 200)


def _sites(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in results.get("sites") or [] if isinstance(s, dict)]


def _indeterminate(site: dict[str, Any]) -> set[str]:
    ind = ((site.get("scores") or {}).get("indeterminate") or {}) if isinstance(site.get("scores"), dict) else {}
    return {str(f.get("fingerprint")) for f in ind.get("findings") or [] if isinstance(f, dict)}


def finding_rows(results: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per finding of every site (the table behind CSV, XLSX and ODS)."""
    from checks.scoring import fingerprint_of

    t = strings(lang)
    header = [t[k] for k in ("col_agency", "col_agency_code", "col_check", "col_rule", "col_rule_title",
                             "col_severity", "col_page", "col_target", "col_detail", "col_evidence",
                             "col_fingerprint", "col_scored")]
    rows: list[list[Any]] = []
    for site in _sites(results):
        agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
        skip = _indeterminate(site)
        for f in site.get("findings") or []:
            if not isinstance(f, dict):
                continue
            fp = fingerprint_of(f)
            status = (t["indeterminate_short"] if fp in skip
                      else t["not_counted"] if f.get("severity") == "notice" else t["scored"])
            detail = f.get("detail_en") if lang == "en" and f.get("detail_en") else f.get("detail")
            rows.append([agency.get("name"), agency.get("code"), f.get("check"), f.get("rule"),
                         rule_title(str(f.get("rule") or ""), lang), f.get("severity"), f.get("page"),
                         f.get("target"), detail, json.dumps(f.get("evidence") or {}, ensure_ascii=False),
                         fp, status])
    return header, rows


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)[:MAX_CELL]
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    header, rows = finding_rows(results, lang)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
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
                     len(site.get("findings") or [])])
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
                             t["yes"] if c.get("found") else t["no"], " ".join(map(str, c.get("evidence") or []))])
    return header, rows


def _sheets(results: dict[str, Any], lang: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    t = strings(lang)
    return [(t["sheet_summary"], *summary_rows(results, lang)),
            (t["sheet_findings"], *finding_rows(results, lang)),
            (t["sheet_deductions"], *deduction_rows(results, lang)),
            (t["sheet_coverage"], *coverage_rows(results, lang))]


def write_xlsx(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """openpyxl in write-only mode: rows stream to disk, so 100,000 findings stay cheap."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in _sheets(results, lang):
        ws = wb.create_sheet(title=title[:31])
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = f"A1:{_column_letter(len(header))}{len(rows) + 1}"
        head = []
        for value in header:
            cell = WriteOnlyCell(ws, value=xml_text(value))
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in rows:
            out = []
            for value in row:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.append(value)
                elif value is None:
                    out.append(None)
                else:
                    cell = WriteOnlyCell(ws, value=xml_text(value))
                    cell.data_type = "s"  # crawled text starting with "=" must never become a formula
                    out.append(cell)
            ws.append(out)
    wb.save(path)
    return path


def _column_letter(n: int) -> str:
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
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    def cell(value: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{escape(xml_text(value))}</text:p></table:table-cell>'

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        with z.open("content.xml", "w") as raw:
            raw.write(_ODS_HEAD.encode("utf-8"))
            for title, header, rows in _sheets(results, lang):
                raw.write(f"<table:table table:name={quoteattr(xml_text(title, 31))}>".encode())
                for row in [header, *rows]:
                    raw.write(("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>")
                              .encode("utf-8"))
                raw.write(b"</table:table>")
            raw.write(b"</office:spreadsheet></office:body></office:document-content>")
    return path


def write_junit(results: dict[str, Any], path: Path, lang: str = "zh-TW") -> Path:
    """One test suite per site, one test case per rule: failure for error/warning findings, skipped
    when every finding of the rule is indeterminate, error when the site could not be audited."""
    from checks.scoring import fingerprint_of

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
            by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {
                (check, rule): [] for rule, check in CONTRACT_RULES.items()}
            for f in site.get("findings") or []:
                if isinstance(f, dict):
                    by_rule.setdefault((str(f.get("check") or ""), str(f.get("rule") or "")), []).append(f)
            for (check, rule), found in by_rule.items():
                case = ET.SubElement(suite, "testcase", classname=xml_text(check, 100), name=xml_text(rule, 200))
                counts["tests"] += 1
                judged = [f for f in found if fingerprint_of(f) not in skip]
                failing = [f for f in judged if f.get("severity") in ("error", "warning")]
                lines = [f"{f.get('severity')}: {f.get('page')} -> {f.get('target') or '-'}: "
                         f"{(f.get('detail_en') if lang == 'en' and f.get('detail_en') else f.get('detail'))}"
                         for f in (failing or found)[:200]]
                if failing:
                    fail = ET.SubElement(case, "failure", type=xml_text(rule, 200),
                                         message=xml_text(f"{len(failing)} × {rule_title(rule, lang)}", 500))
                    fail.text = xml_text("\n".join(lines))
                    counts["failures"] += 1
                elif found and not judged:
                    ET.SubElement(case, "skipped", message=xml_text(f"{len(found)} indeterminate", 200))
                    counts["skipped"] += 1
                elif found:
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
    """SARIF 2.1.0: one run per site; indeterminate findings are `kind: open` with level `none`."""
    from checks.scoring import fingerprint_of

    tool = results.get("tool") if isinstance(results.get("tool"), dict) else {}
    run_info = results.get("run") if isinstance(results.get("run"), dict) else {}
    levels = {"error": "error", "warning": "warning", "notice": "note"}
    runs = []
    for site in _sites(results):
        skip = _indeterminate(site)
        agency = site.get("agency") if isinstance(site.get("agency"), dict) else {}
        rules: dict[str, dict[str, Any]] = {}
        out = []
        for f in site.get("findings") or []:
            if not isinstance(f, dict):
                continue
            rule = xml_text(f.get("rule") or "unknown", 200)
            if rule not in rules:
                rules[rule] = {"id": rule, "name": rule_title(rule, "en"),
                               "shortDescription": {"text": rule_title(rule, lang)},
                               "properties": {"check": f.get("check")}, "_index": len(rules)}
            fp = fingerprint_of(f)
            detail = f.get("detail_en") if lang == "en" and f.get("detail_en") else f.get("detail")
            result: dict[str, Any] = {
                "ruleId": rule, "ruleIndex": rules[rule]["_index"],
                "level": levels.get(str(f.get("severity")), "warning"),
                "message": {"text": xml_text(detail or rule, 2000)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": xml_text(f.get("page"), 2048)}}}],
                "partialFingerprints": {"disclosureAudit/v1": fp},
                "properties": {"check": f.get("check"), "severity": f.get("severity"),
                               "target": f.get("target"), "evidence": f.get("evidence") or {}},
            }
            if fp in skip:
                result["kind"] = "open"
                result["level"] = "none"
            out.append(result)
        runs.append({
            "tool": {"driver": {"name": str(tool.get("name") or "disclosure-audit"),
                                "version": str(tool.get("version") or "0"),
                                "rules": [{k: v for k, v in r.items() if k != "_index"} for r in rules.values()]}},
            "automationDetails": {"id": f"{run_info.get('id') or 'run'}/{agency.get('code') or agency.get('url') or ''}"},
            "invocations": [{"executionSuccessful": site.get("status") != "failed",
                             **({"exitCodeDescription": xml_text(site.get("detail"), 500)} if site.get("detail") else {})}],
            "properties": {"agency": agency, "status": site.get("status"),
                           "scores": {k: (site.get("scores") or {}).get(k) for k in ("dimension", "rubric_version")}},
            "results": out,
        })
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_all(results: dict[str, Any], out: Path, lang: str = "zh-TW") -> list[Path]:
    """Every export into folder `out` (results.json itself is written by the pipeline)."""
    return [write_csv(results, out / "findings.csv", lang), write_xlsx(results, out / "report.xlsx", lang),
            write_ods(results, out / "report.ods", lang), write_junit(results, out / "junit.xml", lang),
            write_sarif(results, out / "results.sarif", lang)]
