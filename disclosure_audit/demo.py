"""Serve the bundled demo agency site (臺灣示範市政府環境保護局) and its "other agency" on loopback.

The demo is a newcomer's first run (`disclosure-audit demo`) and the integration target of every
check, so it is built to be judged: each deliberate defect is listed in
`disclosure_audit/demo_site/answer_key.yaml` and explained in docs/demo-site.md. The server makes the
link-checking cases real HTTP behaviour (redirects, a redirect loop, HEAD refused, 429 with
Retry-After, 403, 500, robots.txt), and dates deterministic: `Last-Modified` comes from a fixed table,
not file times, and `demo_today()` is the judging date the answer key assumes.

Two servers run in background threads: the site on `host` (127.0.0.1) and an "external" site on
`external_host` (127.0.0.2, another loopback address, so it is another host to the crawler). Pages
may write `__EXTERNAL__` (external base URL) and `__SITE__` (the site's own base URL); the server
substitutes them in text bodies. Nothing here ever talks to a non-loopback address.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

SITE_ROOT = Path(__file__).resolve().parent / "demo_site"
ANSWER_KEY = SITE_ROOT / "answer_key.yaml"

DEMO_TODAY = date(2026, 11, 23)  # ROC 115-11-23: the judging date the answer key assumes
DEMO_AGENCY: dict[str, Any] = {
    "name": "臺灣示範市政府環境保護局",
    "name_en": "Environmental Protection Bureau, Demo City Government",
    "code": "399990100E",
    "group": "demo",
}
EXTERNAL_PLACEHOLDER = b"__EXTERNAL__"
SITE_PLACEHOLDER = b"__SITE__"
MAX_POST_BYTES = 64 * 1024
MAX_LOGGED_REQUESTS = 20_000


def demo_today() -> date:
    """The fixed judging date of the demo, so its findings never depend on the real clock."""
    return DEMO_TODAY


def _http_date(*args: int) -> str:
    return format_datetime(datetime(*args, tzinfo=UTC), usegmt=True)


# Last-Modified per file (path relative to demo_site/). Not file mtimes: a checkout, a wheel or a
# copy changes those, and stale-page findings must not. None: the header is not sent at all.
DEFAULT_LAST_MODIFIED = _http_date(2026, 10, 15, 2, 0, 0)
LAST_MODIFIED: dict[str, str | None] = {
    "index.html": _http_date(2026, 11, 20, 1, 0, 0),
    "news/index.html": _http_date(2026, 11, 2, 1, 0, 0),
    "news/notices.html": _http_date(2026, 11, 2, 1, 0, 0),
    "news/n1.html": _http_date(2026, 10, 1, 1, 0, 0),
    "news/n2.html": _http_date(2023, 3, 15, 1, 0, 0),
    "news/n3.html": _http_date(2025, 3, 14, 8, 30, 0),  # the only date n3 has: stale by HTTP
    "news/n4.html": None,  # no date anywhere: the page cannot be dated
    "news/notice-1150101.html": _http_date(2026, 1, 1, 1, 0, 0),
    "news/notice-1151101.html": _http_date(2026, 11, 1, 1, 0, 0),
    "big5/notice.html": _http_date(2010, 1, 5, 1, 0, 0),
    "big5/notice-99001.pdf": _http_date(2010, 1, 5, 1, 0, 0),
}
EXTERNAL_LAST_MODIFIED = _http_date(2026, 9, 1, 0, 0, 0)

BIG5_FILES = frozenset({"big5/notice.html"})
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
SPECIAL_CONTENT_TYPES = {"rss.xml": "application/rss+xml; charset=utf-8"}
TEXT_SUFFIXES = frozenset({".html", ".htm", ".css", ".js", ".txt", ".xml"})

# The "other agency" on the external host: path -> (title, body text). Anything else is a 404.
EXTERNAL_PAGES: dict[str, tuple[str, str]] = {
    "/": ("示範縣政府全球資訊網", "歡迎光臨示範縣政府全球資訊網。"),
    "/partner.html": ("示範縣環境保護局", "示範縣環境保護局與臺灣示範市政府環境保護局為環保夥伴機關。"),
    "/badge": ("無障礙網站標章檢測詳情", "本頁模擬無障礙網站標章的檢測詳情頁。"),
    "/facebook": ("臺灣示範市政府環境保護局 Facebook 粉絲專頁", "社群媒體粉絲專頁（示範用）。"),
    "/youtube": ("臺灣示範市政府環境保護局 YouTube 頻道", "社群媒體影音頻道（示範用）。"),
    "/join": ("公共政策網路參與平臺", "公共政策網路參與平臺（示範用）。"),
    "/egov": ("我的E政府", "政府入口網（示範用）。"),
    "/eservice": ("市民服務平臺：線上申辦", "線上申辦服務（示範用）。"),
    "/epay": ("市民服務平臺：線上繳費", "線上繳費服務（示範用）。"),
    "/booking": ("市民服務平臺：線上預約", "線上預約服務（示範用）。"),
    "/progress": ("市民服務平臺：案件進度查詢", "案件進度查詢（示範用）。"),
}


class DemoServerError(RuntimeError):
    """The demo servers could not start; the message says which address and why."""


@dataclass(frozen=True)
class RequestRecord:
    """One request a demo server received (for tests: what did the crawler ask for?)."""

    host: str  # "site" or "external"
    method: str
    path: str  # as sent, query string included
    user_agent: str
    time: float


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], role: str, demo: DemoServer) -> None:
        self.role = role
        self.demo = demo
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client hanging up mid-answer is normal for crawlers; never print tracebacks
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.demo.errors.append(f"{type(exc).__name__}: {exc}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 15  # idle keep-alive connections are closed, so no thread waits forever
    server_version = "DemoAgencyHTTP/1.0"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        pass

    # -- dispatch --------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _refuse(self) -> None:
        self._dispatch()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _dispatch(self) -> None:
        demo = self.server.demo
        demo._record(RequestRecord(self.server.role, self.command, self.path[:2000],
                                   (self.headers.get("User-Agent") or "")[:200], time.time()))
        try:
            path = unquote(urlsplit(self.path).path, errors="replace")
            if not path.startswith("/"):
                self._send(400, _message_page("錯誤的要求", "Bad request."))
            elif self.command not in ("GET", "HEAD", "POST"):
                self._send(405, _message_page("不允許的方法", "Method not allowed."), {"Allow": "GET, HEAD"})
            elif self.server.role == "external":
                self._external(path)
            else:
                self._site(path)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # the demo must answer every request, whatever it is
            demo.errors.append(f"{type(exc).__name__}: {exc}")
            self.close_connection = True
            try:
                self._send(500, _message_page("系統錯誤", "Internal error."))
            except OSError:
                pass

    # -- the agency site -------------------------------------------------------------------
    def _site(self, path: str) -> None:
        demo = self.server.demo
        if self.command == "POST":
            self._post(path)
            return
        if path == "/old-news.html":  # a moved page: a working redirect, not a finding
            self._redirect(301, demo.base + "/news/index.html")
        elif path == "/loop-a":
            self._redirect(302, demo.base + "/loop-b")
        elif path == "/loop-b":
            self._redirect(302, demo.base + "/loop-a")
        elif path == "/api/head-refused.pdf" and self.command == "HEAD":
            self._send(405, _message_page("不允許的方法", "HEAD is not allowed here."), {"Allow": "GET"})
        elif path == "/busy/report.pdf" and demo._first_busy_request():
            self._send(429, _message_page("請求過多", "Too many requests; retry later."), {"Retry-After": "1"})
        elif path == "/members" or path.startswith("/members/"):
            self._send(403, _message_page("禁止存取", "Forbidden: members only."))
        elif path == "/cgi" or path.startswith("/cgi/"):
            self._send(500, _message_page("系統發生錯誤", "Internal server error."))
        else:
            self._static(path)

    def _post(self, path: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_POST_BYTES:
            self.close_connection = True
            self._send(413, _message_page("資料過大", "Payload too large."))
            return
        if length:
            self.rfile.read(length)  # drained so the keep-alive connection stays usable
        if path in ("/mailbox/submit", "/survey/submit"):
            self._send(200, _message_page("感謝您的填寫", "Thank you. (The demo stores nothing.)"))
        else:
            self._send(405, _message_page("不允許的方法", "Method not allowed."), {"Allow": "GET, HEAD"})

    def _static(self, path: str) -> None:
        rel = resolve_site_path(path)
        if rel is None:
            self._not_found()
            return
        if rel.endswith("/"):  # a directory asked for without its slash: redirect like Apache
            self._redirect(301, self.server.demo.base + path + "/")
            return
        body = (SITE_ROOT / rel).read_bytes()
        suffix = Path(rel).suffix.lower()
        if suffix in TEXT_SUFFIXES:
            body = self.server.demo.substitute(body)
        self._entity(200, body, content_type_for(rel), LAST_MODIFIED.get(rel, DEFAULT_LAST_MODIFIED))

    def _not_found(self) -> None:
        body = self.server.demo.substitute((SITE_ROOT / "404.html").read_bytes())
        self._send(404, body)

    # -- the other agency ------------------------------------------------------------------
    def _external(self, path: str) -> None:
        if path == "/robots.txt":
            self._entity(200, b"User-agent: *\nDisallow:\n", "text/plain; charset=utf-8", EXTERNAL_LAST_MODIFIED)
            return
        if self.command == "POST":
            self.close_connection = True  # the body is not read: do not reuse the connection
        page = EXTERNAL_PAGES.get(path) if self.command != "POST" else None
        if page is None:
            self._send(404, _message_page("找不到網頁", "Not found.", lang="zh-Hant-TW"))
            return
        title, text = page
        extra = ""
        if path == "/badge":
            category = parse_qs(urlsplit(self.path).query).get("category", [""])[0][:40]
            extra = f"<p>標章編號：{html.escape(category)}</p>"
        body = (
            '<!DOCTYPE html>\n<html lang="zh-Hant-TW">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
            f'<header id="top"><p>示範縣政府（外部網站）</p></header>\n'
            f"<main>\n<h1>{html.escape(title)}</h1>\n<p>{html.escape(text)}</p>\n{extra}\n"
            f'<p><a href="{html.escape(self.server.demo.external_base)}/">回首頁</a></p>\n</main>\n</body>\n</html>\n'
        ).encode()
        self._entity(200, body, "text/html; charset=utf-8", EXTERNAL_LAST_MODIFIED)

    # -- responses -------------------------------------------------------------------------
    def _entity(self, status: int, body: bytes, content_type: str, last_modified: str | None) -> None:
        """A cacheable answer: ETag + Last-Modified, and 304 to a matching conditional request."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        headers = {"Content-Type": content_type, "ETag": etag}
        if last_modified:
            headers["Last-Modified"] = last_modified
        if self.command in ("GET", "HEAD") and _not_modified(self.headers, etag, last_modified):
            self._send(304, b"", headers, content_length=False)
            return
        self._send(status, body, headers)

    def _redirect(self, status: int, location: str) -> None:
        self._send(status, _message_page("網頁已移動", f"Moved to {location}"), {"Location": location})

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, *,
              content_length: bool = True) -> None:
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "text/html; charset=utf-8")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if content_length:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status != 304 and body:
            self.wfile.write(body)


