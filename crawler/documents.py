"""Read the site's own downloadable documents: identity numbers in their text, the title in their properties.

A gatherer (network allowed, in scope only). The crawl checks a document link with HEAD (or a short
GET) and never reads it (crawler/spiders/agency.py DOCUMENT_EXTENSIONS); personal data is published in
attachments far more often than in pages (個人資料保護法; 臺北市政府各機關網站服務作業原則 參、二(二)), so
after the crawl this module downloads the in-scope PDF / ODT / ODS / DOCX / XLSX files that answered
2xx, extracts their text with well-kept libraries (pypdf, odfpy, openpyxl; DOCX by zipfile + XML) and
records, per document, only what the checks need:

    {"url", "format", "page" (the shallowest page linking to it), "status": "read" | "unreadable",
     "reason" (unreadable: too-large, timeout, http-404, encrypted, no-text, corrupt: …), "bytes",
     "chars", "personal_ids": {numbers: [{masked, kind}], count, occurrences, invalid} | None,
     "properties": {"title": str | None} | None}

`properties` are the document properties read from the same download (one GET serves both rules):
PDF the Info dictionary /Title (else XMP dc:title), ODF meta.xml dc:title, DOCX / XLSX
docProps/core.xml dc:title; `title` None when the properties carry none (or only blanks), `properties`
None when they could not be read (download failed, damaged, encrypted); an identity number in a
title is masked like any other. A scanned PDF without a text layer is `unreadable: no-text` for the
text, but its properties are still read. checks/content.py judges them (`document-title-missing`).

The text itself is never stored and no number leaves in full (crawler/personal_ids.py). A document
that cannot be read is listed with its reason, never guessed. Bounds: MAX_DOCUMENTS per site (the
shallowest first), MAX_BYTES per download, a time budget for the whole gatherer, MAX_PDF_PAGES,
MAX_CHARS of text and MAX_UNZIPPED bytes inside a zip container (ODF, OOXML). Requests carry the
crawl's User-Agent and follow redirects only on the audited hosts. No timing is recorded: the
record is the same for the same documents, so an unchanged recrawl can reuse its findings.

Pipeline wiring (disclosure_audit/gatherers.py `probe_documents`, after not_found):

    facts.artifacts.documents = gather_documents(facts, timeout=..., user_agent=_user_agent())
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from lxml import etree

from checks.facts import SiteFacts, defrag, url_path
from crawler.personal_ids import Found, scan

FORMATS = ("pdf", "odt", "ods", "docx", "xlsx")
MIME_FORMATS = {
    "application/pdf": "pdf",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
MAX_DOCUMENTS = 30
MAX_BYTES = 10 * 1024 * 1024
MAX_SECONDS = 120.0
MAX_PDF_PAGES = 200
MAX_CHARS = 2_000_000
MAX_UNZIPPED = 100 * 1024 * 1024
MAX_CELLS = 500_000
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class Unreadable(Exception):
    """A document that cannot be read: the message is the recorded reason."""


def document_format(url: str, content_type: str | None) -> str | None:
    """pdf | odt | ods | docx | xlsx from the address, else from the served type; None otherwise."""
    name = url_path(url).rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in FORMATS:
        return ext
    mime = (content_type or "").split(";")[0].strip().lower()
    return MIME_FORMATS.get(mime)


def _hosts(facts: SiteFacts) -> set[str]:
    hosts = {h.lower() for h in facts.hosts if h}
    return hosts or {(urlsplit(facts.agency.url).hostname or "").lower()}


def candidates(facts: SiteFacts) -> list[dict[str, Any]]:
    """In-scope documents that answered 2xx, each with the shallowest page linking to it, shallowest
    first (then by URL): the order never depends on the crawl's arrival order."""
    hosts = _hosts(facts)
    found: dict[str, str] = {}
    for url, result in facts.link_results.items():
        if result.error or not result.status or not 200 <= result.status < 300:
            continue
        if (urlsplit(url).hostname or "").lower() not in hosts:
            continue
        fmt = document_format(result.final_url or url, result.content_type) or document_format(url, None)
        if fmt:
            found[url] = fmt
    if not found:
        return []
    depth = {p.url: p.depth for p in facts.pages}
    best: dict[str, tuple[int, str]] = {}
    for link in facts.links:
        target = defrag(link.target)[0]
        if target in found:
            key = (depth.get(link.source, 1 << 20), link.source)
            if target not in best or key < best[target]:
                best[target] = key
    rows = [{"url": url, "format": fmt, "page": best[url][1] if url in best else None,
             "_order": best.get(url, (1 << 20, ""))[0]} for url, fmt in found.items()]
    rows.sort(key=lambda r: (r["_order"], r["url"]))
    for row in rows:
        del row["_order"]
    return rows


