"""Downloader middlewares: Retry-After (RFC 9110 §10.2.3) and the private-address guard.

RetryAfterMiddleware: a server that asks us to come back later (429/503) is waited for (bounded), then
asked again; what persists is left for the links check to call `unverified-link` (rate-limited), never
`broken-link`: a site must not lose points for our own access trouble (issue 2). The number of waits
and the header are recorded in request meta.

PrivateAddressMiddleware (issue 7, safety): a public site must not make the crawler probe the
evaluator's intranet. Every request's host is resolved (IP literal, or the DNS answer from Scrapy's own
caching resolver, so no extra lookup) before anything is sent; a loopback, private, link-local or
reserved address is refused with `private-address` unless the audited site itself lives on that kind of
network (the demo on 127.0.0.1 may check 127.0.0.2) or ALLOW_PRIVATE_ADDRESSES is set. The spider
refuses IP literals before it even schedules a request; this middleware also catches host names and
the redirects that point at such addresses.

Crawl-wide components live here too (issue 6, the cost of a crawl). GarbageCollectorTuning
(extension): what was alive when the spider opened is frozen out of the garbage collector's passes
(GC_FREEZE); a larger collection threshold is possible (GC_GEN0_THRESHOLD) but costs memory.
QuietLogFormatter: Scrapy builds a "Crawled (200) <GET …>" record for every
response and a "Scraped from …" one for every item even when the log level (WARNING here) throws them
away; they are built only when LOG_LEVEL is DEBUG.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.logformatter import LogFormatter
from scrapy.utils.httpobj import urlparse_cached

ADDRESS_KINDS = ("loopback", "private", "link-local", "reserved")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # asked for every request's host; hosts repeat
def literal_ip(host: str | None) -> str | None:
    """The IP address a host name denotes by itself, or None for a name that needs DNS.

    Besides dotted quads and IPv6 literals, the resolver also accepts the old inet_aton forms
    (`0x7f.1`, `2130706433`, `012.0.0.1`): they are normalised here so none slips past the guard."""
    if not host:
        return None
    h = host.strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(h):
        try:
            return socket.inet_ntoa(socket.inet_aton(h))
        except OSError:
            return None
    return None


def address_kind(ip: str) -> str:
    """public, loopback, private, link-local or reserved (unspecified, multicast, other non-global)."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"  # 169.254.169.254 is where cloud metadata services live
    if addr.is_unspecified or addr.is_multicast or addr.is_reserved:
        return "reserved"
    if addr.is_private or not addr.is_global:
        return "private"
    return "public"


class AddressPolicy:
    """Which non-public address kinds may be contacted: those the audited site lives on, or all.

    The site's own hosts (the crawl's scope) are always allowed: they are what the user asked for."""

    def __init__(self, allowed: Iterable[str] = (), allow_all: bool = False,
                 own_hosts: Iterable[str] = ()) -> None:
        self.allowed = set(allowed) - {"public"}
        self.allow_all = allow_all
        self.own_hosts = {h.lower().rstrip(".") for h in own_hosts if h}

    @classmethod
    def for_site(cls, hosts: Iterable[str], allow_all: bool = False,
                 kinds: Iterable[str] | None = None) -> AddressPolicy:
        """Allow the kinds of address the site's own hosts resolve to (blocking lookup, once), or
        exactly `kinds` when given (setting PRIVATE_ADDRESS_KINDS)."""
        hosts = [h for h in hosts if h]
        if kinds is None:
            kinds = {address_kind(ip) for host in hosts for ip in resolve_all(host)}
        return cls(kinds, allow_all, hosts)

    def refusal(self, host: str, ip: str) -> str | None:
        """A one-line reason when `host` (at `ip`) must not be contacted, else None."""
        if self.allow_all or host.lower().rstrip(".") in self.own_hosts:
            return None
        kind = address_kind(ip)
        if kind == "public" or kind in self.allowed:
            return None
        shown = host if host == ip else f"{host} → {ip}"
        return (f"private-address: {shown} is a {kind} address; not requested because the audited site "
                f"does not live on such a network (ALLOW_PRIVATE_ADDRESSES / --allow-private to permit)")

    def literal_refusal(self, host: str | None) -> str | None:
        ip = literal_ip(host)
        return self.refusal(host or "", ip) if ip else None