def _not_modified(headers: Any, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only when it is absent."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and last_modified:
        try:
            return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _message_page(title_zh: str, text_en: str, lang: str = "zh-Hant-TW") -> bytes:
    """A small HTML page for status answers (403, 429, 500, redirects)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title_zh)}</title>\n</head>\n<body>\n<main>\n<h1>{html.escape(title_zh)}</h1>\n"
        f'<p lang="en">{html.escape(text_en)}</p>\n</main>\n</body>\n</html>\n'
    ).encode()


def resolve_site_path(path: str) -> str | None:
    """The file (relative to demo_site/) a URL path names, `dir/` for a directory asked without its
    slash, or None. Hidden and private parts (`.x`, `_build`), `..`, NUL and backslashes never map."""
    if "\x00" in path or "\\" in path or len(path) > 1000:
        return None
    parts = [p for p in path.split("/")[1:]]
    if any(p.startswith((".", "_")) for p in parts if p):
        return None
    rel = "/".join(p for p in parts if p)
    root = SITE_ROOT.resolve()
    target = (root / rel).resolve() if rel else root
    if not target.is_relative_to(root):
        return None
    if target.is_dir():
        if not path.endswith("/"):
            return rel + "/" if (target / "index.html").is_file() else None
        target = target / "index.html"
    if not target.is_file():
        return None
    return target.relative_to(root).as_posix()


def content_type_for(rel: str) -> str:
    """Content-Type of a site file: Big5 pages say so; unknown types are octet streams."""
    if rel in BIG5_FILES:
        return "text/html; charset=big5"
    if rel in SPECIAL_CONTENT_TYPES:
        return SPECIAL_CONTENT_TYPES[rel]
    return CONTENT_TYPES.get(Path(rel).suffix.lower(), "application/octet-stream")


class DemoServer:
    """The demo site and the external site, each a ThreadingHTTPServer in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, external_host: str = "127.0.0.2",
                 external_port: int = 0) -> None:
        self.host, self.port = host, port
        self.external_host, self.external_port = external_host, external_port
        self.external_name = external_host  # the host name pages use for the external site
        self.external_fallback: str | None = None  # why the external site runs elsewhere, if it does
        self.requests: deque[RequestRecord] = deque(maxlen=MAX_LOGGED_REQUESTS)
        self.errors: list[str] = []  # unexpected handler exceptions (tests assert it stays empty)
        self._busy_lock = threading.Lock()
        self._busy_served = False
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> DemoServer:
        if not SITE_ROOT.is_dir():
            raise DemoServerError(f"示範網站檔案不存在 / demo site files missing: {SITE_ROOT}")
        site = self._bind(self.host, self.port, "site")
        try:
            external = self._bind(self.external_host, self.external_port, "external")
        except DemoServerError as exc:
            # e.g. macOS, where only 127.0.0.1 is configured: keep a distinct host *name* instead
            external = self._bind(self.host, 0, "external")
            self.external_name = "localhost" if self.host in ("127.0.0.1", "localhost") else self.host
            self.external_fallback = str(exc)
        self.port = site.server_address[1]
        self.external_port = external.server_address[1]
        for server in (site, external):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"demo-{server.role}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _bind(self, host: str, port: int, role: str) -> _Server:
        try:
            server = _Server((host, port), role, self)
        except OSError as exc:
            raise DemoServerError(
                f"無法在 {host}:{port} 啟動示範{'網站' if role == 'site' else '外部網站'}伺服器 / "
                f"cannot listen on {host}:{port} for the demo {role} server: {exc.strerror or exc}"
            ) from exc
        self._servers.append(server)
        return server

    def stop(self) -> None:
        """Stop both servers and close their sockets (safe to call twice)."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def base(self) -> str:
        """The site's base URL without trailing slash (what `__SITE__` becomes)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The start URL of the demo agency: its home page."""
        return self.base + "/"

    @property
    def external_base(self) -> str:
        """The external site's base URL without trailing slash (what `__EXTERNAL__` becomes)."""
        return f"http://{self.external_name}:{self.external_port}"

    @property
    def external_url(self) -> str:
        return self.external_base + "/"

    def substitute(self, body: bytes) -> bytes:
        """Fill the placeholders (ASCII, so this is safe in UTF-8 and Big5 bodies alike)."""
        body = body.replace(EXTERNAL_PLACEHOLDER, self.external_base.encode("ascii"))
        return body.replace(SITE_PLACEHOLDER, self.base.encode("ascii"))

    def absolute(self, ref: str) -> str:
        """An answer-key reference (`/news/n1.html`, `__EXTERNAL__/gone`, a full URL) as a URL."""
        if ref.startswith("__EXTERNAL__"):
            return self.external_base + ref[len("__EXTERNAL__"):]
        if ref.startswith("/"):
            return self.base + ref
        return ref

    # -- bookkeeping -------------------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        self.requests.append(record)

    def requested(self, path_prefix: str, host: str = "site") -> list[RequestRecord]:
        """Requests whose path starts with `path_prefix` (e.g. to prove /private/ was not fetched)."""
        return [r for r in list(self.requests) if r.host == host and r.path.startswith(path_prefix)]

    def _first_busy_request(self) -> bool:
        with self._busy_lock:
            first = not self._busy_served
            self._busy_served = True
            return first


