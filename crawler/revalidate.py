"""Ask a recrawl's known pages whether they changed, in one pass of conditional requests, before the crawl.

Why: on an unchanged site a recrawl is one conditional request per page, each answered 304 Not Modified
(RFC 9110 §13.1, §15.4.5). Through Scrapy each costs ~1.6 ms of CPU in the downloader, its middlewares
and Twisted's HTTP client: 16 of a 10,000-page recrawl's 22 s (issue 6). aiohttp, with its C HTTP parser
and keep-alive connections, asks the same 10,000 questions in ~1.3 s on loopback. The spider then takes
a page answered 304 here as if Scrapy had got the 304 (crawler.spiders.agency: stored facts reused,
every link still verified) and sends Scrapy only what is left.

As polite as the crawl itself, by the crawl's own rules (crawler.politeness): the crawl's User-Agent and
request headers (so a server that varies its ETag by Accept-Encoding answers alike), robots.txt as the
crawl's RobotsTxtMiddleware reads and decides it (one fetch, Scrapy's parser), at most the crawl's
per-host concurrency in connections, DOWNLOAD_DELAY between requests to a host, no cookies, no redirect
followed, no body read. Only a 304 counts as an answer. Every other answer (a changed page, a redirect,
an error, a timeout) leaves that page to Scrapy's crawl, which asks again as usual, and the pass stops
at once on 429 or 503 (Scrapy's crawl then honours Retry-After), after a run of failures, when most of
its first answers are not 304 (the site changed: a changed site costs a few dozen extra requests, not one
per page) or when its time is up. A proxy configured in the environment (which Scrapy would use) leaves
everything to Scrapy.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from w3lib.url import safe_url_string
from yarl import URL

from crawler.politeness import Politeness

logger = logging.getLogger(__name__)

SAMPLE = 64  # answers looked at before judging whether the site looks unchanged
MAX_FAILURES = 16  # failed requests (timeouts, resets) after which the pass gives up
# what a site or the network can do to one request: the page is then left to the crawl
_FAILURES = (aiohttp.ClientError, TimeoutError, OSError, ValueError, UnicodeError)


AS_VALIDATED: dict[str, str] = {}  # a 304 whose kept headers are just its validators (shared, never mutated)


def conditional_headers(etag: str | None, modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a page's stored validators (RFC 9110 §13.1); {} when it has none.
    The one place both the pass and Scrapy's requests (crawler.incremental) build them."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def validator_headers(etag: str | None, modified: str | None) -> dict[str, str]:
    """The kept headers of a 304 that repeats the page's validators, in the spider's KEPT_HEADERS order."""
    return {name: value for name, value in (("last-modified", modified), ("etag", etag)) if value}


@dataclass
class Revalidation:
    """What the pass learnt: the pages answered 304 (with the headers of their answer) and each host's
    request times (the crawl's footprint counts them)."""

    unchanged: dict[str, dict[str, str]] = field(default_factory=dict)  # AS_VALIDATED: see validator_headers
    requests: dict[str, list[float]] = field(default_factory=dict)  # host -> monotonic request times
    asked: int = 0
    stopped: str | None = None  # why the pass ended before asking every page

    def count(self, host: str) -> None:
        self.requests.setdefault(host, []).append(time.monotonic())


def proxied(urls: Iterable[str]) -> bool:
    """True when Scrapy's HttpProxyMiddleware would send some of `urls` through a proxy from the environment."""
    proxies = urllib.request.getproxies()
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
            return True
    return False


Robots = Callable[[list[str]], Awaitable[list[str]]]  # the URLs of a list robots.txt lets the crawl fetch


async def revalidate(validators: dict[str, tuple[str | None, str | None]], urls: list[str],
                     polite: Politeness, kept: Callable[[object], dict[str, str]],
                     robots: Robots | None = None) -> Revalidation:
    """Ask every URL of `urls` that `robots` allows (the crawl's rules: crawler.politeness.CrawlRobots;
    None when the crawl obeys no robots.txt) conditionally with its `validators` (ETag, Last-Modified);
    `kept` picks the headers of a 304 worth recording. Never raises for what a site does: the pass just
    ends early."""
    result = Revalidation()
    if not urls:
        return result
    if proxied(urls):
        result.stopped = "a proxy is configured: pages are left to the crawl"
        return result
    if robots is not None:
        urls = await robots(urls)
    connector = aiohttp.TCPConnector(limit=max(1, polite.total), limit_per_host=max(1, polite.per_host),
                                     ssl=False)  # Scrapy does not verify certificates either (crawler.tls reports them)
    timeout = aiohttp.ClientTimeout(total=polite.timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, skip_auto_headers=("User-Agent",)) as session:
        pass_ = _Pass(session, validators, polite, kept, result)
        try:
            await asyncio.wait_for(pass_.run(urls), polite.budget_s)
        except TimeoutError:
            result.stopped = f"out of time after {polite.budget_s:.0f} s"
    return result


class _Pass:
    def __init__(self, session: object, validators: dict[str, tuple[str | None, str | None]],
                 polite: Politeness, kept: Callable[[object], dict[str, str]], result: Revalidation) -> None:
        self.session = session
        self.validators = validators
        self.polite = polite
        self.kept = kept
        self.result = result
        self.answers = 0
        self.failures = 0
        self.next_at: dict[str, float] = {}  # host -> earliest monotonic time of its next request

    async def run(self, urls: list[str]) -> None:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)
        hosts = {urlsplit(u).netloc for u in urls}
        workers = min(len(urls), max(1, self.polite.total), max(1, self.polite.per_host) * max(1, len(hosts)))
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))

    async def _worker(self, queue: asyncio.Queue[str]) -> None:
        while not queue.empty() and self.result.stopped is None:
            await self._ask(queue.get_nowait())

    async def _ask(self, url: str) -> None:
        etag, modified = self.validators.get(url, (None, None))
        conditional = conditional_headers(etag, modified)
        if not conditional:
            return  # nothing to ask conditionally with: the crawl fetches it
        headers = {**self.polite.headers, **conditional}
        host = urlsplit(url).hostname or ""
        await self._wait_turn(host)
        self.result.asked += 1
        self.result.count(host)
        try:
            async with self.session.get(URL(safe_url_string(url), encoded=True), headers=headers,
                                        allow_redirects=False) as response:
                status = response.status
                if status == 304:
                    # one shared value for the usual 304 (only the validators again): at 100,000 pages a
                    # dict of headers per page would be tens of MB of the crawl's memory
                    kept = self.kept(response.headers)
                    same = kept == validator_headers(etag, modified)
                    self.result.unchanged[url] = AS_VALIDATED if same else kept
                elif status in (429, 503):
                    self.result.stopped = f"HTTP {status} from {host}: the crawl takes over and honours Retry-After"
        except _FAILURES:
            self.failures += 1
            if self.failures >= MAX_FAILURES:
                self.result.stopped = f"{self.failures} requests failed"
            return
        self.answers += 1
        if self.answers == SAMPLE and len(self.result.unchanged) < SAMPLE // 2:
            self.result.stopped = f"only {len(self.result.unchanged)} of the first {SAMPLE} pages answered 304"

    async def _wait_turn(self, host: str) -> None:
        """DOWNLOAD_DELAY between two requests to one host, as Scrapy's download slot spaces them."""
        delay = self.polite.delay_s
        if delay <= 0:
            return
        now = time.monotonic()
        at = max(now, self.next_at.get(host, now))
        self.next_at[host] = at + delay
        if at > now:
            await asyncio.sleep(at - now)