def download(url: str, hosts: set[str], *, timeout: float, deadline: float, user_agent: str,
             session: requests.Session) -> bytes:
    """The document's bytes (at most MAX_BYTES), following redirects on the audited hosts only."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if time.monotonic() > deadline:
            raise Unreadable("time-limit")
        resp = session.get(current, headers={"User-Agent": user_agent}, timeout=timeout,
                           allow_redirects=False, stream=True)
        try:
            location = resp.headers.get("Location")
            if 300 <= resp.status_code < 400 and location:
                nxt = urljoin(current, location.strip())
                if urlsplit(nxt).scheme not in ("http", "https") or (urlsplit(nxt).hostname or "").lower() not in hosts:
                    raise Unreadable("redirect-out-of-scope")
                current = nxt
                continue
            if resp.status_code >= 400:
                raise Unreadable(f"http-{resp.status_code}")
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise Unreadable("too-large")
            body = bytearray()
            for chunk in resp.iter_content(_CHUNK):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise Unreadable("too-large")
                if time.monotonic() > deadline:
                    raise Unreadable("time-limit")
            return bytes(body)
        finally:
            resp.close()
    raise Unreadable("too-many-redirects")


# --- text extraction, one function per format --------------------------------------------------------
def pdf_text(data: bytes, deadline: float) -> str:
    # deferred: pypdf only when a PDF is read
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted")
        parts: list[str] = []
        size = 0
        for number, page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or size >= MAX_CHARS or time.monotonic() > deadline:
                break
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError, OSError) as exc:
        raise Unreadable(f"corrupt: {type(exc).__name__}") from None
    return "\n".join(parts)


def _zip(data: bytes) -> zipfile.ZipFile:
    """A zip container whose members unpack to at most MAX_UNZIPPED bytes (no zip bombs)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Unreadable("corrupt: not a zip container") from None
    if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
        raise Unreadable("too-large")
    return archive


def odf_text(data: bytes) -> str:
    """Paragraphs, headings and cells of an ODT / ODS (odfpy)."""
    # deferred: odfpy only when an ODF document is read
    from odf import teletype, text
    from odf.opendocument import load

    _zip(data)  # size check before odfpy unpacks it
    try:
        doc = load(io.BytesIO(data))
        parts = [teletype.extractText(el) for kind in (text.H, text.P) for el in doc.getElementsByType(kind)]
    except Exception as exc:  # noqa: BLE001 - odfpy raises many kinds on a damaged file
        raise Unreadable(f"corrupt: {type(exc).__name__}") from None
    return "\n".join(parts)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(data: bytes) -> str:
    """The body, headers, footers, notes and comments of a DOCX: its w:t runs, a line per w:p."""
    archive = _zip(data)
    names = [n for n in archive.namelist() if n.startswith("word/") and n.endswith(".xml") and (
        n == "word/document.xml" or n.rsplit("/", 1)[-1].startswith(("header", "footer", "footnotes",
                                                                      "endnotes", "comments")))]
    if "word/document.xml" not in names:
        raise Unreadable("corrupt: no word/document.xml")
    parts: list[str] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        for name in sorted(names):
            root = etree.fromstring(archive.read(name), parser)
            for para in root.iter(f"{_W}p"):
                parts.append("".join(t.text or "" for t in para.iter(f"{_W}t")))
    except (etree.XMLSyntaxError, KeyError, zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"corrupt: {type(exc).__name__}") from None
    return "\n".join(parts)


def xlsx_text(data: bytes) -> str:
    """Every cell value of an XLSX (openpyxl, read-only, cached values), a line per row."""
    # deferred: openpyxl (~0.15 s) only when a spreadsheet is read
    from openpyxl import load_workbook

    _zip(data)
    parts: list[str] = []
    cells = 0
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                parts.append(" ".join(str(v) for v in row if v is not None))
                cells += len(row)
                if cells >= MAX_CELLS:
                    break
        book.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise Unreadable(f"corrupt: {type(exc).__name__}") from None
    return "\n".join(parts)


# --- document properties: the title ------------------------------------------------------------------
MAX_TITLE = 200
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
PROPERTY_PARTS = {"odt": "meta.xml", "ods": "meta.xml", "docx": "docProps/core.xml", "xlsx": "docProps/core.xml"}


