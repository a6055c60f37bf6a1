"""The agency spider: crawl one site's in-scope HTML pages and request every link they carry.

Facts only: for each target URL it records what the server answered (status, redirect chain, method,
Retry-After waits, anchors of HTML targets); the links check judges them. Redirects are followed here
(not by Scrapy's middleware) so that every hop, loop and scheme change is recorded. HEAD is only an
optimisation: any answer that is not 2xx/3xx, and any refused HEAD, is confirmed with a bounded GET
(issue 2). Trap guards bound what is crawled: long URLs, repeated path segments, endless query variants.
"""

from __future__ import annotations

import posixpath
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest, StopDownload
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from checks.facts import LinkResult
from crawler.encoding import decode_html
from crawler.extract import extract_page
from crawler.items import LinkResultItem, PageItem, SkippedItem

NOT_FETCHED_SCHEMES = {"mailto", "tel", "javascript", "data", "sms", "fax", "callto", "skype", "about"}
DOCUMENT_EXTENSIONS = {
    ".pdf", ".doc", ".docx", ".odt", ".ods", ".odp", ".odg", ".xls", ".xlsx", ".ppt", ".pptx", ".rtf",
    ".csv", ".txt", ".xml", ".json", ".rss", ".zip", ".rar", ".7z", ".gz", ".tar", ".exe", ".msi",
    ".iso", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".bmp", ".ico", ".tif", ".tiff", ".mp3",
    ".mp4", ".avi", ".mov", ".wmv", ".flv", ".webm", ".wav", ".css", ".js", ".woff", ".woff2", ".ttf",
    ".eot", ".swf", ".kml", ".kmz", ".shp",
}
MAX_REDIRECTS = 10
PAGE_BODY_LIMIT = 5 * 1024 * 1024
ANCHOR_BODY_LIMIT = 2 * 1024 * 1024
CHECK_BODY_LIMIT = 64 * 1024
KEPT_HEADERS = ("content-type", "content-length", "last-modified", "etag", "retry-after", "location",
                "server", "www-authenticate")


def is_html(content_type: str | None, body_start: bytes = b"") -> bool:
    if content_type:
        ct = content_type.split(";")[0].strip().lower()
        return ct in ("text/html", "application/xhtml+xml")
    return body_start.lstrip()[:1] == b"<"


def url_extension(url: str) -> str:
    return posixpath.splitext(urlsplit(url).path.lower())[1]


