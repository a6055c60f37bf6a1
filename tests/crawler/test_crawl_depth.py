"""A page's depth is its shortest click path from the home page even when downloads finish out of order.

With several requests in flight, a page found from a deep page may be downloading while its shallower
parent is still on its way; the page and everything found below it must still count from the shorter
path, on the first audit and on the recrawl that reuses it (304). And the way a page's link targets are
read (each string once, fragments sharing their base's parsing) survives a target that cannot be parsed."""

from __future__ import annotations

import hashlib
import time
from datetime import date

from servers import page

from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site


def slow(site, path: str, body: str, delay: float) -> None:
    """Serve `body` at `path` after `delay` seconds, with an ETag answered by 304 (also after `delay`)."""
    data = body.encode("utf-8")
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'

    def handler(h):
        time.sleep(delay)
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, {"ETag": etag})
        else:
            h.reply(200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag}, data)

    site.routes[path] = handler


def test_a_page_found_first_by_a_longer_path_keeps_its_shortest_depth(site, tmp_path):
    # home → /fast.html → /fast2.html → /target.html answers first (3 clicks), but the slow
    # /slow.html (1 click) also links /target.html, and its answer arrives while /target.html is
    # still downloading: /target.html is 2 clicks deep, and /child.html below it 3
    slow(site, "/", page("首頁", '<a href="/slow.html">慢</a><a href="/fast.html">快</a>'), 0)
    slow(site, "/fast.html", page("快", '<a href="/fast2.html">再快</a>'), 0)
    slow(site, "/fast2.html", page("再快", '<a href="/target.html">目標</a>'), 0)
    slow(site, "/slow.html", page("慢", '<a href="/target.html">目標</a>'), 0.6)
    slow(site, "/target.html", page("目標", '<a href="/child.html">下一層</a>'), 1.5)
    slow(site, "/child.html", page("下一層"), 0)
    expected = {"/": 0, "/slow.html": 1, "/fast.html": 1, "/fast2.html": 2, "/target.html": 2, "/child.html": 3}
    for run in (1, 2):  # the first audit, then the recrawl answered with 304s
        audit_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, today=date(2026, 11, 23),
                                accessibility=False, per_host_concurrency=4))
        store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        try:
            pages = store.load_site_facts(run).pages
        finally:
            store.close()
        assert {p.url.replace(site.url, ""): p.depth for p in pages} == expected
        assert all(p.artifacts.not_modified for p in pages) == (run == 2)


def test_a_malformed_link_with_a_fragment_does_not_stop_the_page_s_other_links(site, tmp_path):
    """`http://[bad#x` cannot be parsed: it is recorded as malformed, and the links after it are still
    followed (the page's remaining links were lost when parsing it raised)."""
    from checks.facts import Agency
    from disclosure_audit.crawl import crawl_site

    site.routes["/"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                        page("首頁", '<a href="http://[bad/x#frag">壞連結</a><a href="/next.html">下一頁</a>'))
    site.routes["/next.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page("下一頁"))
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    store = Store(db_url)
    site_id = store.create_site(store.create_run(date(2026, 11, 23), "test", {}), Agency("測試", site.url + "/"),
                                ["127.0.0.1"])
    store.close()
    crawl_site(AuditOptions(url=site.url + "/", out_dir=tmp_path, accessibility=False), db_url, site_id)
    store = Store(db_url)
    try:
        facts = store.load_site_facts(site_id)
    finally:
        store.close()
    assert ("GET", "/next.html") in site.hits
    assert sorted(p.url.replace(site.url, "") for p in facts.pages) == ["/", "/next.html"]
    bad = facts.link_results["http://[bad/x"]
    assert bad.error == "malformed" and "IPv6" in bad.error_detail
