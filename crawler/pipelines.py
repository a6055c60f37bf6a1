"""Item pipeline: write the spider's facts to the run store in batches. Nothing judges here.

Batches without newly parsed pages (on a recrawl: the pages answered 304, copied inside the
database, and the link results) are written on one background thread, in the order they were made,
so the crawl keeps downloading while the database works: on the second audit of an unchanged
10,000-page site those copies were a sixth of the crawl's time, mostly spent in SQLite outside the
GIL (issue 6). A batch with new pages is written in the crawl's own thread after the queued ones:
serialising pages is Python work that would only contend for the GIL. At most MAX_PENDING batches
wait for the writer; when the database falls behind, the crawl waits for it, so memory stays
bounded. A failed write is raised in the crawl's thread at the next item (Scrapy logs it) and at
close, never swallowed. Distributed workers acknowledge a request only after the batch holding its
outputs is written (crawler.items.Acknowledge).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals

from crawler.items import (
    Acknowledge,
    LinkResultItem,
    PageItem,
    SkippedItem,
    UnchangedPageItem,
    UnchangedPagesItem,
)
from crawler.store import Store

BATCH = 200
MAX_PENDING = 6


@dataclass
class _Batch:
    """Items buffered since the last flush, in the order the store writes them."""

    pages: list = field(default_factory=list)
    unchanged: dict[int, dict[str, int]] = field(default_factory=dict)  # previous site id -> {url: depth}
    results: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    acks: list[str] = field(default_factory=list)  # requests to acknowledge once their outputs are written
    size: int = 0


class StorePipeline:
    """Buffers items and writes them to the store; the spider carries `db_url` and `site_id`."""

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.store = Store(spider.db_url)
        self.site_id = spider.site_id
        self.batch_size = int(getattr(spider, "store_batch", BATCH))
        self.buffer = _Batch()
        self.spider = spider
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="da-store-writer")
        self.pending: deque[Future] = deque()

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls()
        pipeline.crawler = crawler
        # a spider kept open while idle (a distributed worker) must not sit on unwritten items
        crawler.signals.connect(pipeline.flush_and_wait, signal=signals.spider_idle)
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        buffer = self.buffer
        if isinstance(item, PageItem):
            buffer.pages.append((item.facts, item.links))
            if item.result is not None:
                buffer.results.append(item.result)
                buffer.size += 1
        elif isinstance(item, UnchangedPageItem | UnchangedPagesItem):
            for page in item.pages if isinstance(item, UnchangedPagesItem) else (item,):
                self._add_unchanged(page)
            buffer.size -= 1  # (counted per page, with its result)
        elif isinstance(item, LinkResultItem):
            buffer.results.append(item.result)
        elif isinstance(item, SkippedItem):
            buffer.skipped.append((item.url, item.reason))
        elif isinstance(item, Acknowledge):
            buffer.acks.append(item.key)
        else:
            return item
        buffer.size += 1
        if buffer.size >= self.batch_size:
            self.flush()
        else:
            self._reap()
        return item

    def _add_unchanged(self, item: UnchangedPageItem) -> None:
        buffer = self.buffer
        buffer.unchanged.setdefault(item.previous_site, {})[item.url] = item.depth
        buffer.size += 1
        if item.result is not None:
            buffer.results.append(item.result)
            buffer.size += 1

    def _take_from_spider(self) -> None:
        """The unchanged pages the spider still holds in an unfinished group (AgencySpider.take_unchanged)."""
        take = getattr(self.spider, "take_unchanged", None)
        for page in take() if take else ():
            self._add_unchanged(page)

    def flush(self) -> None:
        """Write the buffered items: on the writer thread (waiting only when MAX_PENDING batches are
        queued), or here when the batch holds newly parsed pages.

        Serialising new pages and their links is Python work: on a second thread it would hold the
        GIL against the crawl (measured: 20 s more CPU on a 10,000-page first audit). Copies of
        unchanged pages and result upserts are mostly the database's own work, which overlaps with
        the crawl. Queued batches are written first, so the order of writes is kept."""
        batch, self.buffer = self.buffer, _Batch()
        if batch.pages:
            try:
                self._drain()
            finally:  # an earlier batch's failure is raised, this batch is written all the same
                self._write(batch)
            return
        if batch.size:
            self.pending.append(self.writer.submit(self._write, batch))
        while len(self.pending) > MAX_PENDING:
            self.pending.popleft().result()
        self._reap()

    def flush_and_wait(self) -> None:
        """Write everything buffered and wait for it (the spider is idle: nothing to overlap with)."""
        self._take_from_spider()
        self.flush()
        self._drain()

    def _reap(self) -> None:
        """Forget finished writes; a failed one is raised here, in the crawl's thread."""
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()

    def _drain(self) -> None:
        """Wait for every queued write; the first failure is raised once all have ended."""
        error: BaseException | None = None
        while self.pending:
            try:
                self.pending.popleft().result()
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the later batches
                error = error or exc
        if error is not None:
            raise error

    def _write(self, batch: _Batch) -> None:
        """One batch, in the order the store expects (pages first); on the writer thread or, for a
        batch of new pages, on the crawl's."""
        if batch.pages:
            self.store.add_pages(self.site_id, batch.pages)
        for previous, depths in batch.unchanged.items():
            self.store.copy_unchanged_pages(self.site_id, previous, depths)
        if batch.results:
            self.store.add_link_results(self.site_id, batch.results)
        if batch.skipped:
            self.store.add_skipped(self.site_id, batch.skipped)
        if batch.acks:
            self.spider.acknowledge(batch.acks)

    def close_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        try:
            self._take_from_spider()
            self.flush()
            self._drain()
        finally:
            self.writer.shutdown(wait=True)
            try:
                self._record_footprint(spider)
            finally:
                self.store.close()

    def _record_footprint(self, spider: Any) -> None:
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
