"""Exposure rules: open directory listings and published identity numbers (checks/exposure.py).

One real loopback site answers the listing pages of each server kind (the Python one is the real
http.server's own output), a normal page titled "Index of products", pages and PDF / ODT / ODS /
XLSX / DOCX files carrying identity numbers with valid and with wrong check digits, and documents
that cannot be read. One audit; every assertion is exact. The numbers are made-up test values whose
check digits were worked out by hand (docs/rules-exposure.md shows two of the sums).
"""

from __future__ import annotations

import functools
import io
import threading
import urllib.request
import zipfile
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from servers import Site, page

from crawler import documents
from crawler.personal_ids import Found, kind_of, mask, scan
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

# valid check digit → must fire; the same number with another last digit → must not
VALID = {
    "page": ["A123456789", "AC01234567", "N111111114"],  # the last one written in full-width digits
    "pdf": ["B123456780"], "odt": ["A800000014"], "ods": ["TB12345673"], "xlsx": ["F224680133"],
    "docx": ["H901234568"],
}
INVALID = ["A123456788", "AC01234568", "B123456781", "A800000015", "TB12345674", "F224680134",
           "H901234569", "Q180076549", "E855551230"]
FULL_WIDTH = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "".join(chr(0xFF10 + i) for i in range(10))
                           + "".join(chr(0xFF21 + i) for i in range(26)))
ODT_MIME = "application/vnd.oasis.opendocument.text"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


# --- the algorithms, against published examples --------------------------------------------------------
@pytest.mark.parametrize(("number", "kind"), [
    ("A123456789", "national-id"),  # the example most write-ups of the rule use
    ("A800000014", "resident-new"),  # a new-format 統一證號 (2021) example validators use
    ("AC01234567", "resident-old"),  # old format: C counts as 2 (the last digit of its code 12)
    ("TB12345673", "resident-old"),
    ("H901234568", "resident-new"),
])
def test_valid_check_digits_are_recognised_with_their_kind(number, kind):
    assert kind_of(number) == kind
    for other in "0123456789".replace(number[-1], ""):
        assert kind_of(number[:-1] + other) is None


@pytest.mark.parametrize("number", ["A323456789", "AE12345678", "a123456789", "1123456789", "A12345678"])
def test_shapes_that_are_no_identity_number(number):
    assert kind_of(number) is None


def test_scan_masks_valid_numbers_only_and_keeps_positions():
    found = Found()
    text = f"甲 A123456789、乙 A123456788、丙 {'N111111114'.translate(FULL_WIDTH)}；XA123456789 不算"
    assert scan(text, found) == "甲 A12****789、乙 A123456788、丙 N11****114；XA123456789 不算"
    assert found.to_json() == {"numbers": [{"masked": "A12****789", "kind": "national-id"},
                                           {"masked": "N11****114", "kind": "national-id"}],
                               "count": 2, "occurrences": 2, "invalid": 1}
    assert mask("AC01234567") == "AC0****567"


# --- the documents, made with the libraries (PDF by hand: reportlab is not used) -------------------------
def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with Helvetica text lines (what pypdf reads back), xref offsets computed."""
    content = "BT /F1 12 Tf 72 760 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
               "/Contents 5 0 R >>", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def odf_document(kind: str, cells: list[str]) -> bytes:
    from odf import table, text
    from odf.opendocument import OpenDocumentSpreadsheet, OpenDocumentText

    if kind == "odt":
        doc = OpenDocumentText()
        for value in cells:
            doc.text.addElement(text.P(text=value))
    else:
        doc = OpenDocumentSpreadsheet()
        sheet = table.Table(name="名冊")
        for value in cells:
            row = table.TableRow()
            cell = table.TableCell(valuetype="string")
            cell.addElement(text.P(text=value))
            row.addElement(cell)
            sheet.addElement(row)
        doc.spreadsheet.addElement(sheet)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def xlsx_document(cells: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for value in cells:
        book.active.append(["申請人", value])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def docx_document(paragraphs: list[str]) -> bytes:
    """A minimal WordprocessingML package (zipfile + XML, as crawler/documents.py reads it)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p[:5]}</w:t></w:r><w:r><w:t>{p[5:]}</w:t></w:r></w:p>" for p in paragraphs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body}'
                   "</w:body></w:document>")
    return buf.getvalue()


# --- the directory listings, as each server writes them -------------------------------------------------
APACHE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /upload</title>
 </head>
 <body>
