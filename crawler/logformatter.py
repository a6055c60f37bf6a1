"""A quieter log formatter (issue 6, the cost of a crawl): no records built only to be dropped.

Scrapy builds a "Crawled (200) <GET …>" record for every response and a "Scraped from …" one for every
item even when the log level (WARNING here) throws them away; they are built only when LOG_LEVEL is
DEBUG.

Settings: LOG_FORMATTER names this class; LOG_LEVEL and LOG_ENABLED decide whether the DEBUG records
are built.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    """Scrapy's messages, minus the per-response and per-item DEBUG records when LOG_LEVEL is above DEBUG
    (Scrapy would build each record and then drop it at the handler)."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        enabled = crawler.settings.getbool("LOG_ENABLED", True)
        return cls(debug=enabled and (not isinstance(level, int) or level <= logging.DEBUG))

    def crawled(self, request, response, spider):  # noqa: ANN001, ANN201 - Scrapy's signature
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider):  # noqa: ANN001, ANN201 - Scrapy's signature
        return super().scraped(item, response, spider) if self.debug else None
