"""`document-title-missing` (checks/content.py): titles in the document properties of downloads.

One real loopback site offers PDF (written by hand, and one made with pypdf), ODT / ODS (odfpy), DOCX
(zipfile + XML) and XLSX (openpyxl) files with and without a title in their properties, a scanned PDF
without a text layer, and damaged files. One audit; the rule must fire for exactly the untitled
documents whose properties could be read, each document downloaded once for both document rules.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from servers import Site, page

from crawler.documents import document_properties
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

ODT_MIME = "application/vnd.oasis.opendocument.text"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def minimal_pdf(lines: list[str], info: str | None = None) -> bytes:
    """A one-page Helvetica PDF; `info` the body of its document information dictionary (none: no /Info)."""
    content = "BT /F1 12 Tf 72 760 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
               "/Contents 5 0 R >>", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"]
    if info is not None:
        objects.append(f"<< {info} >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer_info = f" /Info {len(objects)} 0 R" if info is not None else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def utf16(title: str) -> str:
    """A PDF text string in UTF-16BE hex, as writers store a Chinese title."""
    return "<FEFF" + title.encode("utf-16-be").hex().upper() + ">"


def pypdf_titled(title: str) -> bytes:
    """The untitled PDF re-written by pypdf with a /Title."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf(["Annual plan"]))))
    writer.add_metadata({"/Title": title})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def odf_document(kind: str, title: str | None) -> bytes:
    from odf import dc, table, text
    from odf.opendocument import OpenDocumentSpreadsheet, OpenDocumentText

    if kind == "odt":
        doc = OpenDocumentText()
        doc.text.addElement(text.P(text="本局業務說明"))
    else:
        doc = OpenDocumentSpreadsheet()
        sheet, row = table.Table(name="統計"), table.TableRow()
        cell = table.TableCell(valuetype="string")
        cell.addElement(text.P(text="資源回收量"))
        row.addElement(cell)
        sheet.addElement(row)
        doc.spreadsheet.addElement(sheet)
    if title is not None:
        doc.meta.addElement(dc.Title(text=title))
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def docx_document(title: str | None) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body><w:p><w:r>'
                   "<w:t>申請須知</w:t></w:r></w:p></w:body></w:document>")
        if title is not None:
            z.writestr("docProps/core.xml", '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
                       'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
                       f'elements/1.1/"><dc:title>{title}</dc:title></cp:coreProperties>')
    return buf.getvalue()


def xlsx_document(title: str | None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["項目", "數量"])
    if title is not None:
        book.properties.title = title
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


PDF = "application/pdf"
BINARY = "application/octet-stream"
# path -> (content type, bytes, the title recorded in its properties: None = no title, False = not read)
DOCUMENTS = {
    "/files/plan.pdf": (PDF, minimal_pdf(["Plan 2025"], f"/Title {utf16('114年度施政計畫')}"), "114年度施政計畫"),
    "/files/made-by-pypdf.pdf": (PDF, pypdf_titled("115年度施政計畫"), "115年度施政計畫"),
    "/files/no-info.pdf": (PDF, minimal_pdf(["Budget 2025"]), None),
    "/files/producer-only.pdf": (PDF, minimal_pdf(["Budget 2026"], "/Producer (Writer)"), None),
    "/files/blank-title.pdf": (PDF, minimal_pdf(["Minutes"], "/Title (   )"), None),
    "/files/scan.pdf": (PDF, minimal_pdf([]), None),  # no text layer: its properties are still read
    "/files/roster.pdf": (PDF, minimal_pdf(["List"], "/Title (Roster A123456789)"), "Roster A12****789"),
    "/files/broken.pdf": (PDF, b"%PDF-1.4 not really a pdf", False),
    "/files/report.odt": (ODT_MIME, odf_document("odt", "業務報告"), "業務報告"),
    "/files/untitled.odt": (ODT_MIME, odf_document("odt", None), None),
    "/files/stats.ods": (ODS_MIME, odf_document("ods", "業務統計"), "業務統計"),
    "/files/untitled.ods": (ODS_MIME, odf_document("ods", None), None),
    "/files/broken.odt": (ODT_MIME, b"PK\x03\x04 not a zip", False),
    "/files/form.docx": (BINARY, docx_document("申請書"), "申請書"),
    "/files/untitled.docx": (BINARY, docx_document(None), None),
    "/files/sheet.xlsx": (BINARY, xlsx_document("統計表"), "統計表"),
    "/files/untitled.xlsx": (BINARY, xlsx_document(None), None),
}
UNTITLED = {path for path, (_, _, title) in DOCUMENTS.items() if title is None}


@pytest.mark.parametrize("path", sorted(DOCUMENTS))
def test_the_title_is_read_from_each_format_s_properties(path):
    _, body, title = DOCUMENTS[path]
    fmt = path.rsplit(".", 1)[-1]
    assert document_properties(body, fmt) == (None if title is False else {"title": title})


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doctitle")
    site = Site().start()
    links = "".join(f'<a href="{path}">{path.rsplit("/", 1)[-1]}</a> ' for path in sorted(DOCUMENTS))
    site.html("/", page("測試市政府", f'<a href="/downloads.html">下載專區</a> {links}'))
    site.html("/downloads.html", page("下載專區", links))
    for path, (mime, body, _) in DOCUMENTS.items():
        site.routes[path] = (200, {"Content-Type": mime}, body)
    out = tmp / "out"
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False,
                                      today=date(2026, 12, 1), download_timeout=5))
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    facts = store.load_site_facts(1)
    store.close()
    yield {"site": results["sites"][0], "base": site.url, "facts": facts, "hits": list(site.hits)}
    site.stop()


def _rule(audited, rule):
    return [f for f in audited["site"]["findings"] if f["rule"] == rule]


def test_fires_for_exactly_the_untitled_documents_whose_properties_were_read(audited):
    base = audited["base"]
    found = {(f["page"].replace(base, ""), f["target"].replace(base, "")): f["evidence"]
             for f in _rule(audited, "document-title-missing")}
    assert found == {("/", path): {"format": path.rsplit(".", 1)[-1]} for path in UNTITLED}
    assert {(f["check"], f["severity"]) for f in _rule(audited, "document-title-missing")} == {("content", "notice")}
    untitled_odt = next(f for f in _rule(audited, "document-title-missing") if f["target"].endswith("untitled.odt"))
    assert "ODT 檔案未在文件屬性中設定標題" in untitled_odt["detail"]
    assert "no title in its document properties" in untitled_odt["detail_en"]
    assert audited["site"]["content"]["document_titles"] == {"documents": 17, "judged": 15, "untitled": 8}


def test_damaged_documents_are_not_judged_but_listed_as_unreadable(audited):
    base = audited["base"]
    unreadable = {f["target"].replace(base, "") for f in _rule(audited, "document-unreadable")}
    assert unreadable == {"/files/broken.pdf", "/files/broken.odt", "/files/scan.pdf"}
    titled = {f["target"].replace(base, "") for f in _rule(audited, "document-title-missing")}
    assert not titled & {"/files/broken.pdf", "/files/broken.odt"}


def test_the_stored_record_carries_the_title_masked_and_each_document_is_downloaded_once(audited):
    base = audited["base"]
    stored = {d["url"].replace(base, ""): d["properties"] for d in audited["facts"].artifacts.documents["documents"]}
    assert stored == {path: (None if title is False else {"title": title})
                      for path, (_, _, title) in DOCUMENTS.items()}
    gets = [path for method, path in audited["hits"] if method == "GET" and path.startswith("/files/")]
    assert sorted(gets) == sorted(DOCUMENTS)
