"""The bundled demo agency site and its server (disclosure_audit/demo.py), tested over real loopback HTTP.

These tests pin the server behaviour the link checker and the date rules rely on (statuses,
redirects, Retry-After, Last-Modified/ETag, Big5 bytes, placeholders), prove the server answers
odd input without crashing, and check that answer_key.yaml agrees with what the site serves.
Crawling the demo is tested elsewhere (the crawler's own tests).
"""

from __future__ import annotations

import importlib.util
import re
import socket
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from email.utils import parsedate_to_datetime
from io import BytesIO
from pathlib import Path

import pytest
import requests

from checks.base import Finding
from crawler.extract import extract_page
from disclosure_audit.demo import (
    DEMO_AGENCY,
    SITE_ROOT,
    DemoServer,
    DemoServerError,
    compare_findings,
    content_type_for,
    demo_today,
    load_answer_key,
    main,
    resolve_site_path,
    serve_demo,
)

TIMEOUT = 5


def _load_build():
    spec = importlib.util.spec_from_file_location("demo_site_build", SITE_ROOT / "_build" / "build.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


BUILD = _load_build()
PAGE_PATHS = ["/" if p.path == "index.html" else "/" + p.path for p in BUILD.PAGES]


@pytest.fixture(scope="module")
def demo():
    with serve_demo() as server:
        yield server
    assert server.errors == [], f"handler exceptions: {server.errors}"


def get(demo: DemoServer, path: str, **kw) -> requests.Response:
    kw.setdefault("allow_redirects", False)
    return requests.get(demo.absolute(path), timeout=TIMEOUT, **kw)


def raw_request(demo: DemoServer, data: bytes) -> bytes:
    """Send bytes as they are (no client normalisation of `..` or %-escapes) and read the answer."""
    with socket.create_connection((demo.host, demo.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
                if m and len(body) >= int(m.group(1)):
                    break
        return b"".join(chunks)


def status_of(raw: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    assert m, f"not an HTTP answer: {raw[:80]!r}"
    return int(m.group(1))


# --------------------------------------------------------------------------------------------
# Basics


def test_demo_today_is_the_fixed_judging_date():
    assert demo_today() == date(2026, 11, 23)
    assert load_answer_key()["today"] == demo_today()


def test_addresses_are_loopback_and_distinct(demo):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", demo.url)
    assert re.fullmatch(r"http://127\.0\.0\.2:\d+/", demo.external_url)
    assert demo.external_fallback is None


def test_home_page_is_utf8_with_placeholders_filled(demo):
    r = get(demo, "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    text = r.content.decode("utf-8")
    assert "__EXTERNAL__" not in text and "__SITE__" not in text
    assert f'href="{demo.external_base}/badge?category=20200101123000"' in text
    assert f'href="{demo.external_base}/facebook"' in text
    assert '<html lang="zh-Hant-TW">' in text
    assert get(demo, "/index.html").content == r.content


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_is_served_clean(demo, path):
    r = get(demo, path)
    expected_status = 200
    assert r.status_code == expected_status
    charset = r.headers["Content-Type"].split("charset=")[1]
    text = r.content.decode(charset)  # strict: wrong bytes fail here
    assert "__EXTERNAL__" not in text and "__SITE__" not in text
    facts = extract_page(text, demo.absolute(path)).facts
    assert [level for level, _ in facts.headings].count(1) == 1, "one h1 per page"
    assert facts.title
    assert facts.lang == ("en" if path.startswith("/en/") else "zh-Hant-TW")
    assert {ak["key"] for ak in facts.accesskeys} >= {"U", "C", "Z"}
    assert facts.noscript
    assert facts.meta_first("DC.Identifier") == DEMO_AGENCY["code"]


def test_big5_page_is_big5_on_the_wire_and_decodes(demo):
    r = get(demo, "/big5/notice.html")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=big5"
    with pytest.raises(UnicodeDecodeError):
        r.content.decode("utf-8")
    assert "舊版公告".encode("big5") in r.content
    text = r.content.decode("big5")
    assert '<meta charset="big5">' in text
    facts = extract_page(text, demo.absolute("/big5/notice.html"))
    assert facts.facts.title == "舊版公告 - 臺灣示範市政府環境保護局"
    assert "更新日期：99年1月5日" in facts.facts.text
    texts = {link.text: link.target for link in facts.links if link.tag == "a"}
    assert texts["回最新消息"] == demo.absolute("/news/index.html")


def test_rss_links_use_the_site_base(demo):
    r = get(demo, "/rss.xml")
    assert r.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    links = re.findall(r"<link>([^<]+)</link>", r.text)
    assert demo.absolute("/news/n1.html") in links
    assert all(link.startswith(demo.base) for link in links)


# --------------------------------------------------------------------------------------------
# Dates and caching


def test_last_modified_comes_from_the_table(demo):
    assert get(demo, "/news/n3.html").headers["Last-Modified"] == "Fri, 14 Mar 2025 08:30:00 GMT"
    assert get(demo, "/news/n2.html").headers["Last-Modified"] == "Wed, 15 Mar 2023 01:00:00 GMT"
    assert get(demo, "/about.html").headers["Last-Modified"] == "Thu, 15 Oct 2026 02:00:00 GMT"
    assert get(demo, "/forms/noise-complaint.doc").headers["Last-Modified"] == "Thu, 15 Oct 2026 02:00:00 GMT"
    n4 = get(demo, "/news/n4.html")
    assert n4.status_code == 200 and "Last-Modified" not in n4.headers
    assert n4.headers["ETag"].startswith('"')


def test_conditional_requests_answer_304(demo):
    first = get(demo, "/news/n1.html")
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    r = get(demo, "/news/n1.html", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == etag
    assert get(demo, "/news/n1.html", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert get(demo, "/news/n1.html", headers={"If-None-Match": '"other"'}).status_code == 200
    assert get(demo, "/news/n1.html", headers={"If-Modified-Since": lm}).status_code == 304
    assert get(demo, "/news/n1.html", headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}).status_code == 200
    assert get(demo, "/news/n1.html", headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    both = {"If-None-Match": '"other"', "If-Modified-Since": lm}
    assert get(demo, "/news/n1.html", headers=both).status_code == 200
    # n4 has no Last-Modified, so If-Modified-Since cannot make it 304
    assert get(demo, "/news/n4.html", headers={"If-Modified-Since": lm}).status_code == 200


def test_etag_depends_on_the_served_bytes():
    with serve_demo() as one, serve_demo() as two:
        # pages carry the external URL, which differs per server: so must the ETag
        assert get(one, "/").headers["ETag"] != get(two, "/").headers["ETag"]
        # documents are the same bytes everywhere
        assert get(one, "/forms/petition-letter.pdf").headers["ETag"] == get(two, "/forms/petition-letter.pdf").headers["ETag"]


# --------------------------------------------------------------------------------------------
# Dynamic routes the link checker must handle


def test_old_news_is_a_working_permanent_redirect(demo):
    r = get(demo, "/old-news.html")
    assert r.status_code == 301
    assert r.headers["Location"] == demo.absolute("/news/index.html")
    followed = get(demo, "/old-news.html", allow_redirects=True)
    assert followed.status_code == 200 and "<h1>最新消息</h1>" in followed.text


def test_loop_redirects_forever(demo):
    a = get(demo, "/loop-a")
    assert (a.status_code, a.headers["Location"]) == (302, demo.absolute("/loop-b"))
    b = get(demo, "/loop-b")
    assert (b.status_code, b.headers["Location"]) == (302, demo.absolute("/loop-a"))
    with pytest.raises(requests.TooManyRedirects):
        get(demo, "/loop-a", allow_redirects=True)


def test_head_refused_but_get_works(demo):
    head = requests.head(demo.absolute("/api/head-refused.pdf"), timeout=TIMEOUT)
    assert head.status_code == 405 and head.headers["Allow"] == "GET"
    r = get(demo, "/api/head-refused.pdf")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-1.4")
    # HEAD on an ordinary document answers like GET, without a body
    head_ok = requests.head(demo.absolute("/forms/petition-letter.pdf"), timeout=TIMEOUT)
    assert head_ok.status_code == 200 and head_ok.content == b""
    assert int(head_ok.headers["Content-Length"]) == len(get(demo, "/forms/petition-letter.pdf").content)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_busy_report_is_429_once_then_200(method):
    with serve_demo() as fresh:
        url = fresh.absolute("/busy/report.pdf")
        first = requests.request(method, url, timeout=TIMEOUT)
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "1"
        second = requests.request(method, url, timeout=TIMEOUT)
        assert second.status_code == 200
        assert second.headers["Content-Type"] == "application/pdf"
        assert requests.get(url, timeout=TIMEOUT).content.startswith(b"%PDF")


def test_error_statuses(demo):
    assert get(demo, "/members/").status_code == 403
    assert get(demo, "/members/login.html").status_code == 403
    assert get(demo, "/cgi/error").status_code == 500
    for path in ("/nowhere.html", "/disclosure/petitions.html", "/gone"):
        r = get(demo, path)
        assert r.status_code == 404
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>找不到網頁</h1>" in r.text and "__EXTERNAL__" not in r.text


def test_directories(demo):
    r = get(demo, "/news")
    assert (r.status_code, r.headers["Location"]) == (301, demo.absolute("/news/"))
    assert get(demo, "/news/").content == get(demo, "/news/index.html").content
    assert get(demo, "/images/").status_code == 404  # no index, no listing


def test_robots_disallows_private(demo):
    r = get(demo, "/robots.txt")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Disallow: /private/" in r.text.splitlines()
    # robots.txt is advice: the page exists, so a crawler that ignores robots would be caught by
    # the request log, not by a 404
    assert get(demo, "/private/internal.html").status_code == 200
    assert demo.requested("/private/")[-1].method == "GET"


def test_posts(demo):
    url = demo.absolute("/mailbox/submit")
    assert requests.post(url, data={"name": "王小明"}, timeout=TIMEOUT).status_code == 200
    assert requests.post(demo.absolute("/survey/submit"), data={"q1": "5"}, timeout=TIMEOUT).status_code == 200
    r = requests.post(demo.absolute("/about.html"), data={"x": "1"}, timeout=TIMEOUT)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    big = requests.post(url, data=b"x" * (65 * 1024), timeout=TIMEOUT)
    assert big.status_code == 413
    assert requests.delete(demo.absolute("/"), timeout=TIMEOUT).status_code == 405


# --------------------------------------------------------------------------------------------
# Content types and real documents


@pytest.mark.parametrize(("path", "ctype", "magic"), [
    ("/forms/petition-letter.pdf", "application/pdf", b"%PDF-1.4"),
    ("/forms/petition-letter.odt", "application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    ("/disclosure/files/stats-113.ods", "application/vnd.oasis.opendocument.spreadsheet", b"PK\x03\x04"),
    ("/forms/noise-complaint.doc", "application/msword", b"{\\rtf1"),
    ("/forms/recycling-subsidy.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ("/images/badge-aa.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("/css/site.css", "text/css; charset=utf-8", b"/*"),
])
def test_documents_have_their_content_type(demo, path, ctype, magic):
    r = get(demo, path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.content.startswith(magic)


def test_odf_files_are_valid_packages(demo):
    for path, mime in (("/forms/petition-letter.odt", "application/vnd.oasis.opendocument.text"),
                       ("/disclosure/files/stats-113.ods", "application/vnd.oasis.opendocument.spreadsheet")):
        zf = zipfile.ZipFile(BytesIO(get(demo, path).content))
        first = zf.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert zf.read("mimetype").decode() == mime
        assert zf.testzip() is None
    docx = zipfile.ZipFile(BytesIO(get(demo, "/forms/recycling-subsidy.docx").content))
    assert "資源回收補助申請表" in docx.read("word/document.xml").decode("utf-8")


def test_content_type_table():
    assert content_type_for("big5/notice.html") == "text/html; charset=big5"
    assert content_type_for("about.html") == "text/html; charset=utf-8"
    assert content_type_for("x/report.xls") == "application/vnd.ms-excel"
    assert content_type_for("x/sheet.ods") == "application/vnd.oasis.opendocument.spreadsheet"
    assert content_type_for("x/unknown.bin") == "application/octet-stream"


# --------------------------------------------------------------------------------------------
# The external "other agency"


def test_external_site(demo):
    home = requests.get(demo.external_url, timeout=TIMEOUT)
    assert home.status_code == 200 and 'id="top"' in home.text
    assert requests.get(demo.absolute("__EXTERNAL__/gone"), timeout=TIMEOUT).status_code == 404
    assert requests.get(demo.absolute("__EXTERNAL__/partner.html"), timeout=TIMEOUT).status_code == 200
    for path in ("/facebook", "/youtube", "/join", "/egov", "/eservice", "/epay", "/booking", "/progress"):
        assert requests.get(demo.external_base + path, timeout=TIMEOUT).status_code == 200, path
    assert requests.get(demo.external_base + "/robots.txt", timeout=TIMEOUT).text == "User-agent: *\nDisallow:\n"
    badge = requests.get(demo.external_base + "/badge?category=<script>alert(1)</script>", timeout=TIMEOUT)
    assert badge.status_code == 200
    assert "<script>" not in badge.text and "&lt;script&gt;" in badge.text
    assert demo.requested("/badge", host="external")


# --------------------------------------------------------------------------------------------
# Robustness


@pytest.mark.parametrize("request_line", [
    b"GET /../demo.py HTTP/1.1",
    b"GET /%2e%2e/demo.py HTTP/1.1",
    b"GET /..%2f..%2fetc%2fpasswd HTTP/1.1",
    b"GET /news/../../demo.py HTTP/1.1",
    b"GET /_build/build.py HTTP/1.1",
    b"GET /_build/ HTTP/1.1",
    b"GET /.git/config HTTP/1.1",
    b"GET /news/%00.html HTTP/1.1",
    b"GET /news\\n1.html HTTP/1.1",
    b"GET /%ff%fe HTTP/1.1",
    b"GET /" + b"a" * 5000 + b" HTTP/1.1",
    b"HEAD /../../etc/passwd HTTP/1.1",
])
def test_paths_outside_the_site_are_404(demo, request_line):
    raw = raw_request(demo, request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 404
    assert b"root:" not in raw and b"import" not in raw


@pytest.mark.parametrize(("data", "status"), [
    (b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400),
    (b"BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 501),
    (b"OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    (b"POST /mailbox/submit HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\nConnection: close\r\n\r\n", 413),
    (b"GET http://127.0.0.1/about.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
])
def test_odd_requests_get_an_answer(demo, data, status):
    assert status_of(raw_request(demo, data)) == status
    assert get(demo, "/").status_code == 200


@pytest.mark.parametrize(("data", "code"), [
    (b"HELLO\r\n\r\n", b"400"),  # http.server answers HTTP/0.9-style requests without a status line
    (b"GET / HTTP/9.9\r\n\r\n", b"505"),
])
def test_unparsable_requests_get_an_error_page(demo, data, code):
    assert b"Error code: " + code in raw_request(demo, data)
    assert get(demo, "/").status_code == 200


def test_bad_bytes_and_hangups_do_not_break_the_server(demo):
    with socket.create_connection((demo.host, demo.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x00\xff\xfe garbage \r\n\r\n")
        sock.recv(1024)
    for _ in range(5):  # clients that hang up before reading
        with socket.create_connection((demo.host, demo.port), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /disclosure/files/plan-115.pdf HTTP/1.1\r\nHost: x\r\n\r\n")
    assert get(demo, "/").status_code == 200


def test_many_concurrent_requests_are_all_answered(demo):
    paths = (PAGE_PATHS + ["/forms/petition-letter.pdf", "/nowhere.html"]) * 3
    with ThreadPoolExecutor(max_workers=48) as pool:
        statuses = list(pool.map(lambda p: get(demo, p).status_code, paths))
    assert statuses.count(404) == 3 and statuses.count(200) == len(paths) - 3


def test_keep_alive_connections_are_reused(demo):
    with requests.Session() as session:
        for path in ("/", "/about.html", "/nowhere.html", "/old-news.html", "/news/index.html"):
            assert session.get(demo.absolute(path), timeout=TIMEOUT, allow_redirects=False).status_code in (200, 301, 404)


def test_resolve_site_path():
    assert resolve_site_path("/") == "index.html"
    assert resolve_site_path("/news/") == "news/index.html"
    assert resolve_site_path("/news") == "news/"
    assert resolve_site_path("/big5/notice.html") == "big5/notice.html"
    for bad in ("/../demo.py", "/_build/build.py", "/news/../../demo.py", "/a\x00b", "/x\\y", "/answer_key.yaml/x"):
        assert resolve_site_path(bad) is None, bad


# --------------------------------------------------------------------------------------------
# Lifecycle


def test_stop_releases_the_ports():
    server = DemoServer().start()
    ports = [(server.host, server.port), (server.external_host, server.external_port)]
    assert get(server, "/").status_code == 200
    server.stop()
    server.stop()  # twice is harmless
    for host, port in ports:
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=1).close()


def test_unavailable_external_address_falls_back_to_a_host_name():
    # 192.0.2.1 (TEST-NET-1) is not a local address: binding fails, nothing is sent anywhere
    with serve_demo(external_host="192.0.2.1") as server:
        assert server.external_fallback and "192.0.2.1" in server.external_fallback
        assert server.external_base == f"http://localhost:{server.external_port}"
        assert f'href="http://localhost:{server.external_port}/facebook"' in get(server, "/").text
        r = requests.get(f"http://127.0.0.1:{server.external_port}/partner.html", timeout=TIMEOUT)
        assert r.status_code == 200


def test_unavailable_site_address_is_one_clear_error(capsys):
    with pytest.raises(DemoServerError, match=r"192\.0\.2\.1:0"):
        DemoServer(host="192.0.2.1").start()
    assert main(["--host", "192.0.2.1", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "192.0.2.1" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# The site is what the generator builds, and the answer key matches the site


def test_committed_site_matches_the_generator():
    stale = [rel for rel, data in BUILD.build().items()
             if not (SITE_ROOT / rel).is_file() or (SITE_ROOT / rel).read_bytes() != data]
    assert stale == [], "run: python disclosure_audit/demo_site/_build/build.py"


def _page(demo: DemoServer, path: str):
    r = get(demo, path)
    charset = r.headers["Content-Type"].split("charset=")[-1]
    return r, extract_page(r.content.decode(charset), demo.absolute(path))


def test_answer_key_links_match_the_server(demo):
    key = load_answer_key(demo)
    for f in key["findings"]:
        if f["rule"] not in ("broken-link", "unverified-link", "missing-anchor", "title-mismatch"):
            continue
        _, source = _page(demo, f["page"])
        assert f["target"] in {link.target for link in source.links}, f"{f['page']} does not link {f['target']}"
        ev = f["evidence"]
        if ev.get("kind") == "dns":
            assert f["target"].startswith("http://") and ".invalid" in f["target"]
        elif ev.get("kind") in ("http", "blocked"):
            assert requests.get(f["target"], timeout=TIMEOUT, allow_redirects=False).status_code == ev["status"]
        elif ev.get("kind") == "redirect-loop":
            with pytest.raises(requests.TooManyRedirects):
                requests.get(f["target"], timeout=TIMEOUT)
        if f["rule"] == "missing-anchor":
            _, target = _page(demo, "/about.html")
            assert ev["fragment"] not in target.facts.anchors
        if f["rule"] == "title-mismatch":
            texts = [link.text for link in source.links if link.target == f["target"]]
            assert ev["link_text"] in texts
    for nf in key["not_findings"]:
        if nf["not"] == "missing-anchor" and "#" in (nf["target"] or ""):
            base, fragment = nf["target"].split("#")
            if base.startswith(demo.base):
                _, target = _page(demo, base.removeprefix(demo.base))
                assert fragment in target.facts.anchors
        if nf["not"] == "broken-link" and (nf["target"] or "").startswith("http"):
            r = requests.get(nf["target"], timeout=TIMEOUT)
            if "/busy/" in nf["target"]:  # the busy route is tested on its own
                continue
            assert r.status_code == (403 if nf["expect"].startswith("403") else 200), nf


def test_answer_key_dates_match_the_server(demo):
    key = load_answer_key(demo)
    today = key["today"]
    for entry in key["last_update"]:
        r, page = _page(demo, entry["page"].removeprefix(demo.base))
        if entry["source"] == "http":
            assert parsedate_to_datetime(r.headers["Last-Modified"]).date().isoformat() == entry["date"]
            assert "更新日期" not in page.facts.text and "發布日期" not in page.facts.text
        elif entry["source"] == "text":
            d = date.fromisoformat(entry["date"])
            roc = d.year - 1911
            assert (f"更新日期：{roc}-{d.month:02d}-{d.day:02d}" in page.facts.text
                    or f"更新日期：{roc}年{d.month}月{d.day}日" in page.facts.text), entry
        else:
            assert "Last-Modified" not in r.headers
            assert page.facts.meta_first("DC.Date") is None
            assert not re.search(r"(?<!\d)1\d\d-\d\d-\d\d(?!\d)|\d{2,3}年\d{1,2}月", page.facts.text)
        if entry["date"]:
            age = (today - date.fromisoformat(entry["date"])).days
            assert (age > key["options"]["stale_days"]) == entry["stale"], entry
    for f in key["findings"]:
        if f["rule"] == "stale-page":
            assert (today - date.fromisoformat(f["evidence"]["date"])).days == f["evidence"]["age_days"]
        if f["rule"] == "expired-notice":
            _, page = _page(demo, f["page"].removeprefix(demo.base))
            assert "公告期間：115年1月1日至115年3月31日" in page.facts.text
            _, listing = _page(demo, "/news/notices.html")
            assert f["page"] in {link.target for link in listing.links}
            assert "公告期間" not in listing.facts.text


def test_answer_key_metadata_and_disclosure_match_the_server(demo):
    key = load_answer_key(demo)
    for f in key["findings"]:
        if f["check"] != "classification":
            continue
        _, page = _page(demo, f["page"].removeprefix(demo.base))
        ev = f["evidence"]
        if f["rule"] == "missing-metadata":
            present = set(page.facts.meta)
            for field in ev["fields"]:
                names = ["dc.coverage.t.min", "dc.coverage.t.max"] if field == "DC.Coverage" else [field.lower()]
                assert not present & set(names), field
        elif f["rule"] == "invalid-category-code":
            assert page.facts.meta_first(ev["field"]) == ev["value"]
        elif f["rule"] == "invalid-dc-date":
            assert page.facts.meta_first("DC.Date") == ev["value"]
    dc_dates = {}
    texts = []
    for path in PAGE_PATHS:
        if path.startswith(("/private/", "/404")):
            continue
        _, page = _page(demo, path)
        dc_dates[path] = page.facts.meta_first("DC.Date")
        texts.append(page.facts.text)
    common = max(set(dc_dates.values()), key=list(dc_dates.values()).count)
    assert common == "2026-09-30" and 3 <= sum(v != common for v in dc_dates.values()) <= 8
    assert not any("行政指導" in t for t in texts), "§7 item 4 must be absent"
    assert sum(t.count("請願") for t in texts) == 1, "§7 item 7 only through its broken link"
    for cat in key["disclosure"]["categories"]:
        for url in cat.get("evidence_includes", []):
            assert requests.get(url, timeout=TIMEOUT).status_code == 200


def test_answer_key_accessibility_defects_are_in_the_markup(demo):
    _, n2 = _page(demo, "/news/n2.html")
    assert [img["src"] for img in n2.facts.images if img["alt"] is None] == ["/images/cleanup-day.png"]
    _, survey = _page(demo, "/survey.html")
    unlabelled = [i for form in survey.facts.forms for i in form["inputs"]
                  if i["name"] == "suggestion_other"]
    assert unlabelled and not unlabelled[0]["id"] and not unlabelled[0]["title"]
    _, links = _page(demo, "/links.html")
    assert [link.target for link in links.links if link.tag == "a" and not link.text] == [
        demo.absolute("__EXTERNAL__/partner.html")]
    for path in PAGE_PATHS:
        if path in ("/news/n2.html",):
            continue
        _, page = _page(demo, path)
        assert all(img["alt"] for img in page.facts.images), path


def test_answer_key_crawl_pages_are_served(demo):
    key = load_answer_key(demo)
    for url in key["crawl"]["pages"]:
        r = requests.get(url, timeout=TIMEOUT)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), url


# --------------------------------------------------------------------------------------------
# compare_findings: the helper crawler tests use to diff a run against the key


def _as_findings(entries: list[dict]) -> list[Finding]:
    return [Finding(check=e["check"], rule=e["rule"], severity="warning", page=e["page"], target=e.get("target"),
                    detail="", evidence=dict(e.get("evidence") or {})) for e in entries]


def test_compare_findings(demo):
    key = load_answer_key(demo)
    perfect = _as_findings(key["findings"])
    assert compare_findings(perfect, demo, satisfied={"badge_hosts", "accessibility"}).ok
    # without the badge option, the expired-badge finding is optional and its fallback tolerated
    no_badge = [f for f in perfect if f.rule != "tw-badge-expired"]
    no_badge.append(Finding("accessibility", "tw-badge-link-invalid", "notice", demo.absolute("/"), None, ""))
    assert compare_findings(no_badge, demo, satisfied={"accessibility"}).ok

    result = compare_findings(perfect[1:], demo, satisfied={"badge_hosts", "accessibility"})
    assert [f["target"] for f in result.missing] == [demo.absolute("/nowhere.html")]

    extra = perfect + [Finding("links", "broken-link", "warning", demo.absolute("/"), demo.absolute("/x"), "")]
    result = compare_findings(extra, demo, satisfied={"badge_hosts", "accessibility"})
    assert [f["target"] for f in result.unexpected] == [demo.absolute("/x")]
    assert "unexpected: broken-link" in result.describe()

    swapped = [f for f in perfect if f.rule != "missing-disclosure-category"]
    swapped += [Finding("disclosure", "missing-disclosure-category", "warning", demo.absolute("/disclosure/index.html"),
                        None, "", {"item": n}) for n in (7, 5)]
    result = compare_findings(swapped, demo, satisfied={"badge_hosts", "accessibility"})
    assert [m["keys"] for m in result.mismatched] == [["item"]]
    assert result.mismatched[0]["expected"]["evidence"] == {"item": 4}


def test_demo_site_has_no_generator_output_outside_the_site():
    # the build writes only under disclosure_audit/demo_site/ and never touches the answer key
    assert all(not rel.startswith(("..", "/")) and rel != "answer_key.yaml" for rel in BUILD.build())
    assert Path(SITE_ROOT / "answer_key.yaml").is_file()
