"""axe never judges a page the site did not serve as 2xx HTML (issue 23), with real loopback servers
and the real headless Chromium.

The bug: a search form whose action answered 404 with an empty body was sampled, Chromium showed its
own "HTTP ERROR 404" page (which carries `maximum-scale=1.0, user-scalable=no`), and axe's critical
`meta-viewport` violation was reported against the agency. Here every way a page can fail to be the
site's own document is served (404 empty and with an HTML body, 500, a redirect to a PDF, a connection
reset during the browser's load, a download) and the tests check that no axe result is attributed to
the site, that the sample says why, that the next candidate of the same kind is tested in its place,
and that the score is the same as without those pages. Browsers: one for the guard checks, one for
the engine run, one for the end-to-end audit (one start each).
"""

from __future__ import annotations

import json
import socket
import struct
from datetime import date
from pathlib import Path

import pytest
from servers import Site

from checks.facts import A11yPageResult, Agency, SiteFacts
from crawler.a11y import (
    A11yOptions,
    Browser,
    NotServed,
    _AxeRunner,
    judge_served,
    load_site_page,
    plan_sample,
    run_accessibility,
    search_probe_failure,
)
from crawler.extract import extract_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
needs_browser = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()), reason="Chromium/chromedriver not installed in /usr/bin"
)

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
       b"endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF")