def clean_title(value: Any) -> str | None:
    """The title with whitespace folded, at most MAX_TITLE characters, identity numbers masked (a title
    is stored and shown, crawler/personal_ids.py); None when blank."""
    if not isinstance(value, str):
        return None
    folded = " ".join(value.replace("\x00", " ").split())[:MAX_TITLE]
    return scan(folded, Found()) or None


def pdf_title(data: bytes) -> str | None:
    """/Title of the Info dictionary, else dc:title of the XMP metadata."""
    # deferred: pypdf only when a PDF is read
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise Unreadable("encrypted")
    title = clean_title(reader.metadata.title) if reader.metadata else None
    if title is None and reader.xmp_metadata is not None:
        titles = reader.xmp_metadata.dc_title or {}
        title = next((t for key in sorted(titles) if (t := clean_title(titles[key]))), None)
    return title


def zip_title(data: bytes, part: str) -> str | None:
    """The first dc:title of a zip container's property part (ODF meta.xml, OOXML docProps/core.xml)."""
    archive = _zip(data)
    if part not in archive.namelist():
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(archive.read(part), parser)
    return next((t for el in root.iter(_DC_TITLE) if (t := clean_title("".join(el.itertext())))), None)


def document_properties(data: bytes, fmt: str) -> dict[str, Any] | None:
    """{"title": str | None} of one document; None when its properties cannot be read."""
    try:
        title = pdf_title(data) if fmt == "pdf" else zip_title(data, PROPERTY_PARTS[fmt])
    except Exception:  # noqa: BLE001 - a damaged file raises many kinds; its properties are not guessed
        return None
    return {"title": title}


def document_text(data: bytes, fmt: str, deadline: float) -> str:
    """The text of one document (at most MAX_CHARS); Unreadable with the reason otherwise."""
    if fmt == "pdf":
        text = pdf_text(data, deadline)
    elif fmt in ("odt", "ods"):
        text = odf_text(data)
    elif fmt == "docx":
        text = docx_text(data)
    else:
        text = xlsx_text(data)
    if not text.strip():
        raise Unreadable("no-text")  # e.g. a scanned PDF without a text layer: not read, not guessed
    return text[:MAX_CHARS]


def read_document(row: dict[str, Any], hosts: set[str], *, timeout: float, deadline: float,
                  user_agent: str, session: requests.Session) -> dict[str, Any]:
    """Download and read one document: its record (masked numbers only)."""
    out = {**row, "status": "unreadable", "reason": None, "bytes": None, "chars": None, "personal_ids": None,
           "properties": None}
    try:
        data = download(row["url"], hosts, timeout=timeout, deadline=deadline, user_agent=user_agent,
                        session=session)
        out["bytes"] = len(data)
        out["properties"] = document_properties(data, row["format"])
        text = document_text(data, row["format"], deadline)
    except Unreadable as exc:
        out["reason"] = str(exc)
        return out
    except requests.exceptions.Timeout:
        out["reason"] = "timeout"
        return out
    except (requests.exceptions.RequestException, OSError) as exc:
        out["reason"] = f"request: {type(exc).__name__}"
        return out
    found = Found()
    scan(text, found)
    out.update(status="read", chars=len(text), personal_ids=found.to_json() if found.count else None)
    return out


def gather_documents(facts: SiteFacts, *, timeout: float = 15.0, user_agent: str = "disclosure-audit",
                     session: requests.Session | None = None, max_documents: int = MAX_DOCUMENTS,
                     max_seconds: float = MAX_SECONDS) -> dict[str, Any]:
    """Read up to `max_documents` in-scope documents within `max_seconds`; the record for the check."""
    rows = candidates(facts)
    hosts = _hosts(facts)
    http = session or requests.Session()
    http.trust_env = False  # never through a proxy picked up from the environment
    deadline = time.monotonic() + max_seconds
    documents = []
    try:
        for row in rows[:max_documents]:
            if time.monotonic() > deadline:
                documents.append({**row, "status": "unreadable", "reason": "time-limit", "bytes": None,
                                  "chars": None, "personal_ids": None, "properties": None})
                continue
            documents.append(read_document(row, hosts, timeout=timeout, deadline=deadline,
                                           user_agent=user_agent, session=http))
    finally:
        if session is None:
            http.close()
    return {"documents": documents, "candidates": len(rows), "not_read": max(0, len(rows) - max_documents),
            "limits": {"max_documents": max_documents, "max_bytes": MAX_BYTES, "max_seconds": max_seconds,
                       "max_pdf_pages": MAX_PDF_PAGES}}
