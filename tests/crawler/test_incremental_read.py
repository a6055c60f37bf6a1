"""What the recrawl reads of the previous audit's unchanged pages (issue 6): each page's link targets come
back as one array built by the database, in link order even when the rows of several pages are
interleaved, equal to reading them one row per link; and SQLite reads them in index order without a
sort (which is what keeps the order)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert

import crawler.incremental as incremental
from checks.facts import Agency, PageFacts
from crawler.incremental import PreviousCrawl
from crawler.store import LinkRow, Store

A, B, C = "http://gov.test/a.html", "http://gov.test/b.html", "http://gov.test/c.html"
TARGETS = {
    A: ["http://gov.test/z.html", "http://gov.test/a.html#top", 'http://gov.test/q?x="1"&y=\\2',
        "http://gov.test/z.html", "http://gov.test/公告.html"],
    B: ["http://gov.test/m.html", "mailto:x@gov.test", "http://gov.test/b.html#\u00e9\nx"],
    C: [],
}


@pytest.fixture
def previous(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    store = Store(db_url)
    run = store.create_run(date(2026, 1, 5), "test", {})
    site_id = store.create_site(run, Agency(name="t", url="http://gov.test/"), ["gov.test"])
    store.add_pages(site_id, [PageFacts(url=u, status=200, content_type="text/html", title=u[-6:], etag='"e"')
                              for u in (A, B, C)])
    rows = []  # the pages' links interleaved in the table: a, b, a, b, …
    for i in range(max(map(len, TARGETS.values()))):
        rows += [{"site_id": site_id, "source": src, "target": t[i], "text": "", "tag": "a"}
                 for src, t in TARGETS.items() if i < len(t)]
    with store.session() as s, s.begin():
        s.execute(insert(LinkRow.__table__), rows)
    store.close()
    return db_url, site_id


def test_targets_come_back_in_link_order_as_row_per_link_reading_gives(previous, monkeypatch):
    db_url, site_id = previous
    crawl = PreviousCrawl(db_url, site_id)
    try:
        together = crawl._read([A, B, C, "http://gov.test/never.html"])
        monkeypatch.setattr(incremental, "_TARGETS_ARRAY", {})  # one row per link, ORDER BY source, id
        rows = crawl._read([A, B, C])
    finally:
        crawl.close()
    assert together == rows
    assert {url: entry[3] for url, entry in together.items()} == TARGETS
    assert together[A][:3] == ("text/html", [], "a.html")


def test_sqlite_reads_each_pages_links_through_the_index_without_sorting(previous):
    db_url, site_id = previous
    store = Store(db_url)
    try:
        plan = store.raw_query(f"EXPLAIN QUERY PLAN SELECT source, {incremental._TARGETS_ARRAY['sqlite']} "
                               "FROM links WHERE site_id = ? AND source IN (?, ?) GROUP BY source",
                               (site_id, A, B))
    finally:
        store.close()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "USING INDEX ix_links_site_source" in details and "TEMP B-TREE" not in details, details


def test_unchanged_pages_handed_over_in_groups_and_the_rest_at_idle_and_close(previous):
    from types import SimpleNamespace

    from checks.facts import LinkResult
    from crawler.items import UnchangedPageItem, UnchangedPagesItem
    from crawler.pipelines import StorePipeline
    from crawler.spiders.agency import AgencySpider

    db_url, old_site = previous
    store = Store(db_url)
    site_id = store.create_site(store.create_run(date(2026, 2, 5), "test", {}),
                                Agency(name="t", url="http://gov.test/"), ["gov.test"])
    store.close()
    spider = AgencySpider(url="http://gov.test/", db_url=db_url, site_id=site_id)
    spider.store_batch = 1000  # nothing written before the spider is idle or closes
    assert spider.unchanged_together > 1
    pipeline = StorePipeline()
    pipeline.crawler = SimpleNamespace(spider=spider, stats=None)
    pipeline.open_spider(spider)

    def page(url, depth):
        return UnchangedPageItem(url, depth, old_site, LinkResult(url=url, status=304))

    pipeline.process_item(UnchangedPagesItem([page(A, 1), page(B, 2)]))
    spider._unchanged.append(page(C, 3))  # an unfinished group, still held by the spider
    pipeline.flush_and_wait()  # spider_idle
    assert spider.take_unchanged() == []
    pipeline.close_spider(spider)
    store = Store(db_url)
    try:
        counts = store.counts(site_id)
        assert (counts["pages"], counts["links"], counts["link_results"]) == (3, 8, 3)
        depths = dict(store.raw_query("SELECT url, depth FROM pages WHERE site_id = ?", (site_id,)))
    finally:
        store.close()
    assert depths == {A: 1, B: 2, C: 3}


def test_a_spider_that_acknowledges_its_requests_hands_each_unchanged_page_over_at_once():
    from crawler.spiders.agency import AgencySpider

    class Acknowledging(AgencySpider):
        def acknowledge(self, keys):  # noqa: ANN001, ANN202
            pass

    assert Acknowledging(url="http://gov.test/").unchanged_together == 1


def test_one_unchanged_page_counts_twice_towards_a_batch_as_before(tmp_path):
    from types import SimpleNamespace

    from checks.facts import LinkResult
    from crawler.items import UnchangedPageItem, UnchangedPagesItem
    from crawler.pipelines import StorePipeline

    pipeline = StorePipeline()
    spider = SimpleNamespace(db_url=f"sqlite:///{tmp_path / 's.sqlite'}", site_id=1, store_batch=1000)
    pipeline.crawler = SimpleNamespace(spider=spider, stats=None)
    pipeline.open_spider(spider)
    try:
        pipeline.process_item(UnchangedPageItem(A, 1, 9, LinkResult(url=A, status=304)))
        assert pipeline.buffer.size == 2  # the page and its result
        pipeline.process_item(UnchangedPagesItem([UnchangedPageItem(B, 1, 9, LinkResult(url=B, status=304)),
                                                  UnchangedPageItem(C, 1, 9)]))
        assert pipeline.buffer.size == 5
    finally:
        pipeline.buffer = type(pipeline.buffer)()  # nothing to write: the previous site does not exist
        pipeline.writer.shutdown()
        pipeline.store.close()