def malformed_reason(url: str) -> str | None:
    """Why `url` cannot be requested at all, or None when it is a well-formed http(s) URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return None
    if not parts.hostname or parts.hostname.startswith(".") or ".." in parts.hostname:
        return "malformed URL: no valid host"
    if " " in parts.netloc:
        return "malformed URL: space in host"
    return None


class AgencySpider(Spider):
    """Crawl one agency site (scope: the start URL's host plus `hosts`) and check all its links."""

    name = "agency"

    def __init__(self, url: str | None = None, hosts: str | list[str] = "", max_pages: int | str = 2000,
                 max_depth: int | str = 10, db_url: str | None = None, site_id: int | str | None = None,
                 max_query_variants: int | str = 30, out: str | None = None, today: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not url:
            raise ValueError("give the site to crawl: scrapy crawl agency -a url=https://…")
        self.start_url = url
        extra = hosts.split(",") if isinstance(hosts, str) else list(hosts)
        self.scope_hosts = {urlsplit(url).hostname or ""} | {h.strip().lower() for h in extra if h.strip()}
        self.max_pages = int(max_pages)
        self.max_depth = int(max_depth)
        self.max_query_variants = int(max_query_variants)
        self.db_url = db_url
        self.site_id = int(site_id) if site_id is not None else None
        self.standalone_out = out
        self.standalone_today = today
        self.targets: dict[str, dict[str, Any]] = {}
        self.pages_scheduled = 0
        self.query_variants: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.footprint: dict[str, dict[str, float]] = defaultdict(lambda: {"requests": 0, "bytes": 0})

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AgencySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(spider.on_headers_received, signal=signals.headers_received)
        if spider.site_id is None:
            # `scrapy crawl agency -a url=…` from the repository root: make our own run and finish it.
            from crawler.runner import standalone_begin

            standalone_begin(spider, crawler)
        return spider

    # --- scheduling ---------------------------------------------------------------------------
    async def start(self):  # noqa: ANN201 - Scrapy's async start
        self.targets[self.start_url] = {"mode": "page", "anchors": False}
        self.pages_scheduled += 1
        yield self._request(self.start_url, mode="page", depth=0, method="GET")

    def in_scope(self, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() in self.scope_hosts

    def trap_reason(self, url: str) -> str | None:
        """URL-trap guards: endless calendars, repeated segments, very long URLs."""
        if len(url) > 1000:
            return "trap:long-url"
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) > 15 or any(segments.count(s) >= 3 for s in set(segments)):
            return "trap:repeated-segments"
        if parts.query:
            variants = self.query_variants[(parts.hostname or "", parts.path)]
            if parts.query not in variants:
                if len(variants) >= self.max_query_variants:
                    return "trap:query-variants"
                variants.add(parts.query)
        return None

    def _request(self, url: str, *, mode: str, depth: int, method: str, chain: list[str] | None = None,
                 target: str | None = None, anchors: bool = False, first: bool = True) -> Request:
        if mode == "page":
            limit = PAGE_BODY_LIMIT
        else:
            limit = ANCHOR_BODY_LIMIT if anchors else CHECK_BODY_LIMIT
        return Request(
            url, method=method, callback=self.on_response, errback=self.on_error,
            dont_filter=not first, priority=0 if mode == "page" else -1,
            meta={"da_mode": mode, "da_depth": depth, "da_chain": chain or [], "da_target": target or url,
                  "da_anchors": anchors, "da_started": time.monotonic(), "body_limit": limit,
                  "dont_redirect": True, "handle_httpstatus_all": True},
        )

    def schedule(self, url: str, depth: int, wants_anchor: bool):  # noqa: ANN201 - generator
        """Decide how to treat a newly seen target: crawl it, check it, or skip it (with a reason)."""
        reason = malformed_reason(url)
        if reason:
            yield LinkResultItem(LinkResult(url=url, error="malformed", error_detail=reason))
            return
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            yield LinkResultItem(LinkResult(url=url, error="scheme", error_detail=f"{scheme}: not fetched"))
            return
        in_scope = self.in_scope(url)
        if in_scope:
            trap = self.trap_reason(url)
            if trap:
                self.targets[url]["mode"] = "skipped"
                yield SkippedItem(url, trap)
                return
        crawlable = in_scope and url_extension(url) not in DOCUMENT_EXTENSIONS
        if crawlable and self.pages_scheduled < self.max_pages and depth <= self.max_depth:
            self.pages_scheduled += 1
            self.targets[url]["mode"] = "page"
            yield self._request(url, mode="page", depth=depth, method="GET")
            return
        if crawlable:
            yield SkippedItem(url, "page-limit" if self.pages_scheduled >= self.max_pages else "depth-limit")
        self.targets[url]["mode"] = "check"
        self.targets[url]["anchors"] = wants_anchor
        method = "GET" if wants_anchor else "HEAD"
        yield self._request(url, mode="check", depth=depth, method=method, anchors=wants_anchor)

    def follow_links(self, links: list, depth: int):  # noqa: ANN201 - generator
        for link in links:
            scheme = urlsplit(link.target).scheme.lower() if ":" in link.target else "http"
            if scheme in NOT_FETCHED_SCHEMES:
                continue
            key, fragment = urldefrag(link.target)
            state = self.targets.get(key)
            if state is None:
                self.targets[key] = {"mode": "new", "anchors": bool(fragment)}
                yield from self.schedule(key, depth + 1, bool(fragment))
            elif fragment and state["mode"] == "check" and not state["anchors"]:
                # a later link needs the target's anchors: read it once more with a GET
                state["anchors"] = True
                yield self._request(key, mode="check", depth=depth + 1, method="GET", anchors=True,
                                    first=False)

    # --- download bounds --------------------------------------------------------------------------
    def on_headers_received(self, headers: Any, body_length: int, request: Request, spider: Any) -> None:
        if request.meta.get("da_mode") == "page":
            ctype = headers.get(b"Content-Type", b"").decode("latin-1")
            if ctype and not is_html(ctype):
                raise StopDownload(fail=False)  # an in-scope PDF: its status is all we need

    def on_bytes_received(self, data: bytes, request: Request, spider: Any) -> None:
        limit = request.meta.get("body_limit")
        if limit is None:
            return
        received = request.meta.get("da_received", 0) + len(data)
        request.meta["da_received"] = received
        if received > limit:
            raise StopDownload(fail=False)

    # --- responses ----------------------------------------------------------------------------
    def _account(self, url: str, size: int) -> None:
        host = urlsplit(url).hostname or ""
        entry = self.footprint[host]
        entry["requests"] += 1
        entry["bytes"] += size

    def on_response(self, response: Any):  # noqa: ANN201 - generator of items and requests
        meta = response.meta
        mode, target, chain = meta["da_mode"], meta["da_target"], meta["da_chain"]
        method = response.request.method
        status = response.status
        self._account(response.url, len(response.body))
        location = response.headers.get(b"Location")
        if 300 <= status < 400 and status != 304 and location:
            yield from self._redirect(response, location.decode("latin-1"))
            return
        if mode == "check" and method == "HEAD" and not (200 <= status < 400):
            # HEAD is only an optimisation: confirm every unhappy answer with a bounded GET.
            yield self._request(target, mode="check", depth=meta["da_depth"], method="GET",
                                anchors=meta["da_anchors"], first=False)
            return
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        result = LinkResult(
            url=target, status=status, method=method, final_url=response.url, redirects=list(chain),
            content_type=ctype, retries=meta.get("retry_after_times", 0),
            retry_after=meta.get("retry_after_header"), in_scope=self.in_scope(target),
            headers=_kept_headers(response.headers),
        )
        html = is_html(ctype, response.body[:64]) and method == "GET"
        if html and (mode == "page" or meta["da_anchors"]) and 200 <= status < 300:
            text, encoding, _source = decode_html(response.body, ctype)
            parsed = extract_page(text, target, final_url=response.url)
            result.anchors = parsed.facts.anchors
            result.title = parsed.facts.title
            if mode == "page" and self.in_scope(response.url):
                facts = parsed.facts
                facts.status = status
                facts.content_type = ctype
                facts.size = len(response.body)
                facts.elapsed_s = round(float(meta.get("download_latency", 0.0)), 4)
                facts.depth = meta["da_depth"]
                facts.encoding = encoding
                facts.last_modified = _header(response, b"Last-Modified")
                facts.etag = _header(response, b"ETag")
                if "download_stopped" in response.flags:
                    facts.extra["truncated_at_bytes"] = len(response.body)
                yield PageItem(facts, parsed.links)
                yield LinkResultItem(result)
                yield from self.follow_links(parsed.links, meta["da_depth"])
                return
        yield LinkResultItem(result)

    def _redirect(self, response: Any, location: str):  # noqa: ANN201 - generator
        meta = response.meta
        target, chain = meta["da_target"], list(meta["da_chain"])
        next_url = urljoin(response.url, location.strip())
        chain.append(next_url)
        base = LinkResult(url=target, status=response.status, method=response.request.method,
                          final_url=response.url, redirects=chain, in_scope=self.in_scope(target),
                          headers=_kept_headers(response.headers))
        scheme = urlsplit(next_url).scheme.lower()
        if scheme not in ("http", "https"):
            base.error, base.error_detail = "redirect-scheme", f"redirect to a {scheme}: URL is never followed"
            yield LinkResultItem(base)
            return
        if next_url == target or next_url in chain[:-1] or next_url == response.url:
            base.error, base.error_detail = "redirect-loop", " → ".join([target, *chain])[:2000]
            yield LinkResultItem(base)
            return
        if len(chain) > MAX_REDIRECTS:
            base.error, base.error_detail = "too-many-redirects", f"more than {MAX_REDIRECTS} redirects"
            yield LinkResultItem(base)
            return
        mode = meta["da_mode"]
        if mode == "page" and not self.in_scope(next_url):
            mode = "check"
        yield self._request(next_url, mode=mode, depth=meta["da_depth"], method=response.request.method,
                            chain=chain, target=target, anchors=meta["da_anchors"], first=False)

    def on_error(self, failure: Failure):  # noqa: ANN201 - generator
        request = failure.request
        meta = request.meta
        target = meta["da_target"]
        kind, detail = classify_failure(failure)
        self._account(request.url, 0)
        if kind == "robots":
            yield SkippedItem(target, "robots")
        elif meta["da_mode"] == "check" and request.method == "HEAD" and kind not in ("dns", "refused"):
            yield self._request(target, mode="check", depth=meta["da_depth"], method="GET",
                                anchors=meta["da_anchors"], first=False)
            return
        yield LinkResultItem(LinkResult(url=target, error=kind, error_detail=detail, method=request.method,
                                        redirects=list(meta["da_chain"]), in_scope=self.in_scope(target),
                                        final_url=request.url))


def classify_failure(failure: Failure) -> tuple[str, str]:
    """Map a download failure to the network-level outcome recorded in LinkResult.error."""
    detail = str(failure.value)[:500] or failure.type.__name__
    if failure.check(IgnoreRequest):
        if "robots" in detail.lower():
            return "robots", "forbidden by robots.txt"
        if "DOWNLOAD_MAXSIZE" in detail or "maxsize" in detail.lower():
            return "too-large", detail
        return "ignored", detail
    if failure.check(DNSLookupError) or "Resolve" in failure.type.__name__ or "DNS lookup" in detail:
        return "dns", detail
    name = failure.type.__name__
    if failure.check(ConnectionRefusedError) or "Refused" in name:
        return "refused", detail
    if failure.check(TimeoutError, TCPTimedOutError):
        return "timeout", detail
    if "SSL" in name or "TLS" in name or "certificate" in detail.lower():
        return "tls", detail
    if "Timeout" in name:
        return "timeout", detail
    if failure.check(ConnectError):
        return "refused", detail
    if "Lost" in name or "NeverReceived" in name or "Done" in name:
        return "reset", detail
    return "other", f"{name}: {detail}"


def _header(response: Any, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:300] if value else None


def _kept_headers(headers: Any) -> dict[str, str]:
    out = {}
    for name in KEPT_HEADERS:
        value = headers.get(name.encode())
        if value:
            out[name] = value.decode("latin-1")[:300]
    return out