@contextmanager
def serve_demo(host: str = "127.0.0.1", port: int = 0, external_host: str = "127.0.0.2",
               external_port: int = 0) -> Iterator[DemoServer]:
    """Run the demo site and its external site for the duration of a `with` block."""
    server = DemoServer(host, port, external_host, external_port).start()
    try:
        yield server
    finally:
        server.stop()


_URL_KEYS = frozenset({"page", "target", "section_urls", "evidence_includes", "url", "pages"})


def load_answer_key(demo: DemoServer | None = None) -> dict[str, Any]:
    """The answer key; with a running `demo`, every page/target reference becomes an absolute URL."""
    with ANSWER_KEY.open(encoding="utf-8") as fh:
        key = yaml.safe_load(fh)
    if demo is None:
        return key

    def walk(node: Any, parent_key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, parent_key) for v in node]
        if isinstance(node, str) and parent_key in _URL_KEYS:
            return demo.absolute(node)
        return node

    return walk(key)


@dataclass
class KeyComparison:
    """How a run's findings differ from the answer key (empty lists: the tool got the demo right)."""

    missing: list[dict[str, Any]]  # expected findings the run did not report
    mismatched: list[dict[str, Any]]  # reported, but evidence differs: {"expected", "actual", "keys"}
    unexpected: list[dict[str, Any]]  # reported, not in the key

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched or self.unexpected)

    def describe(self) -> str:
        """A readable diff for an assertion message."""
        lines = [f"missing: {f['rule']} {f['page']} -> {f.get('target')}" for f in self.missing]
        lines += [f"evidence differs ({', '.join(m['keys'])}): {m['expected']['rule']} {m['expected']['page']} "
                  f"expected {m['expected'].get('evidence')} got "
                  f"{ {k: m['actual'].get('evidence', {}).get(k) for k in m['keys']} }" for m in self.mismatched]
        lines += [f"unexpected: {f['rule']} {f['page']} -> {f.get('target')}" for f in self.unexpected]
        return "\n".join(lines) or "findings match the answer key"


