"""Conditional requests (RFC 9110 §13.1) for a recrawl: ask with ETag / If-Modified-Since.

A page request the previous audit of the site has validators for gets If-None-Match /
If-Modified-Since (crawler.revalidate.conditional_headers), is marked `da_conditional`, and is
announced to the spider's `previous` (crawler.incremental.PreviousCrawl) so that a 304 answer finds the
stored facts it reuses. Redirect hops (`da_chain`) and non-page requests are left alone.

Reads no setting: it acts only when the spider carries a previous audit (`spider.previous`).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request

from crawler.incremental import PreviousCrawl


class ConditionalRequestsMiddleware:
    """Adds If-None-Match / If-Modified-Since to page requests the previous run has validators for."""

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = spider or getattr(self, "spider", None)
        previous: PreviousCrawl | None = getattr(spider, "previous", None)
        if previous is None or request.meta.get("da_mode") != "page" or request.meta.get("da_chain"):
            return None
        # the page is stored under the URL the spider asked for (da_target), which Scrapy percent-encodes
        # in request.url: a page at /公告/最新消息.html must find its validators too
        url = request.meta.get("da_target") or request.url
        headers = previous.conditional_headers(url)
        if headers:
            for key, value in headers.items():
                request.headers.setdefault(key, value)
            request.meta["da_conditional"] = True
            previous.asked_for(url)
        return None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestsMiddleware:
        mw = cls()
        mw.crawler = crawler
        return mw

    @property
    def spider(self) -> Any:
        return self.crawler.spider