<h1>Index of /upload</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/layout.gif" alt="[   ]"></td><td><a href="/files/list.pdf">list.pdf</a></td><td align="right">2024-05-01 10:22  </td><td align="right"> 12K</td><td>&nbsp;</td></tr>
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 80</address>
</body></html>
"""
NGINX = """<html>
<head><title>Index of /backup/</title></head>
<body>
<h1>Index of /backup/</h1><hr><pre><a href="../">../</a>
<a href="/files/roster.odt">roster.odt</a>                                         01-May-2024 10:22               12345
</pre><hr></body>
</html>
"""
IIS = """<html><head><title>127.0.0.1 - /docs/</title></head><body><H1>127.0.0.1 - /docs/</H1><hr>

<pre><A HREF="/">[To Parent Directory]</A><br><br> 5/1/2024 10:22 AM        12345 <A HREF="/files/form.docx">form.docx</A><br>  5/1/2024 10:22 AM        &lt;dir&gt; <A HREF="/">old</A><br></pre><hr></body></html>
"""
LIGHTTPD = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en">
<head>
<title>Index of /pub/</title>
<style type="text/css">a, a:active {text-decoration: none; color: blue;}</style>
</head>
<body>
<h2>Index of /pub/</h2>
<div class="list">
<table summary="Directory Listing" cellpadding="0" cellspacing="0">
<thead><tr><th class="n">Name</th><th class="m">Last Modified</th><th class="s">Size</th><th class="t">Type</th></tr></thead>
<tbody>
<tr class="d"><td class="n"><a href="../">..</a>/</td><td class="m">&nbsp;</td><td class="s">- &nbsp;</td><td class="t">Directory</td></tr>
<tr><td class="n"><a href="/files/sheet.ods">sheet.ods</a></td><td class="m">2024-May-01 10:22:00</td><td class="s">1.2K</td><td class="t">application/vnd.oasis.opendocument.spreadsheet</td></tr>
</tbody>
</table>
</div>
<div class="foot">lighttpd/1.4.69</div>
</body>
</html>
"""
TOMCAT = """<!doctype html><html lang="en"><head><title>Directory Listing For [/share/]</title></head>
<body><h1>Directory Listing For [/share/] - <a href="/">Up To [/]</a></h1><hr class="line">
<table width="100%" cellspacing="0" cellpadding="5" align="center"><tr><td align="left"><font size="+1"><strong>Filename</strong></font></td>
<td align="center"><font size="+1"><strong>Size</strong></font></td><td align="right"><font size="+1"><strong>Last Modified</strong></font></td></tr>
<tr><td align="left">&nbsp;&nbsp;<a href="/files/clean.pdf"><tt>clean.pdf</tt></a></td><td align="right"><tt>1.1 kb</tt></td><td align="right"><tt>Wed, 01 May 2024 10:22:00 GMT</tt></td></tr>
</table><hr class="line"><h3>Apache Tomcat/10.1.28</h3></body></html>
"""
NOT_A_LISTING = page("Index of products", "<p>Parent Directory</p><p>../</p><p>本市特產品索引，依名稱排列。</p>")