def _evidence_differs(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    keys = []
    for k, want in (expected or {}).items():
        got = actual.get(k)
        if isinstance(want, list) and isinstance(got, list):
            if sorted(map(str, want)) != sorted(map(str, got)):
                keys.append(k)
        elif want != got and str(want) != str(got):
            keys.append(k)
    return keys


def compare_findings(findings: list[Any], demo: DemoServer, *,
                     satisfied: frozenset[str] | set[str] = frozenset()) -> KeyComparison:
    """Compare a run's findings (results.json dicts or checks.base.Finding objects) with the key.

    Matching is on (rule, page, target) as the contract de-duplicates; the key's `evidence` keys
    must then match (lists as sets). A key finding whose `requires` names something not in
    `satisfied` (e.g. "badge_hosts", "accessibility") is optional, and its `otherwise` finding
    is tolerated instead.
    """
    key = load_answer_key(demo)
    actual = [f.to_json() if hasattr(f, "to_json") else dict(f) for f in findings]
    expected, tolerated = [], []
    for entry in key["findings"]:
        if set(entry.get("requires") or {}) <= set(satisfied):
            expected.append(entry)
        else:
            tolerated.append(entry)
            if entry.get("otherwise"):
                tolerated.append(entry["otherwise"])
    allowed_rules = set(key.get("unlisted_rules_allowed") or [])

    def ident(f: dict[str, Any]) -> tuple[str, str, str | None]:
        return (f["rule"], f["page"], f.get("target"))

    # several findings may share (rule, page, target) when the evidence tells them apart (the §7
    # item of missing-disclosure-category): pair each expected entry with a candidate whose
    # evidence agrees, and only then with one that disagrees
    candidates: dict[tuple[str, str, str | None], list[int]] = {}
    for index, f in enumerate(actual):
        candidates.setdefault(ident(f), []).append(index)
    used: set[int] = set()
    missing, mismatched, pending = [], [], []
    for entry in expected:
        free = [i for i in candidates.get(ident(entry), []) if i not in used]
        agree = [i for i in free if not _evidence_differs(entry.get("evidence") or {}, actual[i].get("evidence") or {})]
        if agree:
            used.add(agree[0])
        elif free:
            pending.append(entry)
        else:
            missing.append(entry)
    for entry in pending:
        free = [i for i in candidates.get(ident(entry), []) if i not in used]
        if not free:
            missing.append(entry)
            continue
        used.add(free[0])
        got = actual[free[0]]
        keys = _evidence_differs(entry.get("evidence") or {}, got.get("evidence") or {})
        mismatched.append({"expected": entry, "actual": got, "keys": keys})
    tolerated_ids = {ident(e) for e in tolerated}
    unexpected = [f for i, f in enumerate(actual)
                  if i not in used and ident(f) not in tolerated_ids and f["rule"] not in allowed_rules]
    return KeyComparison(missing, mismatched, unexpected)


def main(argv: list[str] | None = None) -> int:
    """`python -m disclosure_audit.demo`: serve the demo until Ctrl-C (for browsing it by hand)."""
    parser = argparse.ArgumentParser(description="Serve the disclosure-audit demo agency site on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--external-host", default="127.0.0.2")
    parser.add_argument("--external-port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        server = DemoServer(args.host, args.port, args.external_host, args.external_port).start()
    except DemoServerError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"示範網站 / demo site:      {server.url}")
    print(f"外部網站 / external site:  {server.external_url}")
    if server.external_fallback:
        print(f"（外部網站改用 {server.external_name}：{server.external_fallback}）")
    print("按 Ctrl-C 結束 / press Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
