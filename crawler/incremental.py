"""Incremental recrawl: ask with ETag / If-Modified-Since, reuse what an unchanged page told us last time.

A second run over an unchanged site sends conditional requests (RFC 9110 §13.1); a page answered with
304 Not Modified is neither downloaded nor parsed again: its stored facts and links from the previous
run are copied into this run inside the database (INSERT … SELECT), and every link it carries is still
verified. Accessibility results are
reused by content hash (crawler.a11y reads `facts.extra["sha1"]`).
"""

from __future__ import annotations

import json
from typing import Any

from scrapy import Request
from sqlalchemy import select

from checks.facts import LinkRef, PageFacts
from crawler.store import PageRow, SiteRow, Store, url_hash


class PreviousCrawl:
    """Validators and facts of the previous audit of the same site, read from the run store."""

    def __init__(self, db_url: str, site_id: int) -> None:
        self.store = Store(db_url)
        self.site_id = site_id
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        with self.store.session() as s:
            for url, etag, modified in s.execute(
                    select(PageRow.url, PageRow.etag, PageRow.last_modified)
                    .where(PageRow.site_id == site_id, PageRow.status == 200)):
                if etag or modified:
                    self.validators[url] = (etag, modified)

    def conditional_headers(self, url: str) -> dict[str, str]:
        etag, modified = self.validators.get(url, (None, None))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def page(self, url: str) -> tuple[PageFacts, list[LinkRef]] | None:
        """What the spider needs of an unchanged page: its facts (without text) and its links.

        The page itself is not written again from here: the pipeline copies its stored row and links
        inside the database (`Store.copy_unchanged_pages`)."""
        row = self.store.raw_query("SELECT facts FROM pages WHERE site_id = ? AND url_hash = ?",
                                   (self.site_id, url_hash(url)), one=True)
        if row is None:
            return None
        data = json.loads(row[0]) if isinstance(row[0], str | bytes) else dict(row[0])
        data.pop("text", None)
        data["headings"] = [tuple(h) for h in data.get("headings", [])]
        facts = PageFacts(**data)
        links = [LinkRef(*r) for r in self.store.raw_query(
            "SELECT source, target, text, tag FROM links WHERE site_id = ? AND source = ? ORDER BY id",
            (self.site_id, url))]
        return facts, links

    def close(self) -> None:
        self.store.close()


def previous_site_id(store: Store, agency_url: str, exclude_site: int) -> int | None:
    """The latest finished (ok/partial) audit of the same start URL, for conditional requests."""
    with store.session() as s:
        return s.scalar(select(SiteRow.id).where(SiteRow.url == agency_url, SiteRow.id != exclude_site,
                                                 SiteRow.status.in_(("ok", "partial")))
                        .order_by(SiteRow.id.desc()).limit(1))


class ConditionalRequestsMiddleware:
    """Adds If-None-Match / If-Modified-Since to page requests the previous run has validators for."""

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = spider or getattr(self, "spider", None)
        previous: PreviousCrawl | None = getattr(spider, "previous", None)
        if previous is None or request.meta.get("da_mode") != "page" or request.meta.get("da_chain"):
            return None
        headers = previous.conditional_headers(request.url)
        if headers:
            for key, value in headers.items():
                request.headers.setdefault(key, value)
            request.meta["da_conditional"] = True
        return None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestsMiddleware:
        mw = cls()
        mw.crawler = crawler
        return mw

    @property
    def spider(self) -> Any:
        return self.crawler.spider