def python_listing(tmp_path) -> bytes:
    """What the real Python http.server answers for a directory (its own list_directory output)."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "名冊.ods").write_bytes(b"x")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(folder)))
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/") as resp:  # noqa: S310
            return resp.read()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def audited(tmp_path_factory, monkeypatch_module):
    tmp = tmp_path_factory.mktemp("exposure")
    monkeypatch_module.setattr(documents, "MAX_BYTES", 200_000)  # so that big.pdf is too large
    site, ext = Site().start(), Site(host="127.0.0.2").start()
    full_width = VALID["page"][2].translate(FULL_WIDTH)
    staff = page("承辦人員名冊", f"<table><tr><td>王小明</td><td>{VALID['page'][0]}</td></tr>"
                 f"<tr><td>林小華</td><td>{INVALID[0]}</td></tr><tr><td>Nguyen Van An</td><td>{VALID['page'][1]}</td></tr>"
                 f"<tr><td>陳大同</td><td>{full_width}</td></tr></table>")
    links = "".join(f'<a href="{href}">{text}</a> ' for href, text in [
        ("/staff.html", "承辦人員"), ("/notice.html", "公告"), ("/upload/", "上傳區"), ("/backup/", "備份"),
        ("/docs/", "文件"), ("/pub/", "公開區"), ("/py/", "暫存"), ("/share/", "分享"), ("/products.html", "特產品"),
        ("/files/list.pdf", "名單 PDF"), ("/files/roster.odt", "名冊 ODT"), ("/files/sheet.ods", "名冊 ODS"),
        ("/files/sheet.xlsx", "名冊 XLSX"), ("/files/form.docx", "表單 DOCX"), ("/files/clean.pdf", "說明"),
        ("/files/broken.pdf", "損毀"), ("/files/scan.pdf", "掃描檔"), ("/files/big.pdf", "大檔"),
        (f"{ext.url}/leak.pdf", "外站檔案")])
    site.html("/", page("測試市政府", links))
    site.html("/staff.html", staff)
    site.html("/notice.html", page("公告", f"<p>案號 {INVALID[7]}</p><dl><dt>申請人身分證字號</dt>"
                                         f"<dd>{VALID['page'][0]}</dd></dl>"))
    for path, body in [("/upload/", APACHE), ("/backup/", NGINX), ("/docs/", IIS), ("/pub/", LIGHTTPD),
                       ("/share/", TOMCAT), ("/products.html", NOT_A_LISTING)]:
        site.html(path, body)
    site.routes["/py/"] = (200, {"Content-Type": "text/html; charset=utf-8"}, python_listing(tmp))
    agents: list[str] = []

    def pdf_route(h):
        agents.append(h.headers.get("User-Agent", ""))
        h.reply(200, {"Content-Type": "application/pdf"}, minimal_pdf([f"Applicant {VALID['pdf'][0]}",
                                                                       f"Ref {INVALID[2]}"]))

    site.routes["/files/list.pdf"] = pdf_route
    site.routes["/files/roster.odt"] = (200, {"Content-Type": ODT_MIME}, odf_document(
        "odt", [f"居留證 {VALID['odt'][0]}", f"案號 {INVALID[3]}"]))
    site.routes["/files/sheet.ods"] = (200, {"Content-Type": ODS_MIME}, odf_document(
        "ods", [VALID["ods"][0], INVALID[4]]))
    site.routes["/files/sheet.xlsx"] = (200, {"Content-Type": "application/octet-stream"},
                                        xlsx_document([VALID["xlsx"][0], INVALID[5]]))
    site.routes["/files/form.docx"] = (200, {"Content-Type": "application/octet-stream"},
                                       docx_document([f"申請人統一證號{VALID['docx'][0]}", f"收件{INVALID[6]}"]))
    site.routes["/files/clean.pdf"] = (200, {"Content-Type": "application/pdf"}, minimal_pdf([f"No {INVALID[8]}"]))
    site.routes["/files/broken.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 not really a pdf")
    site.routes["/files/scan.pdf"] = (200, {"Content-Type": "application/pdf"}, minimal_pdf([]))
    site.routes["/files/big.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n" + b"0" * 300_000)
    ext.routes["/leak.pdf"] = (200, {"Content-Type": "application/pdf"}, minimal_pdf(["A123456789"]))
    out = tmp / "out"
    results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, accessibility=False,
                                      today=date(2026, 12, 1), download_timeout=5))
    store = Store(f"sqlite:///{out / 'audit.sqlite'}")
    facts = store.load_site_facts(1)
    store.close()
    yield {"site": results["sites"][0], "base": site.url, "out": out, "facts": facts, "hits": list(site.hits),
           "ext_hits": list(ext.hits), "agents": agents}
    site.stop()
    ext.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _rel(audited, url):
    return url.replace(audited["base"], "") if url else url


def _rule(audited, rule):
    return [f for f in audited["site"]["findings"] if f["rule"] == rule]


def test_each_kind_of_directory_listing_is_an_error_and_a_normal_index_page_is_not(audited):
    found = {_rel(audited, f["page"]): f["evidence"]["server"] for f in _rule(audited, "open-directory-listing")}
    assert found == {
        "/upload/": "Apache httpd (mod_autoindex)",  # its ?C=N;O=D re-sorted copies count once
        "/backup/": "nginx (ngx_http_autoindex_module)",
        "/docs/": "Microsoft IIS (directory browsing)",
        "/pub/": "lighttpd (mod_dirlisting)",
        "/py/": "Python http.server",
        "/share/": "Apache Tomcat (DefaultServlet listings)",
    }
    apache = next(f for f in _rule(audited, "open-directory-listing") if f["page"].endswith("/upload/"))
    assert (apache["severity"], apache["check"], apache["target"]) == ("error", "exposure", None)
    assert apache["evidence"]["title"] == "Index of /upload"
    assert "開放瀏覽目錄" in apache["detail"] and "directory listing" in apache["detail_en"]
    assert audited["site"]["exposure"]["directory_listings"] == 6


def test_identity_numbers_with_a_valid_check_digit_fire_in_pages_and_documents(audited):
    found = {(_rel(audited, f["page"]), _rel(audited, f["target"])): [n["masked"] for n in f["evidence"]["numbers"]]
             for f in _rule(audited, "personal-data-exposed")}
    assert found == {
        ("/notice.html", None): ["A12****789"],  # in a <dt>/<dd> pair (label_values are masked too)
        ("/staff.html", None): ["A12****789", "AC0****567", "N11****114"],
        ("/", "/files/list.pdf"): ["B12****780"],
        ("/", "/files/roster.odt"): ["A80****014"],
        ("/", "/files/sheet.ods"): ["TB1****673"],
        ("/", "/files/sheet.xlsx"): ["F22****133"],
        ("/", "/files/form.docx"): ["H90****568"],
    }
    staff = next(f for f in _rule(audited, "personal-data-exposed") if f["page"].endswith("/staff.html"))
    assert staff["severity"] == "error"
    assert staff["evidence"]["kinds"] == {"national-id": 2, "resident-old": 1}
    assert staff["evidence"]["count"] == 3 and staff["evidence"]["masked"] is True
    assert "身分證統一編號、舊式居留證統一證號：A12****789、AC0****567、N11****114，共 3 組" in staff["detail"]


def test_documents_that_cannot_be_read_are_listed_with_their_reason(audited):
    found = {_rel(audited, f["target"]): f["evidence"]["unreadable"] for f in _rule(audited, "document-unreadable")}
    assert set(found) == {"/files/broken.pdf", "/files/scan.pdf", "/files/big.pdf"}
    assert found["/files/broken.pdf"].startswith("corrupt: ")
    assert (found["/files/scan.pdf"], found["/files/big.pdf"]) == ("no-text", "too-large")
    assert {f["severity"] for f in _rule(audited, "document-unreadable")} == {"notice"}
    assert audited["site"]["exposure"]["documents"] == {
        "candidates": 9, "read": 6, "unreadable": 3, "not_read": 0, "with_personal_data": 5}


def test_documents_are_fetched_after_the_crawl_in_scope_only_with_the_crawl_user_agent(audited):
    from crawler.settings import USER_AGENT

    gets = [path for method, path in audited["hits"] if method == "GET" and path.startswith("/files/")]
    assert sorted(gets) == sorted(f"/files/{n}" for n in (
        "list.pdf", "roster.odt", "sheet.ods", "sheet.xlsx", "form.docx", "clean.pdf", "broken.pdf", "scan.pdf",
        "big.pdf"))  # each document read once (the crawl itself only asked HEAD)
    assert ("GET", "/leak.pdf") not in audited["ext_hits"]  # another host's file is never read
    assert audited["agents"] and set(audited["agents"]) == {USER_AGENT}


def test_no_full_number_is_kept_anywhere_the_tool_writes(audited):
    out = audited["out"]
    secrets = [n for numbers in VALID.values() for n in numbers]
    secrets += [n.translate(FULL_WIDTH) for n in secrets]
    blobs = {}
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            blobs[path.name] = data
            if path.suffix in (".xlsx", ".ods"):
                with zipfile.ZipFile(path) as z:
                    blobs.update({f"{path.name}:{n}": z.read(n) for n in z.namelist()})
    assert {"results.json", "report.html", "findings.csv", "audit.sqlite"} <= set(blobs)
    for name, data in blobs.items():
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in data, (name, secret[:3])
    assert b"A12****789" in blobs["results.json"] and b"A12****789" in blobs["findings.csv"]
    staff = audited["facts"].page(audited["base"] + "/staff.html")
    assert "A12****789" in staff.text and INVALID[0] in staff.text  # a wrong check digit is no number: kept
    assert staff.artifacts.personal_ids["count"] == 3


def test_no_real_agency_page_is_a_listing_or_carries_an_identity_number():
    """INDEX §1/§5: none of the real pages is a directory listing or publishes an identity number (their
    notes list neither); every page is read as the crawler reads it, so a false alarm would show here."""
    from disclosure_helpers import REALWORLD

    from checks.exposure import listing_server
    from crawler.encoding import decode_html
    from crawler.extract import extract_page

    files = sorted(p for p in REALWORLD.rglob("*") if p.suffix.lower() in (".htm", ".html"))
    if not files:
        pytest.skip("real-world test material not found: ../shared/realworld")
    alarms = []
    for path in files:
        html, _encoding, _source = decode_html(path.read_bytes(), "text/html")
        facts = extract_page(html, f"http://127.0.0.1:8000/{path.name}").facts
        if listing_server(facts) or facts.artifacts.personal_ids is not None:
            alarms.append(str(path.relative_to(REALWORLD)))
    assert len(files) >= 50 and alarms == []
