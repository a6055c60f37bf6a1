"""The recrawl's revalidation pass (crawler.revalidate, issue 6): the previous audit's pages are asked
conditionally in one fast pass before Scrapy's crawl, by the crawl's own rules (crawler.politeness:
robots.txt read once by the crawl's RobotsTxtMiddleware, its User-Agent, DOWNLOAD_DELAY, no proxy
bypassed), each page is asked once in the whole recrawl, the crawl's footprint counts every request, the
audit comes out as it does without the pass, and the pass gives up (leaving pages to Scrapy) on 429 and
on a changed site."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from datetime import date

from servers import page

from crawler import settings as crawl_settings
from crawler.politeness import Politeness
from crawler.revalidate import SAMPLE, revalidate
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

PAGES = [f"/p{i:02}.html" for i in range(12)]


def conditional(site, path: str, body: str) -> None:
    """Serve `body` with an ETag; answer a matching If-None-Match with 304; note who asked how."""
    data = body.encode("utf-8")
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'

    def handler(h):
        site.agents.add(h.headers.get("User-Agent"))
        if h.headers.get("If-None-Match") == etag:
            site.seen_conditional.append(path)
            h.reply(304, {"ETag": etag})
        else:
            h.reply(200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag}, data)

    site.routes[path] = handler


def build(site, robots: str) -> None:
    site.seen_conditional, site.agents = [], set()
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots)
    conditional(site, "/", page("首頁", "".join(f'<a href="{p}">第{i}頁</a>' for i, p in enumerate(PAGES))
                                + '<a href="/gone.html">舊網頁</a>'))
    for i, path in enumerate(PAGES):
        conditional(site, path, page(f"第{i}頁", '<p>更新日期：115-10-01</p><a href="/">首頁</a>'))


def audit(site, out, **settings):
    return audit_site(AuditOptions(url=site.url + "/", out_dir=out, today=date(2026, 11, 23),
                                   accessibility=False, settings=settings))


def findings(results) -> list[tuple[str, str]]:
    return sorted((f["rule"], f.get("target") or f.get("url") or "") for f in results["sites"][0]["findings"])


def test_recrawl_asks_each_page_once_obeys_robots_and_counts_every_request(site, tmp_path):
    build(site, "User-agent: *\nDisallow:\n")
    audit(site, tmp_path)
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /p07.html\n")
    site.hits.clear()
    site.seen_conditional.clear()
    second = audit(site, tmp_path)
    gets = Counter(path for method, path in site.hits if method == "GET")
    assert gets["/p07.html"] == 0  # disallowed now: neither the pass nor Scrapy asks it
    assert [gets[p] for p in PAGES if p != "/p07.html"] == [1] * 11 and gets["/"] == 1
    assert gets["/robots.txt"] == 1  # read once, by the crawl's robots middleware, for the pass and the crawl
    assert sorted(site.seen_conditional) == sorted(["/", *(p for p in PAGES if p != "/p07.html")])
    assert site.agents == {crawl_settings.USER_AGENT}
    entry = second["sites"][0]
    assert entry["coverage"]["skipped"] == {"robots": 1}
    # the pass's requests are in the crawl's footprint (the soft-404 probes, /da-…, are made after the crawl)
    crawl_hits = [hit for hit in site.hits if not hit[1].startswith("/da-")]
    assert len(crawl_hits) == 14 and entry["footprint"]["127.0.0.1"]["requests"] == 14


def test_recrawl_with_the_pass_audits_as_the_recrawl_without_it(site, tmp_path):
    build(site, "")
    first = audit(site, tmp_path)
    site.hits.clear()
    with_pass = audit(site, tmp_path)
    without = audit(site, tmp_path, DA_REVALIDATE_AHEAD=False)
    assert findings(with_pass) == findings(without) == findings(first)
    assert ("broken-link", site.url + "/gone.html") in findings(first)
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        def facts(site_id):
            f = store.load_site_facts(site_id)
            return (sorted((p.url, p.depth, p.title, bool(p.artifacts.not_modified)) for p in f.pages),
                    sorted((r.url, r.status, r.method, r.error, tuple(r.headers.items()))
                           for r in f.link_results.values()),
                    sorted((lk.source, lk.target) for lk in f.links))
        assert facts(2) == facts(3)
        pages, results, links = facts(2)
        assert len(pages) == 13 and all(not_modified for *_, not_modified in pages)
        assert (site.url + "/gone.html", 404, "GET", None) in [r[:4] for r in results] and len(links) == 13 + 12
    finally:
        store.close()


def _pass(site, paths, robots=None, **polite):
    validators = {site.url + p: ('"v"', None) for p in paths}
    options = {"per_host": 1, "total": 1, **polite}
    return asyncio.run(revalidate(validators, list(validators),
                                  Politeness(headers={"User-Agent": "t"}, **options), dict, robots))


def _answering(site, paths, status_of) -> None:
    site.times = []
    for path in paths:
        def handler(h, path=path):
            site.times.append(time.monotonic())
            status = status_of(path) if h.headers.get("If-None-Match") == '"v"' else 200
            h.reply(status, {"Retry-After": "1"} if status == 429 else {})
        site.routes[path] = handler


def test_pass_stops_at_a_429_and_leaves_the_rest_to_the_crawl(site):
    paths = [f"/q{i:02}.html" for i in range(40)]
    _answering(site, paths, lambda p: 429 if p == "/q05.html" else 304)
    result = _pass(site, paths)
    assert result.asked == 6 and sorted(result.unchanged) == [site.url + p for p in paths[:5]]
    assert "HTTP 429" in result.stopped
    assert [p for m, p in site.hits] == paths[:6]


def test_pass_over_a_changed_site_stops_after_its_sample(site):
    paths = [f"/c{i:03}.html" for i in range(SAMPLE * 2)]
    _answering(site, paths, lambda p: 200)
    result = _pass(site, paths)
    assert result.asked == SAMPLE and result.unchanged == {}
    assert result.stopped == f"only 0 of the first {SAMPLE} pages answered 304"


def test_pass_asks_only_what_the_crawls_robots_rules_allow(site):
    paths = ["/a.html", "/private/b.html", "/c.html"]
    _answering(site, paths, lambda p: 304)
    asked_robots = []

    async def robots(urls):
        asked_robots.append(list(urls))
        return [u for u in urls if "/private/" not in u]

    result = _pass(site, paths, robots=robots)
    assert asked_robots == [[site.url + p for p in paths]]
    assert sorted(result.unchanged) == [site.url + "/a.html", site.url + "/c.html"]
    assert sorted(p for m, p in site.hits) == ["/a.html", "/c.html"]


def test_recrawl_pass_reads_robots_txt_as_the_crawl_does_when_it_fails(site, tmp_path):
    """A robots.txt answered 500 means for the pass what it means for Scrapy's crawl (one parser decides)."""
    build(site, "")
    audit(site, tmp_path)
    site.routes["/robots.txt"] = (500, {}, "down")
    site.hits.clear()
    site.seen_conditional.clear()
    without = findings(audit(site, tmp_path, DA_REVALIDATE_AHEAD=False))
    asked_by_crawl = sorted(site.seen_conditional)
    site.hits.clear()
    site.seen_conditional.clear()
    assert findings(audit(site, tmp_path)) == without
    gets = Counter(path for method, path in site.hits if method == "GET")
    assert sorted(site.seen_conditional) == asked_by_crawl and gets["/robots.txt"] == 1
    assert all(gets[p] == 1 for p in PAGES)


def test_pass_sends_nothing_past_a_configured_proxy(site, monkeypatch):
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    _answering(site, ["/a.html"], lambda p: 304)
    result = _pass(site, ["/a.html"])
    assert result.unchanged == {} and "proxy" in result.stopped
    assert site.hits == []


def test_pass_spaces_requests_to_a_host_by_download_delay(site):
    paths = [f"/d{i}.html" for i in range(4)]
    _answering(site, paths, lambda p: 304)
    result = _pass(site, paths, per_host=4, total=4, delay_s=0.3)
    assert sorted(result.unchanged) == sorted(site.url + p for p in paths)
    gaps = [b - a for a, b in zip(site.times, site.times[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.28
