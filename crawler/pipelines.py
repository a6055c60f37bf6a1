"""Item pipeline: write the spider's facts to the run store in batches. Nothing judges here."""

from __future__ import annotations

from typing import Any

from crawler.items import Acknowledge, LinkResultItem, PageItem, SkippedItem, UnchangedPageItem
from crawler.store import Store

BATCH = 200


class StorePipeline:
    """Buffers items and writes them to the store; the spider carries `db_url` and `site_id`."""

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.store = Store(spider.db_url)
        self.site_id = spider.site_id
        self.pages: list = []
        self.batch = int(getattr(spider, "store_batch", BATCH))
        self.results: list = []
        self.skipped: list = []
        self.unchanged: dict[int, dict[str, int]] = {}  # previous site id -> {url: depth}
        self.acks: list[str] = []  # requests to acknowledge once their outputs are written
        self.spider = spider

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        from scrapy import signals

        pipeline = cls()
        pipeline.crawler = crawler
        # a spider kept open while idle (a distributed worker) must not sit on unwritten items
        crawler.signals.connect(pipeline.flush, signal=signals.spider_idle)
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageItem):
            self.pages.append((item.facts, item.links))
        elif isinstance(item, LinkResultItem):
            self.results.append(item.result)
        elif isinstance(item, SkippedItem):
            self.skipped.append((item.url, item.reason))
        elif isinstance(item, UnchangedPageItem):
            self.unchanged.setdefault(item.previous_site, {})[item.url] = item.depth
        elif isinstance(item, Acknowledge):
            self.acks.append(item.key)
        pending = (len(self.pages) + len(self.results) + len(self.skipped) + len(self.acks)
                   + sum(map(len, self.unchanged.values())))
        if pending >= self.batch:
            self.flush()
        return item

    def flush(self) -> None:
        if self.pages:
            self.store.add_pages(self.site_id, self.pages)
        for previous, depths in self.unchanged.items():
            self.store.copy_unchanged_pages(self.site_id, previous, depths)
        self.unchanged = {}
        if self.results:
            self.store.add_link_results(self.site_id, self.results)
        if self.skipped:
            self.store.add_skipped(self.site_id, self.skipped)
        self.pages, self.results, self.skipped = [], [], []
        if self.acks:
            self.spider.acknowledge(self.acks)
            self.acks = []

    def close_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.flush()
        site = self.store.site(self.site_id)
        extra = dict(site.extra or {}) if site else {}
        footprint = getattr(spider, "footprint", None)
        if footprint:
            extra["footprint"] = {host: {"requests": int(v["requests"]), "bytes": int(v["bytes"]),
                                         "peak_per_second": int(v.get("peak_per_second", 0)),
                                         "seconds": round(float(v.get("seconds", 0.0)), 3),
                                         "first_at": v.get("first_at")}
                                  for host, v in footprint.items()}
        reason = self.crawler.stats.get_value("finish_reason") if self.crawler.stats else None
        extra["finish_reason"] = reason
        self.store.update_site(self.site_id, extra=extra)
        self.store.close()
