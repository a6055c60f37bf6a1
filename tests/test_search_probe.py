"""The site-search probe against real HTTP servers on 127.0.0.1 (never any other address)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from disclosure_helpers import NCYU, NCYU_FILES, build_site, by_rule, page, realworld_dir, run

from checks.retrieval import RetrievalAids
from crawler.search_probe import choose_query, probe_site_search

UA = "disclosure-audit-test/0.1 (+https://example.invalid/bot)"
TERM = "市政新聞"


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the timeout test hangs up on purpose: the late write's BrokenPipe is expected


def serve(handler: type[BaseHTTPRequestHandler] | partial) -> tuple[Server, str]:
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def results_page(query: str, *, paged: bool, sortable: bool) -> str:
    items = "".join(f'<li><a href="/news/{i}">{query}第{i}則</a></li>' for i in range(1, 4))
    extra = '<a href="/search?keyword=x&amp;page=2">第 2 頁</a>' if paged else ""
    sort = '<select name="sort"><option>相關度</option><option>日期</option></select>' if sortable else ""
    return page(f"<form action='/search'>{sort}</form><p>共 3 筆</p><ul>{items}</ul>{extra}")


class SiteHandler(BaseHTTPRequestHandler):
    """A small agency site with a working search at /search (GET) and /psearch (POST)."""

    seen: list[dict] = []
    mode = {"paged": True, "sortable": True}

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, params: dict[str, list[str]]) -> None:
        type(self).seen.append({"path": self.path, "params": params, "ua": self.headers.get("User-Agent")})
        query = (params.get("keyword") or [""])[0]
        if query == TERM:
            self._send(200, results_page(query, **type(self).mode))
        else:
            self._send(200, page("<p>查無資料</p>"))

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        parts = urlsplit(self.path)
        if parts.path == "/search":
            self._answer(parse_qs(parts.query))
        elif parts.path == "/slow":
            time.sleep(2)
            self._send(200, page("late"))
        else:
            self._send(404, page("not found"))

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode("utf-8"))
        if urlsplit(self.path).path == "/psearch" and params.get("token") == ["abc"]:
            self._answer(params)
        else:
            self._send(400, page("bad request"))


@pytest.fixture()
def site_server() -> Iterator[str]:
    SiteHandler.seen = []
    SiteHandler.mode = {"paged": True, "sortable": True}
    server, base = serve(SiteHandler)
    yield base
    server.shutdown()
    server.server_close()


def agency_pages(base: str, form: str) -> dict[str, str]:
    nav = f"<ul><li>{TERM}</li><li>交通</li><li>網站導覽</li></ul>"
    return {
        f"{base}/": page(nav + form + "<p>歡迎</p>"),
        f"{base}/a": page(nav + "<p>公告</p>"),
        f"{base}/b": page(nav + "<p>交通</p>"),
    }


GET_FORM = '<form action="/search" method="get"><input type="text" name="keyword" title="搜尋"></form>'


def test_choose_query_is_the_most_widespread_term(site_server: str) -> None:
    facts = build_site(agency_pages(site_server, GET_FORM))
    # 市政新聞 and 交通 are on every page; the longer one wins; 網站導覽 is a navigation word
    assert choose_query(facts) == TERM


def test_working_search_is_paged_and_sortable(site_server: str) -> None:
    facts = build_site(agency_pages(site_server, GET_FORM))
    probe = probe_site_search(facts, user_agent=UA, timeout=5)
    assert probe == {
        "form_page": f"{site_server}/", "query": TERM, "results_url": probe["results_url"], "status": 200,
        "results_found": True, "paged": True, "sortable": True,
        "field": "keyword", "method": "get", "action": f"{site_server}/search", "error": None,
    }
    assert urlsplit(probe["results_url"]).path == "/search"
    assert SiteHandler.seen == [{"path": SiteHandler.seen[0]["path"], "params": {"keyword": [TERM]}, "ua": UA}]
    facts.artifacts.search = probe
    assert by_rule(run(RetrievalAids, facts)[0], "site-search-no-results") == []


def test_results_without_paging_or_sorting(site_server: str) -> None:
    SiteHandler.mode = {"paged": False, "sortable": False}
    facts = build_site(agency_pages(site_server, GET_FORM))
    facts.artifacts.search = probe_site_search(facts, user_agent=UA, timeout=5)
    findings, _ = run(RetrievalAids, facts, today=date(2024, 6, 1))
    assert sorted(f.rule for f in findings if f.rule.startswith("site-search")) == [
        "site-search-not-paged", "site-search-not-sorted",
    ]


def test_post_form_keeps_hidden_fields(site_server: str) -> None:
    form = ('<form action="/psearch" method="post"><input type="hidden" name="token" value="abc">'
            '<input type="search" name="keyword"></form>')
    facts = build_site(agency_pages(site_server, form))
    probe = probe_site_search(facts, user_agent=UA, timeout=5)
    assert (probe["method"], probe["status"], probe["results_found"]) == ("post", 200, True)
    assert SiteHandler.seen[0]["params"] == {"token": ["abc"], "keyword": [TERM]}


def test_no_results_is_reported(site_server: str) -> None:
    pages = agency_pages(site_server, GET_FORM)
    pages = {url: html.replace(TERM, "市政資訊") for url, html in pages.items()}  # the engine knows no 市政資訊
    facts = build_site(pages)
    facts.artifacts.search = probe_site_search(facts, user_agent=UA, timeout=5)
    assert facts.artifacts.search["query"] == "市政資訊"
    assert facts.artifacts.search["results_found"] is False
    findings, _ = run(RetrievalAids, facts)
    assert [f.rule for f in findings if f.rule.startswith("site-search")] == ["site-search-no-results"]


def test_timeout_is_recorded_not_raised(site_server: str) -> None:
    form = '<form action="/slow" method="get"><input type="text" name="q"></form>'
    facts = build_site(agency_pages(site_server, form))
    started = time.monotonic()
    probe = probe_site_search(facts, user_agent=UA, timeout=0.5)
    assert time.monotonic() - started < 1.9
    assert (probe["error"], probe["status"]) == ("timeout", None)
    facts.artifacts.search = probe
    assert [f.rule for f in run(RetrievalAids, facts)[0] if f.rule.startswith("site-search")] == [
        "site-search-failed"
    ]


def test_third_party_search_engine_is_never_queried(site_server: str) -> None:
    form = '<form action="https://cse.google.invalid/cse" method="get"><input type="text" name="q"></form>'
    facts = build_site(agency_pages(site_server, form))
    probe = probe_site_search(facts, user_agent=UA, timeout=5)
    assert (probe["error"], probe["status"], probe["results_url"]) == ("out-of-scope", None, None)
    assert SiteHandler.seen == []


def test_site_without_search_form_gives_no_probe(site_server: str) -> None:
    facts = build_site(agency_pages(site_server, ""))
    assert probe_site_search(facts, user_agent=UA, timeout=5) is None


def test_ncyu_search_form_served_locally() -> None:
    """NCYU's pages carry a Google custom-search form (action search.html, hidden cx, field q).
    Served from 127.0.0.1 without search.html, the probe gets a 404: the search does not work."""
    root = realworld_dir(NCYU)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server, base = serve(partial(Quiet, directory=str(root)))
    try:
        pages = {f"{base}/{name}": (root / name).read_text(encoding="utf-8-sig") for name in NCYU_FILES}
        facts = build_site(pages, agency="國立嘉義大學", home=f"{base}/{NCYU_FILES[0]}")
        probe = probe_site_search(facts, user_agent=UA, timeout=5)
        assert probe["form_page"] == f"{base}/index202009.html"
        assert (probe["field"], probe["action"], probe["status"]) == ("q", f"{base}/search.html", 404)
        assert urlsplit(probe["results_url"]).path == "/search.html"
        assert "cx=001177554506168664450" in probe["results_url"]  # the hidden field was sent
        facts.artifacts.search = probe
        failed = by_rule(run(RetrievalAids, facts)[0], "site-search-failed")
        assert [(f.page, f.evidence["status"]) for f in failed] == [(f"{base}/index202009.html", 404)]
    finally:
        server.shutdown()
        server.server_close()


ANALYSE_TABLE = [
    ('<a href="/r/1">市政新聞一</a><a href="/s?q=x&amp;page=2">下一頁</a><p>依日期排序</p>',
     {"results_found": True, "paged": True, "sortable": True}),
    ('<a href="/r/1">市政新聞一</a><a href="/s?q=x&amp;p=3">3</a>',
     {"results_found": True, "paged": True, "sortable": False}),
    ('<a href="/r/1">市政新聞一</a><a href="/s?q=x&amp;sort=date">日期</a><p>第 1 / 5 頁</p>',
     {"results_found": True, "paged": True, "sortable": True}),
    ('<p>查無資料</p><a href="/r/1">市政新聞一</a>', {"results_found": False, "paged": False, "sortable": False}),
    ("<p>共 0 筆</p>", {"results_found": False, "paged": False, "sortable": False}),
    ('<a href="/menu">市政新聞</a>', {"results_found": False, "paged": False, "sortable": False}),  # menu link only
]


@pytest.mark.parametrize(("body", "expected"), ANALYSE_TABLE)
def test_analyse_results(body: str, expected: dict[str, bool]) -> None:
    from crawler.search_probe import analyse_results

    url = "http://127.0.0.1:9/s?q=x"
    assert analyse_results(page(body), url, TERM, {"http://127.0.0.1:9/menu"}) == expected
