"""`scrapy crawl agency -a url=… [-a out=DIR] [-a today=YYYY-MM-DD]` finishing an audit.

A Scrapy extension, enabled by the settings `scrapy.cfg` names (disclosure_audit.settings), so the
spider imports nothing above crawler/: when the agency spider was started without a run (no
`site_id`, as by the scrapy command), this gives it a run and a site in the run store and, when the
spider closes, runs the audit step on what it crawled and writes results.json and the reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from checks.facts import Agency
from crawler import __version__
from crawler.store import Store, default_db_url
from disclosure_audit.options import AuditOptions, prepare_out_dir
from disclosure_audit.pipeline import finalize_site
from disclosure_audit.writer import complete_run


class StandaloneAudit:
    """Give a spider started by the scrapy command its own run, and finish the audit when it closes."""

    def __init__(self, crawler: Any, spider: Any) -> None:
        self.out_dir = prepare_out_dir(Path(spider.standalone_out or "disclosure-audit-out"))
        self.today = (date.fromisoformat(spider.standalone_today) if spider.standalone_today
                      else datetime.now(UTC).date())
        self.opts = AuditOptions(url=spider.start_url, out_dir=self.out_dir, today=self.today,
                                 accessibility=False, max_pages=spider.max_pages, max_depth=spider.max_depth)
        spider.db_url = spider.db_url or default_db_url(self.out_dir)
        self.store = Store(spider.db_url)
        self.run_id = self.store.create_run(self.today, __version__,
                                            {"url": spider.start_url, "via": "scrapy crawl"})
        spider.site_id = self.store.create_site(
            self.run_id, Agency(name=urlsplit(spider.start_url).hostname or "", url=spider.start_url),
            sorted(spider.scope_hosts))
        self.started = datetime.now(UTC)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StandaloneAudit | None:
        spider = getattr(crawler, "spider", None)
        if spider is None or not hasattr(spider, "standalone_out") or spider.site_id is not None:
            raise NotConfigured("the spider already belongs to a run (disclosure_audit.pipeline)")
        return cls(crawler, spider)

    def spider_closed(self, spider: Any, reason: str) -> None:
        duration = (datetime.now(UTC) - self.started).total_seconds()
        entry = finalize_site(self.store, self.run_id, spider.site_id, self.opts, duration)
        complete_run(self.store, self.run_id, self.started, self.today, entry, self.out_dir, "zh-TW")
        self.store.close()
