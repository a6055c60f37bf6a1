"""Recrawl of an unchanged site, made cheaper (issue 6) without verifying less: the links of pages answered
304 are still all requested, and what is read of the previous audit for several pages at once is what
reading them one by one gives; a page at a non-ASCII path gets its conditional request too; a target
first checked with HEAD is read with GET once a later link needs its anchors; and what the store
pipeline writes on its background thread is all in the store when the crawl ends, a failed write being
raised, not lost."""

from __future__ import annotations

import hashlib
from datetime import date
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from servers import page

from checks.facts import LinkResult, PageFacts
from crawler.incremental import PreviousCrawl
from crawler.items import LinkResultItem, PageItem, SkippedItem
from crawler.pipelines import StorePipeline
from crawler.store import Store
from disclosure_audit.options import AuditOptions
from disclosure_audit.pipeline import audit_site

NEWS = "/公告/最新消息.html"


def conditional(site, path: str, body: str) -> None:
    """Serve `body` at `path` (percent-encoded as it arrives) with an ETag; answer If-None-Match with 304."""
    data = body.encode("utf-8")
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
    site.seen_conditional = getattr(site, "seen_conditional", [])

    def handler(h):
        if h.headers.get("If-None-Match") == etag:
            site.seen_conditional.append(path)
            h.reply(304, {"ETag": etag})
        else:
            h.reply(200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag}, data)

    site.routes[quote(path)] = handler


def build(site, ext) -> None:
    conditional(site, "/", page("首頁", f'<a href="/about.html">關於本局</a><a href="{NEWS}">最新消息</a>'
                                      f'<a href="{ext.url}/ok.html">外部網站</a><a href="/about.html#top">回頂端</a>'))
    # /about.html is one click deeper: its link needs the anchors of a target the home page only checked
    conditional(site, "/about.html", page("關於本局", f'<p id="top">本局</p><a href="{ext.url}/ok.html#nope">外部錨點</a>'
                                                    '<a href="/about.html#top">回頂端</a>'))
    # the only link to /only-here.html is on a page that answers 304 on the second audit
    conditional(site, NEWS, page("最新消息", '<a href="/only-here.html">舊公告</a><a href="/">首頁</a>'))
    ext.routes["/ok.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page("外部", '<p id="here">x</p>'))


def audit(site, out):
    return audit_site(AuditOptions(url=site.url + "/", out_dir=out, today=date(2026, 11, 23), accessibility=False))


def link_findings(results) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["target"].split("/", 3)[-1]) for f in results["sites"][0]["findings"]
                  if f["rule"] in ("broken-link", "missing-anchor"))


def test_recrawl_still_verifies_every_link_of_unchanged_pages(site, external_site, tmp_path):
    build(site, external_site)
    first = audit(site, tmp_path)
    expected = [("broken-link", "only-here.html"), ("missing-anchor", "ok.html#nope")]
    assert link_findings(first) == expected
    # HEAD (the home page links it plainly), and GET once /about.html needs its anchors
    assert sorted(m for m, p in external_site.hits if p == "/ok.html") == ["GET", "HEAD"]
    site.hits.clear()
    external_site.hits.clear()
    second = audit(site, tmp_path)
    # every page answered 304, the one at a non-ASCII path included
    assert sorted(site.seen_conditional) == sorted(["/", "/about.html", NEWS])
    assert ("GET", "/only-here.html") in site.hits  # linked only from a 304 page: still requested
    assert sorted(m for m, p in external_site.hits if p == "/ok.html") == ["GET", "HEAD"]
    assert link_findings(second) == expected
    store = Store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        pages = store.load_site_facts(2).pages
        assert sorted(p.url.rsplit("/", 1)[-1] for p in pages if p.artifacts.not_modified) == \
            ["", "about.html", "最新消息.html"]
        assert {p.url: p.depth for p in pages} == {p.url: p.depth for p in store.load_site_facts(1).pages}
    finally:
        store.close()


def test_pages_read_together_give_what_reading_them_one_by_one_gives(site, external_site, tmp_path):
    build(site, external_site)
    audit(site, tmp_path)
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    home, about, news = (site.url + p for p in ("/", "/about.html", NEWS))
    together, one_by_one = PreviousCrawl(db_url, 1), PreviousCrawl(db_url, 1)
    try:
        assert sorted(together.validators) == sorted([home, about, news])
        for url in (home, about, news, site.url + "/gone-since.html"):
            together.asked_for(url)  # their conditional requests left together
        expected_home = ("text/html; charset=utf-8", [], "首頁", [
            site.url + "/about.html", news, external_site.url + "/ok.html", site.url + "/about.html#top"])
        assert together.unchanged(home) == one_by_one.unchanged(home) == expected_home
        assert sorted(together.ahead) == sorted([about, news])  # read with the home page, not stored: none
        assert together.unchanged(news) == one_by_one.unchanged(news) == (
            "text/html; charset=utf-8", [], "最新消息", [site.url + "/only-here.html", home])
        together.forget(about)  # answered 200 after all: nothing kept for it
        assert together.ahead == {} and not together.asked
        assert together.unchanged(about) == one_by_one.unchanged(about)
        assert together.unchanged(about)[1:] == (["top"], "關於本局", [
            external_site.url + "/ok.html#nope", site.url + "/about.html#top"])
        assert together.unchanged(site.url + "/never-crawled.html") is None
    finally:
        together.close()
        one_by_one.close()


def test_store_pipeline_writes_everything_before_close_and_raises_a_failed_write(tmp_path):
    from checks.facts import Agency

    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(db_url)
    site_id = store.create_site(store.create_run(date(2026, 11, 23), "0", {}), Agency("測試", "http://a.test/"), [])
    store.close()
    spider = SimpleNamespace(db_url=db_url, site_id=site_id, store_batch=3, footprint={})
    pipeline = StorePipeline()
    pipeline.crawler = SimpleNamespace(spider=spider, stats=None)
    pipeline.open_spider(spider)
    for n in range(40):  # 14 batches of 3: more than the writer may queue, so the crawl waits for it
        url = f"http://a.test/p{n}.html"
        pipeline.process_item(PageItem(PageFacts(url=url, title=f"第{n}頁"), [], LinkResult(url=url, status=200)))
        pipeline.process_item(SkippedItem(f"http://a.test/x{n}.pdf", "robots"))
    pipeline.close_spider(spider)
    store = Store(db_url)
    counts = store.counts(site_id)
    assert (counts["pages"], counts["link_results"], counts["skipped"]) == (40, 40, 40)
    assert store.site(site_id).extra == {"finish_reason": None}
    store.close()

    pipeline = StorePipeline()
    pipeline.crawler = SimpleNamespace(spider=spider, stats=None)
    pipeline.open_spider(spider)
    pipeline.process_item(LinkResultItem(LinkResult(url=None)))  # cannot be keyed: its write fails
    with pytest.raises(AttributeError):
        pipeline.close_spider(spider)
