"""What the crawl's settings ask of every request, in one place for Scrapy's crawl and the recrawl's pass.

The recrawl's revalidation pass (crawler.revalidate) asks pages outside Scrapy's downloader for speed;
it must not be a second, looser crawler. So it takes its rules from here, and here they are the crawl's:
- `Politeness.from_settings`: the request headers Scrapy sends (USER_AGENT, DEFAULT_REQUEST_HEADERS, the
  Accept-Encoding of Scrapy's HttpCompressionMiddleware), the per-host and total caps
  (CONCURRENT_REQUESTS_PER_DOMAIN, CONCURRENT_REQUESTS), DOWNLOAD_DELAY, DOWNLOAD_TIMEOUT, and a time
  budget of a quarter of CLOSESPIDER_TIMEOUT;
- `CrawlRobots`: robots.txt as the crawl's own RobotsTxtMiddleware reads it (ROBOTSTXT_OBEY,
  ROBOTSTXT_USER_AGENT, ROBOTSTXT_PARSER): fetched once through Scrapy's downloader, parsed by Scrapy's
  parser class, and the same parser then decides the crawl's own requests. Nothing about robots.txt is
  implemented twice: a robots.txt that fails, answers 5xx or cannot be parsed means for the pass exactly
  what it means for the crawl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.settings import BaseSettings


@dataclass
class Politeness:
    """What the crawl's Scrapy settings ask of every request, applied to the pass too."""

    headers: dict[str, str]  # User-Agent, Accept, Accept-Language, Accept-Encoding as Scrapy sends them
    per_host: int = 4
    total: int = 32
    delay_s: float = 0.0
    timeout_s: float = 20.0
    budget_s: float = 600.0  # the whole pass

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Politeness:
        headers = {k: v for k, v in settings.getdict("DEFAULT_REQUEST_HEADERS").items() if isinstance(v, str)}
        headers["User-Agent"] = settings.get("USER_AGENT")
        headers["Accept-Encoding"] = b", ".join(ACCEPTED_ENCODINGS).decode()
        return cls(headers=headers, per_host=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                   total=settings.getint("CONCURRENT_REQUESTS"), delay_s=settings.getfloat("DOWNLOAD_DELAY"),
                   timeout_s=settings.getfloat("DOWNLOAD_TIMEOUT"),
                   budget_s=max(10.0, settings.getfloat("CLOSESPIDER_TIMEOUT") / 4 or 600.0))


def robots_agent(settings: BaseSettings) -> str:
    """The user agent robots.txt is matched for, as RobotsTxtMiddleware chooses it for the spider's requests
    (they carry no User-Agent of their own when it runs: Scrapy's UserAgentMiddleware comes after it)."""
    return settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")


class CrawlRobots:
    """robots.txt through the crawl's own RobotsTxtMiddleware: its parser per host, fetched once for both."""

    def __init__(self, middleware: RobotsTxtMiddleware, agent: str) -> None:
        self.middleware = middleware
        self.agent = agent

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRobots | None:
        """The crawl's robots.txt rules, or None when the crawl obeys none (ROBOTSTXT_OBEY off)."""
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            return None
        for middleware in crawler.engine.downloader.middleware.middlewares:
            if isinstance(middleware, RobotsTxtMiddleware):
                return cls(middleware, robots_agent(crawler.settings))
        return None

    async def allowed(self, urls: list[str]) -> list[str]:
        """The URLs the crawl's robots.txt rules let it fetch, in their order."""
        by_host: dict[str, list[str]] = {}
        for url in urls:
            by_host.setdefault(urlsplit(url).netloc, []).append(url)
        allowed: set[str] = set()
        for members in by_host.values():
            parser = await self.middleware.robot_parser(Request(members[0]))
            allowed.update(u for u in members if parser is None or parser.allowed(u, self.agent))
        return [u for u in urls if u in allowed]