def resolve_all(host: str) -> list[str]:
    """Every address `host` resolves to (literal or DNS); [] when it does not resolve."""
    ip = literal_ip(host)
    if ip:
        return [ip]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


class BoundedRobotsMiddleware:
    """robots.txt is a courtesy lookup: fetched once, never retried, so a host that hangs costs one
    download timeout there instead of two before its links are even asked for."""

    async def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            request.meta.setdefault("max_retry_times", 0)
        return None


class PrivateAddressMiddleware:
    """Refuse requests whose host resolves to an address kind the spider's policy does not allow."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        policy: AddressPolicy | None = getattr(self.crawler.spider, "address_policy", None)
        if policy is None or policy.allow_all:
            return None
        host = urlparse_cached(request).hostname
        if not host or host.rstrip(".") in policy.own_hosts:
            return None
        ip = literal_ip(host)
        ips = [ip] if ip else await self._resolve(host)
        for address in ips:
            reason = policy.refusal(host, address)
            if reason:
                raise IgnoreRequest(reason)
        return None

    @staticmethod
    async def _resolve(host: str) -> list[str]:
        """Ask the reactor's resolver (Scrapy's caching one): the downloader reuses the answer."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor

        try:
            answer = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - an unresolvable host fails in the downloader as `dns`
            return []
        return [answer] if answer else []


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Wait and retry 429/503 answers; 429 without Retry-After waits a short default once."""

    def __init__(self, max_delay: float, max_times: int, default_delay: float) -> None:
        self.max_delay = max_delay
        self.max_times = max_times
        self.default_delay = default_delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        s = crawler.settings
        return cls(
            s.getfloat("RETRY_AFTER_MAX_DELAY", 30.0),
            s.getint("RETRY_AFTER_MAX_TIMES", 2),
            s.getfloat("RETRY_AFTER_DEFAULT_DELAY", 1.0),
        )

    async def process_response(self, request: Request, response: Response, spider=None):  # noqa: ANN001
        if response.status not in (429, 503):
            return response
        header = response.headers.get(b"Retry-After")
        delay = retry_after_seconds(header)
        if delay is None:
            if response.status == 503:
                return response  # a plain 503 is a server error, judged as such
            delay = self.default_delay
        tries = request.meta.get("retry_after_times", 0)
        if header:
            request.meta["retry_after_header"] = header.decode("latin-1")[:100]
        if tries >= self.max_times or delay > self.max_delay:
            return response
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries + 1
        retry.meta["retry_after_header"] = header.decode("latin-1") if header else None
        return retry


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


class GarbageCollectorTuning:
    """Python's cyclic garbage collector while the spider is open, restored when it closes.

    Objects alive when the spider opens (modules, settings, the previous audit's validators) are frozen
    out of the collector's passes (GC_FREEZE): every full pass walked them again, ~1.5 s of CPU on an
    unchanged 10,000-page recrawl, and memory did not grow. A larger first-generation threshold
    (GC_GEN0_THRESHOLD, off by default) collects less often but raised the first audit's peak memory
    from 142 MB to 214-440 MB."""

    def __init__(self, freeze: bool, threshold: int) -> None:
        self.freeze = freeze
        self.threshold = threshold
        self.saved: tuple[int, int, int] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GarbageCollectorTuning:
        freeze = crawler.settings.getbool("GC_FREEZE", False)
        threshold = crawler.settings.getint("GC_GEN0_THRESHOLD", 0)
        if not freeze and threshold <= 0:
            raise NotConfigured("GC_FREEZE is off and GC_GEN0_THRESHOLD is 0: the collector is left alone")
        extension = cls(freeze, threshold)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.saved = gc.get_threshold()
        if self.threshold > 0:
            gc.set_threshold(max(self.threshold, self.saved[0]), *self.saved[1:])
        if self.freeze:
            gc.freeze()

    def spider_closed(self) -> None:
        if self.saved is not None:
            if self.freeze:
                gc.unfreeze()
            gc.set_threshold(*self.saved)
            self.saved = None