# the site's own 404 page carries the very markup Chromium's error page has: still not to be judged
SITE_404 = ('<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>找不到網頁</title>'
            '<meta name="viewport" content="width=device-width, maximum-scale=1.0, user-scalable=no">'
            "</head><body><main><h1>找不到網頁</h1></main></body></html>")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _page(title: str, body: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><main><h1>{title}</h1>{body}</main></body></html>")


def _reset(handler) -> None:
    """Close the socket with an RST as soon as the request is read: a connection reset during the load."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def _reset_for_browser(page: str):
    """A page the crawler gets normally but Chromium's load of it is reset (the guard at run time)."""
    def route(handler) -> None:
        if "Chrome" in (handler.headers.get("User-Agent") or ""):
            _reset(handler)
        else:
            handler.reply(200, HTML, page)
    return route


def _error_routes(site: Site) -> None:
    site.routes.update({
        "/s404-empty": (404, {"Content-Type": "text/html"}, b""),
        "/s404-html": (404, HTML, SITE_404),
        "/s500": (500, {}, b""),
        "/s500-again": (500, {}, b""),
        "/s-pdf": (302, {"Location": "/report.pdf"}, b""),
        "/report.pdf": (200, {"Content-Type": "application/pdf"}, PDF),
        "/s-reset": _reset,
        "/s-download": (200, {"Content-Type": "application/octet-stream",
                              "Content-Disposition": "attachment; filename=x.bin"}, b"abc"),
    })
    for i in range(1, 5):
        site.html(f"/alt{i}.html", _page(f"替代頁 {i}", "<p>內容</p>"))


@pytest.fixture(scope="module")
def server():
    site = Site().start()
    _error_routes(site)
    yield site
    site.stop()


def _opts(**kw) -> A11yOptions:
    return A11yOptions(**{"page_timeout_s": 10, "script_timeout_s": 15, "extra_args": [LOOPBACK_ONLY], **kw})


# ------------------------------------------------------------------------------------------------
# the guard, on what Chromium really ends on


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("Chromium/chromedriver not installed in /usr/bin")
    b = Browser(_opts())
    b.start()
    yield b
    b.quit()


@needs_browser
def test_chromium_error_page_would_fail_meta_viewport_without_the_guard(server: Site, browser: Browser) -> None:
    """The control: axe run on what Chromium shows for a 404 with an empty body finds the false
    `meta-viewport` violation of the issue, so the guard below is what keeps it out."""
    browser.driver.get(server.url + "/s404-empty")
    assert browser.driver.execute_script("return document.URL") == "chrome-error://chromewebdata/"
    runner = _AxeRunner(browser.driver)
    runner.inject_all()
    raw = runner.run(_opts(rules=["meta-viewport"]).axe_options_json())
    assert [v["id"] for v in raw["violations"]] == ["meta-viewport"]


@needs_browser
@pytest.mark.parametrize(("path", "code", "status", "words"), [
    ("/s404-empty", "http-status", 404, "Chromium's own error page (HTTP ERROR 404)"),
    ("/s404-html", "http-status", 404, "HTTP 404: the site answered with an error page"),
    ("/s500", "http-status", 500, "Chromium's own error page (HTTP ERROR 500)"),
    ("/s-pdf", "not-html", 200, "not an HTML document (application/pdf, shown in Chromium's PDF viewer)"),
    ("/s-reset", "network-error", None, "network error during the browser's load: ERR_CONNECTION_RESET"),
    ("/s-download", "download", None, "the browser stayed on the previous document"),
])
def test_load_site_page_refuses_what_the_site_did_not_serve(server: Site, browser: Browser, path: str, code: str,
                                                            status: int | None, words: str) -> None:
    load_site_page(browser.driver, server.url + "/alt1.html")  # a real page first: the download stays on it
    with pytest.raises(NotServed) as caught:
        load_site_page(browser.driver, server.url + path)
    assert (caught.value.code, caught.value.http_status) == (code, status)
    assert caught.value.detail.startswith(words), caught.value.detail


@needs_browser
def test_load_site_page_returns_the_served_state(server: Site, browser: Browser) -> None:
    state = load_site_page(browser.driver, server.url + "/alt2.html")
    assert (state["status"], state["contentType"], state["url"]) == (200, "text/html", server.url + "/alt2.html")


def test_judge_served_without_a_browser() -> None:
    ok = {"url": "https://www.example.gov.tw/", "contentType": "text/html", "status": 200}
    assert judge_served(ok) is None
    assert judge_served({**ok, "status": None}) is None  # a browser without responseStatus: other signs decide
    assert judge_served({**ok, "status": 203}) is None
    assert judge_served({**ok, "status": 410}).code == "http-status"
    assert judge_served({**ok, "url": "chrome-error://chromewebdata/", "status": 0,
                         "errorCode": "ERR_EMPTY_RESPONSE"}).detail.startswith(
        "Chromium's own error page (ERR_EMPTY_RESPONSE)")
    assert judge_served({**ok, "contentType": "text/plain"}).code == "not-html"
    xhtml = {**ok, "contentType": "application/xml"}  # XHTML (or SVG, MathML) served as XML: the site's markup
    assert judge_served(xhtml) is None
    assert judge_served({**ok, "contentType": "image/svg+xml"}) is None
    assert judge_served({**xhtml, "xmlViewer": True}).detail == (  # a tree drawn by Chromium
        "not an HTML document (application/xml, shown in Chromium's XML viewer)")
    assert judge_served({**ok, "stale": True}).code == "download"


# ------------------------------------------------------------------------------------------------
# the engine: failed with the reason, replaced by the next candidate of the same kind


@pytest.fixture(scope="module")
def engine_run(server: Site):
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("Chromium/chromedriver not installed in /usr/bin")
    u = server.url
    pages = [(u + p, "search", "tpl-s") for p in ("/s404-empty", "/s404-html", "/s500", "/s-pdf", "/s-reset")]
    pages.append((u + "/s-download", "random", "tpl-r"))
    alternates = {
        u + "/s404-empty": [(u + "/s404-html", "search", "tpl-s"), (u + "/alt1.html", "search", "tpl-s")],
        u + "/s500": [(u + "/s500-again", "search", "tpl-s"), (u + "/alt2.html", "search", "tpl-s")],
        u + "/s-reset": [(u + "/alt3.html", "search", "tpl-s")],
        # /s404-html and /s-pdf: no candidate of their kind is left
        u + "/s-download": [(u + "/alt4.html", "random", "tpl-r")],
    }
    start = len(server.hits)
    run = run_accessibility(pages, _opts(), alternates=alternates)
    run.hits = server.hits[start:]  # what this run asked the server
    return run


def _rel(server: Site, url: str | None) -> str | None:
    return url.replace(server.url, "") if url else None


@needs_browser
def test_not_served_pages_are_failed_with_why_and_replaced(server: Site, engine_run) -> None:
    rows = [(_rel(server, r.url), r.status, r.not_served, r.http_status, _rel(server, r.replaces), r.reason)
            for r in engine_run.results]
    assert rows == [
        ("/s404-empty", "failed", "http-status", 404, None, "search"),
        ("/alt1.html", "ok", None, None, "/s404-empty", "search"),  # /s404-html is sampled itself: skipped
        ("/s404-html", "failed", "http-status", 404, None, "search"),
        ("/s500", "failed", "http-status", 500, None, "search"),
        ("/s500-again", "failed", "http-status", 500, "/s500", "search"),  # the replacement fails too: next
        ("/alt2.html", "ok", None, None, "/s500", "search"),
        ("/s-pdf", "failed", "not-html", 200, None, "search"),
        ("/s-reset", "failed", "network-error", None, None, "search"),
        ("/alt3.html", "ok", None, None, "/s-reset", "search"),
        ("/s-download", "failed", "download", None, None, "random"),
        ("/alt4.html", "ok", None, None, "/s-download", "random"),
    ]
    assert engine_run.status == "ok"
    assert engine_run.detail == "7 page(s) not served by the site as HTML (not tested)"
    assert engine_run.browser_starts == 1  # a refused page neither retries nor restarts the browser
    assert engine_run.hits.count(("GET", "/s404-empty")) == 1  # loaded once: refused without a retry


@needs_browser
def test_no_axe_result_comes_from_a_page_the_site_did_not_serve(engine_run) -> None:
    for r in engine_run.results:
        if r.status != "ok":
            assert (r.violations, r.incomplete, r.passes, r.inapplicable, r.axe_version) == ([], [], [], [], None)
            assert r.error.startswith("not served: ")
    tested = [r for r in engine_run.results if r.status == "ok"]
    assert len(tested) == 4 and all(r.axe_version == "4.10.2" for r in tested)
    assert not [v for r in tested for v in r.violations]  # the replacement pages are clean: nothing leaked


# ------------------------------------------------------------------------------------------------
# the search probe's answer decides the search sample before any browser loads it


def _facts(search: dict | None) -> SiteFacts:
    base = "https://www.example.gov.tw"
    home = ('<a href="/d.html">主動公開資訊</a>'
            '<form role="search" action="/search"><input name="q" type="text"></form>'
            '<form role="search" action="/find"><input name="kw" type="search"></form>')
    facts = SiteFacts(agency=Agency(name="測試機關", url=base + "/"))
    for depth, (path, body) in enumerate({"/": home, "/d.html": "<h1>主動公開資訊</h1>"}.items()):
        parsed = extract_page(_page("機關網站", body), base + path)
        parsed.facts.status, parsed.facts.content_type, parsed.facts.depth = 200, "text/html", depth
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    if search is not None:
        facts.artifacts.search = search
    return facts


@pytest.mark.parametrize(("probe", "code", "status", "words"), [
    ({"status": 404, "error": None}, "search-failed", 404, "HTTP 404"),
    ({"status": 500, "error": None}, "search-failed", 500, "HTTP 500"),
    ({"status": None, "error": "request: ConnectionError"}, "search-failed", None, "request: ConnectionError"),
    ({"status": 200, "error": "content-type: application/pdf"}, "search-failed", 200, "HTTP 200"),
    ({"status": None, "error": "out-of-scope"}, "out-of-scope", None, "another site"),
    ({"status": "failed", "error": "boom"}, "search-failed", None, "boom"),
])
def test_failed_site_search_is_recorded_and_the_next_search_candidate_taken(probe, code, status, words) -> None:
    facts = _facts({"action": "https://www.example.gov.tw/search", **probe})
    plan = plan_sample(facts, A11yOptions())
    search = [e for e in plan.entries if e[1] == "search"]
    assert [urlpart.split("?")[0] for urlpart, *_ in search] == ["https://www.example.gov.tw/find"]
    [known] = plan.known[search[0][0]]
    assert (known.status, known.not_served, known.http_status, known.reason) == ("failed", code, status, "search")
    assert known.url.startswith("https://www.example.gov.tw/search?q=") and words in known.error
    assert plan.alternates[search[0][0]] == []


def test_working_or_unprobed_search_is_sampled_as_before() -> None:
    for probe in (None, {"action": "https://www.example.gov.tw/search", "status": 200, "error": None},
                  {"action": "https://www.example.gov.tw/other", "status": 404, "error": None}):
        plan = plan_sample(_facts(probe), A11yOptions())
        assert [e[0].split("?")[0] for e in plan.entries if e[1] == "search"] == ["https://www.example.gov.tw/search"]
        assert plan.known == {}
    assert search_probe_failure(_facts(None), "https://www.example.gov.tw/search?q=x") is None


# ------------------------------------------------------------------------------------------------
# end to end: an audit of a site whose search answers 404 (the issue's case)


def _audit_site(site: Site) -> None:
    nav = "".join(f'<a href="/d{i}.html">主動公開資訊{i}</a>' for i in range(1, 5))
    home = (nav + '<a href="/contact.html">聯絡我們</a><img src="/logo.png">'
            '<form role="search" action="/search"><label>搜尋<input name="q" type="text"></label></form>'
            '<form role="search" action="/find"><label>查詢<input name="kw" type="search"></label></form>'
            "<p>政府資訊公開 法規 預算 決算 政府資訊公開 法規</p>")
    site.html("/", _page("測試機關", home))
    for i in range(1, 5):
        body = f"<h2>主動公開資訊 第{i}類</h2><p>政府資訊公開 法規</p>"
        page = _page(f"主動公開資訊{i}", body)
        if i == 1:
            site.routes["/d1.html"] = _reset_for_browser(page)  # served to the crawler, reset for Chromium
        else:
            site.html(f"/d{i}.html", page)
    site.html("/contact.html", _page("聯絡我們"))
    site.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n")
    site.routes["/search"] = (404, {"Content-Type": "text/html"}, b"")  # the issue: 404, empty body
    site.html("/find", _page("查詢結果", "<p>政府資訊公開 共 0 筆</p>"))


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("Chromium/chromedriver not installed in /usr/bin")
    from crawler.store import Store
    from disclosure_audit.options import AuditOptions
    from disclosure_audit.pipeline import audit_site

    site = Site().start()
    _audit_site(site)
    out = tmp_path_factory.mktemp("a11y-error-audit")
    try:
        results = audit_site(AuditOptions(url=site.url + "/", out_dir=out, today=date(2026, 12, 1), quiet=True,
                                          a11y={"page_timeout_s": 10, "extra_args": [LOOPBACK_ONLY],
                                                                "sample_size": 1}))
        store = Store(f"sqlite:///{out / 'audit.sqlite'}")
        facts = store.load_site_facts(1)
        store.close()
        yield {"site": site, "entry": results["sites"][0], "facts": facts, "out": out}
    finally:
        site.stop()


@needs_browser
def test_audit_records_the_failed_search_and_tests_the_next(audit) -> None:
    site, a11y = audit["site"], audit["entry"]["accessibility"]
    assert audit["facts"].artifacts.search["status"] == 404
    rows = {(_rel(site, s["url"]).split("?")[0], s["reason"], s["status"], s.get("not_served"), s.get("http_status"),
             _rel(site, s.get("replaces"))) for s in a11y["sample"]}
    assert ("/search", "search", "failed", "search-failed", 404, None) in rows
    assert ("/find", "search", "ok", None, None, None) in rows  # the second search form's results page
    # d1 is served to the crawler, but Chromium's load of it is reset: the 4th disclosure page stands in
    assert ("/d1.html", "disclosure", "failed", "network-error", None, None) in rows
    assert ("/d4.html", "disclosure", "ok", None, None, "/d1.html") in rows
    assert a11y["status"] == "ok" and a11y["pages_tested"] == 6  # home, d2, d3, d4, /find, contact
    assert {_rel(site, p["url"]).split("?")[0] for p in a11y["pages_failed"]} == {"/search", "/d1.html"}
    assert "not served by the site as HTML" in a11y["detail"]
    # the browser never loaded the search the probe saw fail
    assert not [h for h in site.hits if h[1].startswith("/search?q=%E6%94%BF")]
    json.dumps(audit["entry"]["accessibility"])  # the additions are plain JSON


@needs_browser
def test_no_accessibility_finding_about_pages_the_site_did_not_serve(audit) -> None:
    site = audit["site"]
    findings = [f for f in audit["entry"]["findings"] if f["check"] == "accessibility"]
    assert {f["rule"] for f in findings if f["rule"] == "image-alt"} == {"image-alt"}  # a real one is found
    assert not [f for f in findings if f["rule"] == "meta-viewport"]
    pages = {_rel(site, f["page"]).split("?")[0] for f in findings}
    assert not pages & {"/search", "/d1.html"}


def _score(facts: SiteFacts, results: list[A11yPageResult]) -> tuple[list, dict]:
    from checks.audit import iter_findings
    from checks.base import AuditContext
    from checks.results import site_entry
    from checks.scoring import load_rubric, score_site

    facts.a11y = results
    ctx = AuditContext(today=date(2026, 12, 1), lang="zh-TW")
    findings = list(iter_findings(facts, ctx))
    entry = site_entry(facts, findings, ctx, status="ok", detail=None, duration_s=0.0)
    scores = score_site(entry, load_rubric(None))
    a11y = sorted((f.rule, f.page, f.severity) for f in findings if f.check == "accessibility")
    return a11y, {"dimension": scores["dimension"], "indicators": scores["indicators"]}


@needs_browser
def test_score_is_unchanged_by_the_pages_not_served(audit) -> None:
    facts = audit["facts"]
    every = list(facts.a11y)
    with_failed = _score(facts, every)
    without = _score(facts, [r for r in every if not r.not_served])
    assert with_failed == without
    assert with_failed[1]["dimension"] == audit["entry"]["scores"]["dimension"]  # the recomputation is faithful
    assert len(every) - len([r for r in every if not r.not_served]) == 2
