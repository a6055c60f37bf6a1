"""The agency spider: crawl one site's in-scope HTML pages and request every link they carry.

Facts only: for each target URL it records what the server answered (status, redirect chain, method,
Retry-After waits, anchors of HTML targets); the links check judges them. Redirects are followed here
(not by Scrapy's middleware) so that every hop, loop and scheme change is recorded. HEAD is only an
optimisation: any answer that is not 2xx/3xx, and any refused HEAD, is confirmed with a bounded GET
(issue 2). Trap guards bound what is crawled: long URLs, repeated path segments, endless query variants,
session ids in URLs (targets are de-duplicated on `checks.links.url_key`). Click counters and redirectors
(a path like Umbraco's CountAndRedirectUrl whose query names a node or a target URL: data in
`redirectors.yaml`) are navigation, not traps: each distinct target is followed once, without the
query-variants cut-off (issue 16 item 2).

Hostile sites (issue 7): every body is bounded (page 5 MB, checks 64 KB; a page that declares 50 MB is
read up to the limit and recorded as truncated; decompressed bodies are bounded by DOWNLOAD_MAXSIZE);
time is bounded by DOWNLOAD_TIMEOUT for the whole download, so a server that never answers or drips a
byte a second ends as `timeout`. A WAF challenge page (Cloudflare, F5 "Request Rejected", Akamai
"Access Denied", Imperva, a cookie-setting JS challenge) is recorded as `error="challenge"`, never parsed
as the site's content. IP-literal links to loopback/private/link-local addresses are refused before a
request exists (`private-address`, see crawler.addresses.AddressPolicy). `footprint` counts, per
host, the requests made, body bytes received, the peak number of requests in one second and the time
between the first and the last request: what the audit cost the agency.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import yaml
from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers
from scrapy.resolver import dnscache
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from checks.computed.urls import url_key
from checks.facts import LinkResult
from crawler.addresses import AddressPolicy, literal_ip
from crawler.encoding import decode_html
from crawler.extract import extract_page
from crawler.incremental import PreviousCrawl
from crawler.items import LinkResultItem, PageItem, SkippedItem, UnchangedPageItem, UnchangedPagesItem
from crawler.politeness import CrawlRobots, Politeness
from crawler.revalidate import AS_VALIDATED, revalidate, validator_headers

NOT_FETCHED_SCHEMES = {"mailto", "tel", "javascript", "data", "sms", "fax", "callto", "skype", "about"}
DOCUMENT_EXTENSIONS = {
    ".pdf", ".doc", ".docx", ".odt", ".ods", ".odp", ".odg", ".xls", ".xlsx", ".ppt", ".pptx", ".rtf",
    ".csv", ".txt", ".xml", ".json", ".rss", ".zip", ".rar", ".7z", ".gz", ".tar", ".exe", ".msi",
    ".iso", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".bmp", ".ico", ".tif", ".tiff", ".mp3",
    ".mp4", ".avi", ".mov", ".wmv", ".flv", ".webm", ".wav", ".css", ".js", ".woff", ".woff2", ".ttf",
    ".eot", ".swf", ".kml", ".kmz", ".shp",
}
EXTERNAL_MODES = ("check", "skip")  # --external: request links to other hosts, or list them as not checked
MAX_REDIRECTS = 10
UNCHANGED_TOGETHER = 32  # pages answered 304 handed to the store pipeline in one item
# Scheduling order: pages by their depth (priority -depth), shallowest first, then every other target.
# A page's depth is its shortest click path from the home page. FIFO queues alone give that only while
# responses are processed in the order they were asked for; with concurrent downloads a deeper page
# often reached a page before its shallower parent did (about 1,300 of the benchmark's 10,000 pages one
# click too deep, more when responses are processed faster). With the depth as the priority no page is
# requested while a shallower one waits (Scrapy FAQ: DEPTH_PRIORITY with FIFO queues for breadth-first
# order; set here, DepthMiddleware is not used), and `best_depth` corrects a page reached by a shorter
# path while it downloads: 3 pages of 10,000 are left one click too deep.
CHECK_PRIORITY = -(1 << 20)
PAGE_BODY_LIMIT = 5 * 1024 * 1024
ANCHOR_BODY_LIMIT = 2 * 1024 * 1024
CHECK_BODY_LIMIT = 64 * 1024
KEPT_HEADERS = ("content-type", "content-length", "last-modified", "etag", "retry-after", "location",
                "server", "www-authenticate")
SNIFF_BYTES = 32 * 1024

# Web application firewalls and bot defences answer with a page of their own instead of the content
# (often with 200). Strong markers are specific to those products and count at any status; weak ones
# only on an error status; a tiny 200 page counts only when it sets a cookie and reloads itself.
_CHALLENGE_STRONG = (
    (re.compile(rb"window\._cf_chl_opt|/cdn-cgi/challenge-platform/|cf-browser-verification|"
                rb"<title>\s*(Just a moment\.\.\.|Attention Required! \| Cloudflare)", re.I), "Cloudflare challenge"),
    (re.compile(rb"The requested URL was rejected\. Please consult with your administrator|"
                rb"Your support ID is:?\s*<?[0-9]{6,}", re.I), "F5 ASM: Request Rejected"),
    (re.compile(rb"/TSPD/[0-9a-f]{10,}|window\.bobcmn", re.I), "F5 bot defence JavaScript challenge"),
    (re.compile(rb"_Incapsula_Resource|Incapsula incident ID", re.I), "Imperva Incapsula"),
    (re.compile(rb"<title>\s*Access Denied\s*</title>[\s\S]{0,3000}You don't have permission to access", re.I),
     "Akamai: Access Denied"),
    (re.compile(rb"Request blocked\.[\s\S]{0,800}(could not be satisfied|CloudFront)", re.I), "AWS WAF"),
    (re.compile(rb"Sucuri WebSite Firewall - Access Denied|Checking your browser before accessing|"
                rb"DDoS protection by", re.I), "browser check"),
    (re.compile(rb"<title>\s*Web Page Blocked!?\s*</title>", re.I), "Fortinet: Web Page Blocked"),
)
_CHALLENGE_WEAK = re.compile(
    rb"<title>\s*(Request Rejected|Access Denied|Blocked|Security Check)\s*</title>|"
    rb"Please enable (JavaScript|cookies)|" + "請啟用 ?JavaScript|您的請求已被(拒絕|阻擋)|存取被拒|網頁已被封鎖".encode(),
    re.I)
_JS_CHALLENGE = re.compile(rb"document\.cookie\s*=[\s\S]{0,2000}(location\.reload|location\.href\s*=|"
                           rb"location\.replace)", re.I)


# Cheap substrings one of which every strong marker contains: most pages have none of them, and then
# the eight regular expressions are not run at all (they cost a quarter of the crawl otherwise).
_STRONG_HINTS = (b"cf_chl", b"challenge-platform", b"cf-browser-verification", b"just a moment",
                 b"cloudflare", b"was rejected", b"support id", b"/tspd/", b"bobcmn", b"incapsula",
                 b"access denied", b"request blocked", b"sucuri", b"checking your browser",
                 b"ddos protection", b"web page blocked")


def challenge_marker(body: bytes, status: int) -> str | None:
    """The bot-defence product whose challenge or block page `body` is, or None for real content."""
    head = body[:SNIFF_BYTES]
    lowered = head.lower()
    if any(hint in lowered for hint in _STRONG_HINTS):
        for pattern, name in _CHALLENGE_STRONG:
            if pattern.search(head):
                return name
    match = _CHALLENGE_WEAK.search(head) if status >= 400 else None
    if match:
        return f"block page: {match.group(0)[:60].decode('utf-8', 'replace')}"
    if len(body) < 8 * 1024 and _JS_CHALLENGE.search(head):
        return "JavaScript cookie challenge"
    return None


_UNSEEN = object()


def _terms(entries: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(e["term"] if isinstance(e, dict) else e).lower() for e in entries or ())


@cache
def _redirector_rules() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(path segments, naming query parameters, target-URL parameters) from redirectors.yaml."""
    data = yaml.safe_load((Path(__file__).with_name("redirectors.yaml")).read_text(encoding="utf-8"))
    return _terms(data["path_segments"]), _terms(data["query_params"]), _terms(data["target_params"])


def is_redirector(url: str) -> bool:
    """True for a click counter / redirector URL: one request per distinct target is navigation."""
    parts = urlsplit(url)
    if not parts.query:
        return False
    segments, naming, targets = _redirector_rules()
    params = parse_qsl(parts.query, keep_blank_values=True)
    names = {name.lower() for name, _ in params}
    if any(name.lower() in targets and value.lower().startswith(("http://", "https://")) for name, value in params):
        return True
    path_names = {posixpath.splitext(s)[0].lower() for s in parts.path.split("/") if s}
    return not path_names.isdisjoint(segments) and not names.isdisjoint(naming)


def _identity(target: str) -> tuple[str, str, str] | None:
    """(URL without fragment, fragment, de-duplication key), or None for a scheme never fetched."""
    if not target.startswith(("http://", "https://")):  # (the common case needs no parsing here)
        scheme = urlsplit(target).scheme.lower() if ":" in target else "http"
        if scheme in NOT_FETCHED_SCHEMES:
            return None
    try:
        key, fragment = urldefrag(target)
    except ValueError:  # "http://[bad#x": scheduled as it is, and recorded as malformed there
        key, _, fragment = target.partition("#")
    return key, fragment, url_key(key)


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
                 previous_site_id: int | str | None = None, external: str = "check",
                 seeds: str | list[str] = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not url:
            raise ValueError("give the site to crawl: scrapy crawl agency -a url=https://…")
        self.start_url = url
        extra = hosts.split(",") if isinstance(hosts, str) else list(hosts)
        self.scope_hosts = {urlsplit(url).hostname or ""} | {h.strip().lower() for h in extra if h.strip()}
        self.max_pages = int(max_pages)
        self.max_depth = int(max_depth)
        self.max_query_variants = int(max_query_variants)
        if external not in EXTERNAL_MODES:
            raise ValueError(f"external must be one of {', '.join(EXTERNAL_MODES)}, got {external!r}")
        self.external = external  # skip: links to other hosts are recorded as not checked, never requested
        self.seeds = [u.strip() for u in (seeds.split(",") if isinstance(seeds, str) else seeds) if u.strip()]
        self.db_url = db_url
        self.site_id = int(site_id) if site_id is not None else None
        self.standalone_out = out
        self.standalone_today = today
        self.targets: dict[str, dict[str, Any]] = {}
        self.pages_scheduled = 0
        self.query_variants: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.footprint: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"requests": 0, "bytes": 0, "peak_per_second": 0, "seconds": 0.0, "first_at": None})
        self._fp_clock: dict[str, tuple[float, float]] = {}  # host -> (first, last) monotonic
        self._fp_buckets: dict[str, Counter[int]] = defaultdict(Counter)
        self.address_policy = AddressPolicy()  # replaced in from_crawler with the site's own policy
        self.previous_site_id = int(previous_site_id) if previous_site_id not in (None, "") else None
        self.previous = None  # crawler.incremental.PreviousCrawl when a previous audit exists
        self._bases: dict[str, tuple[str, str] | None] = {}
        self._seen: dict[str, dict[str, Any] | None] = {}  # link target string -> its target's state
        self._unchanged: list[UnchangedPageItem] = []  # 304 pages not yet handed over (UNCHANGED_TOGETHER)
        self._deepest = 0  # no target's state has a larger depth (depths are only ever lowered)
        self.revalidate_ahead = False  # ask the previous audit's pages before the crawl (crawler.revalidate)
        self.revalidated: dict[str, dict[str, str]] = {}  # page -> headers of its 304 in that pass
        self._ready: deque[tuple[str, int, dict[str, str]]] = deque()  # scheduled pages answered 304 there

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AgencySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(spider.on_headers_received, signal=signals.headers_received)
        crawler.signals.connect(spider.on_request_done, signal=signals.request_left_downloader)
        kinds = crawler.settings.getlist("PRIVATE_ADDRESS_KINDS") if crawler.settings.get(
            "PRIVATE_ADDRESS_KINDS") is not None else None
        spider.address_policy = AddressPolicy.for_site(
            spider.scope_hosts, allow_all=crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES"), kinds=kinds)
        spider.default_maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if spider.previous_site_id is not None and spider.db_url:
            spider.previous = PreviousCrawl(spider.db_url, spider.previous_site_id)
            crawler.signals.connect(spider.previous.close, signal=signals.spider_closed)
            # a distributed worker acknowledges requests one by one; its pages stay Scrapy requests
            spider.revalidate_ahead = (crawler.settings.getbool("DA_REVALIDATE_AHEAD", True)
                                       and not hasattr(spider, "acknowledge"))
        # `scrapy crawl agency -a url=…` (no site_id): disclosure_audit.extensions.StandaloneAudit
        # gives the spider its run and finishes the audit when it closes.
        return spider

    # --- scheduling ---------------------------------------------------------------------------
    async def start(self):  # noqa: ANN201 - Scrapy's async start
        if self.revalidate_ahead and self.previous is not None:
            await self.revalidate_previous()
        self.targets[url_key(self.start_url)] = {"mode": "page", "anchors": False, "depth": 0}
        self.pages_scheduled += 1
        yield self._request(self.start_url, mode="page", depth=0, method="GET")
        for seed in self.seeds:  # extra start pages (tests, pages no link reaches), one click deep
            if url_key(seed) not in self.targets:
                self.targets[url_key(seed)] = {"mode": "new", "anchors": False, "depth": 1}
                for out in self.schedule(seed, 1, False):
                    yield out

    async def revalidate_previous(self) -> None:
        """Ask the previous audit's pages conditionally in one fast pass (crawler.revalidate); a page
        answered 304 there is taken as unchanged when the crawl reaches it, without a Scrapy request.
        The start page is left to Scrapy: the crawl always begins with a real request of its own."""
        start = url_key(self.start_url)
        urls = [u for u in self.previous.validators if self.in_scope(u) and url_key(u) != start]
        urls = urls[: max(0, self.max_pages - 1)]
        polite = Politeness.from_settings(self.crawler.settings)
        robots = CrawlRobots.from_crawler(self.crawler)
        try:
            result = await revalidate(self.previous.validators, urls, polite, _kept_text_headers,
                                      robots.allowed if robots else None)
        except Exception as exc:  # noqa: BLE001 - an optimisation only: the crawl asks every page itself
            self.logger.warning("revalidation pass failed, the crawl asks every page itself: %s", exc)
            return
        self.revalidated = result.unchanged
        for host, times in result.requests.items():
            for at in times:
                self._count_request(host, at)
        self.logger.info("revalidation pass: %d of %d pages asked answered 304%s", len(result.unchanged),
                         result.asked, f" ({result.stopped})" if result.stopped else "")

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
        query = urlsplit(url_key(url)).query  # session ids and parameter order do not make a variant
        if query and not is_redirector(url):  # a counter's every distinct target is followed once
            variants = self.query_variants[(parts.hostname or "", parts.path)]
            if query not in variants:
                if len(variants) >= self.max_query_variants:
                    return "trap:query-variants"
                variants.add(query)
        return None

    def _request(self, url: str, *, mode: str, depth: int, method: str, chain: list[str] | None = None,
                 target: str | None = None, anchors: bool = False, first: bool = True) -> Request:
        if mode == "page":
            limit = PAGE_BODY_LIMIT
        else:
            limit = ANCHOR_BODY_LIMIT if anchors else CHECK_BODY_LIMIT
        meta = {"da_mode": mode, "da_depth": depth, "da_chain": chain or [], "da_target": target or url,
                "da_anchors": anchors, "da_started": time.monotonic(), "body_limit": limit,
                "dont_redirect": True, "handle_httpstatus_all": True}
        if method == "HEAD":
            meta["max_retry_times"] = 0  # the GET that confirms a failed HEAD is its retry
        return Request(
            url, method=method, callback=self.on_response, errback=self.on_error,
            dont_filter=not first, priority=-depth if mode == "page" else CHECK_PRIORITY, meta=meta,
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
        state = self.targets[url_key(url)]
        refused = self.address_policy.literal_refusal(urlsplit(url).hostname)
        if refused:  # decided before any request exists: not even robots.txt is asked for
            state["mode"] = "refused"
            yield LinkResultItem(LinkResult(url=url, error="private-address", error_detail=refused,
                                            in_scope=self.in_scope(url)))
            return
        in_scope = self.in_scope(url)
        if not in_scope and self.external == "skip":
            state["mode"] = "not-checked"
            yield LinkResultItem(LinkResult(url=url, error="not-checked",
                                            error_detail="external link not requested (--external skip)"))
            return
        if in_scope:
            trap = self.trap_reason(url)
            if trap:
                state["mode"] = "skipped"
                yield SkippedItem(url, trap)
                return
        crawlable = in_scope and url_extension(url) not in DOCUMENT_EXTENSIONS
        if crawlable and self.pages_scheduled < self.max_pages and depth <= self.max_depth:
            self.pages_scheduled += 1
            state["mode"] = "page"
            answered = self.revalidated.pop(url, None) if self.revalidated else None
            if answered is not None:  # a 304 already: taken up by drain_ready, no request again
                self.previous.asked_for(url)
                self._ready.append((url, depth, answered))
                return
            yield self._request(url, mode="page", depth=depth, method="GET")
            return
        if crawlable:
            yield SkippedItem(url, "page-limit" if self.pages_scheduled >= self.max_pages else "depth-limit")
        state["mode"] = "check"
        state["anchors"] = wants_anchor
        method = "GET" if wants_anchor else "HEAD"
        yield self._request(url, mode="check", depth=depth, method=method, anchors=wants_anchor)

    def _target_identity(self, target: str) -> tuple[str, str, str] | None:
        """(URL without fragment, fragment, de-duplication key) of a link target, or None when the
        scheme is never fetched. Each target string comes here once (follow_links remembers them),
        but every page carries its own `#main`, `#top`…: what the part before `#` gives is memoised,
        since targets that differ only in their fragment share everything but the fragment."""
        base, hashmark, fragment = target.partition("#")
        if not hashmark or "\t" in target or "\n" in target or "\r" in target:
            return _identity(target)  # (urlsplit drops tabs and newlines even inside a fragment)
        bases = self._bases
        shared = bases.get(base, _UNSEEN)
        if shared is _UNSEEN:
            if len(bases) > 100_000:  # a site of endless distinct URLs must not grow this without bound
                bases.clear()
            full = _identity(target)
            shared = bases[base] = None if full is None else (full[0], full[2])
        return None if shared is None else (shared[0], fragment, shared[1])

    def follow_links(self, targets: Iterable[str], depth: int):  # noqa: ANN201 - generator
        """Schedule what the link targets of a page at `depth` need: a request for each target not
        seen before, a GET for a checked target that a link now needs the anchors of; and lower the
        depth of a known target reached here by a shorter path (see `best_depth`).

        Once a target string has been through here it can never need another request (a target is
        scheduled once; a link with a fragment leaves its target read with its anchors), so the string
        is remembered with its target's state and, at the next sight, only the depth is compared: the
        same menus are on every page."""
        seen = self._seen
        if len(seen) > 200_000:  # bounded like the identities; forgetting only costs a re-parse
            seen.clear()
        child = depth + 1
        if child >= self._deepest:
            # No known target can be lowered to `child`: only the strings never seen need work. Pages
            # are taken shallowest first, so this is nearly every page; a 304 page whose menus were
            # all seen before costs one pass in a comprehension instead of one iteration each below.
            targets = [target for target in targets if target not in seen]
            if not targets:
                return
        for target in targets:
            known = seen.get(target, _UNSEEN)
            if known is not _UNSEEN:
                if known is not None and child < known.get("depth", child):
                    known["depth"] = child
                continue
            identity = self._target_identity(target)
            if identity is None:
                seen[target] = None
                continue
            key, fragment, ident = identity
            state = self.targets.get(ident)
            if state is None:
                state = self.targets[ident] = {"mode": "new", "anchors": bool(fragment), "depth": child}
                if child > self._deepest:
                    self._deepest = child
                yield from self.schedule(key, child, bool(fragment))
            else:
                if child < state.get("depth", child):
                    state["depth"] = child
                if fragment and state["mode"] == "check" and not state["anchors"]:
                    # a later link needs the target's anchors: read it once more with a GET
                    state["anchors"] = True
                    yield self._request(key, mode="check", depth=child, method="GET", anchors=True,
                                        first=False)
            seen[target] = state

    @property
    def unchanged_together(self) -> int:
        """How many 304 pages go to the store pipeline in one item; 1 for a spider that acknowledges its
        requests once their outputs are written (crawler.distributed): a page held here would be
        acknowledged before it is stored."""
        return 1 if hasattr(self, "acknowledge") else UNCHANGED_TOGETHER

    def take_unchanged(self) -> list[UnchangedPageItem]:
        """The 304 pages not handed over yet (the store pipeline takes them when the spider is idle and
        when it closes)."""
        pages, self._unchanged = self._unchanged, []
        return pages

    def best_depth(self, target: str, depth: int) -> int:
        """The shortest click depth known for `target` now, at most the `depth` it was requested at.

        Concurrent downloads do not finish in the order they were asked for: a page requested from a
        deeper page may be reached by a shorter path while it downloads. Its facts and its links'
        depths then count from the shorter path."""
        state = self.targets.get(url_key(target))
        return min(depth, state.get("depth", depth)) if state else depth

    # --- download bounds --------------------------------------------------------------------------
    def on_headers_received(self, headers: Any, body_length: int, request: Request, spider: Any) -> None:
        if request.meta.get("da_mode") == "page":
            ctype = headers.get(b"Content-Type", b"").decode("latin-1")
            if ctype and not is_html(ctype):
                raise StopDownload(fail=False)  # an in-scope PDF: its status is all we need
        maxsize = request.meta.get("download_maxsize", getattr(self, "default_maxsize", 0))
        if request.meta.get("body_limit") and maxsize and isinstance(body_length, int) and body_length > maxsize:
            # Scrapy cancels a response that *declares* more than DOWNLOAD_MAXSIZE before reading a
            # byte; we read up to our own (smaller) body limit instead, so a 50 MB page is recorded as
            # truncated, not lost. The limit is restored at the first byte for the decompression bound.
            request.meta["da_restore_maxsize"] = request.meta.get("download_maxsize")
            request.meta["download_maxsize"] = 0
            request.meta["da_declared_length"] = body_length

    def on_bytes_received(self, data: bytes, request: Request, spider: Any) -> None:
        self.footprint[urlparse_cached(request).hostname or ""]["bytes"] += len(data)
        if "da_restore_maxsize" in request.meta:
            restore = request.meta.pop("da_restore_maxsize")
            if restore is None:
                request.meta.pop("download_maxsize", None)
            else:
                request.meta["download_maxsize"] = restore
        limit = request.meta.get("body_limit")
        if limit is None:
            return
        received = request.meta.get("da_received", 0) + len(data)
        request.meta["da_received"] = received
        if received > limit:
            raise StopDownload(fail=False)

    def on_request_done(self, request: Request, spider: Any) -> None:
        """Footprint: one request left the downloader (answered or failed) for its host."""
        host = urlparse_cached(request).hostname or ""
        if not _resolved(host):
            return  # the name never resolved: nothing reached any server
        self._count_request(host, time.monotonic())

    def _count_request(self, host: str, now: float) -> None:
        entry = self.footprint[host]
        entry["requests"] += 1
        first, _last = self._fp_clock.get(host, (now, now))
        if entry["first_at"] is None:
            entry["first_at"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        self._fp_clock[host] = (first, now)
        entry["seconds"] = round(now - first, 3)
        bucket = self._fp_buckets[host]
        bucket[int(now)] += 1
        entry["peak_per_second"] = max(entry["peak_per_second"], bucket[int(now)])

    # --- responses ----------------------------------------------------------------------------
    def on_response(self, response: Any):  # noqa: ANN201 - generator of items and requests
        yield from self._on_response(response)
        yield from self.drain_ready()

    def drain_ready(self):  # noqa: ANN201 - generator of items and requests
        """Take up the pages scheduled meanwhile that the revalidation pass found unchanged, oldest
        (shallowest) first; their links schedule more of them, handled in this same loop, not by
        recursion. A page the previous audit did not store after all is asked for by Scrapy."""
        ready = self._ready
        while ready:
            url, depth, headers = ready.popleft()
            if headers is AS_VALIDATED:
                headers = validator_headers(*self.previous.validators.get(url, (None, None)))
            reused = self.previous.unchanged(url)
            if reused is None:
                yield self._request(url, mode="page", depth=depth, method="GET")
                continue
            yield from self._reuse(url, self.best_depth(url, depth), reused, "GET", safe_url_string(url), [],
                                   headers)

    def _reuse(self, target: str, depth: int, reused: Any, method: str, final_url: str, chain: list[str],
               headers: dict[str, str]):  # noqa: ANN201 - generator of items and requests
        """A page unchanged since the last audit: its stored facts are reused, its links still followed."""
        content_type, anchors, title, targets = reused
        # one item for the page and its own result, and one item for several pages: each item costs
        # Scrapy's item machinery
        page = UnchangedPageItem(target, depth, self.previous.site_id, LinkResult(
            url=target, status=304, method=method, final_url=final_url, redirects=list(chain),
            content_type=content_type, in_scope=True, anchors=anchors, title=title, headers=headers))
        if self.unchanged_together > 1:
            self._unchanged.append(page)
            if len(self._unchanged) >= self.unchanged_together:
                yield UnchangedPagesItem(self.take_unchanged())
        else:
            yield page
        yield from self.follow_links(targets, depth)

    def _on_response(self, response: Any):  # noqa: ANN201 - generator of items and requests
        meta = response.meta
        mode, target, chain = meta["da_mode"], meta["da_target"], meta["da_chain"]
        method = response.request.method
        status = response.status
        location = response.headers.get(b"Location")
        if 300 <= status < 400 and status != 304 and location:
            yield from self._redirect(response, location.decode("latin-1"))
            return
        if status == 304 and meta.get("da_conditional") and self.previous is not None:
            reused = self.previous.unchanged(target)
            if reused is not None:  # unchanged since the last audit: reuse its facts, still follow links
                yield from self._reuse(target, self.best_depth(target, meta["da_depth"]), reused, method,
                                       response.url, chain, _kept_headers(response.headers))
                return
        if meta.get("da_conditional") and self.previous is not None:
            self.previous.forget(target)  # changed (or gone): what was read ahead for it is not needed
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
        if method == "GET" and response.body:
            marker = challenge_marker(response.body, status)
            if marker:  # the firewall's page, not the site's: never parsed as content
                result.error, result.error_detail = "challenge", f"WAF/bot challenge ({marker}), HTTP {status}"
                yield LinkResultItem(result)
                return
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
                facts.depth = self.best_depth(target, meta["da_depth"])
                facts.encoding = encoding
                facts.last_modified = _header(response, b"Last-Modified")
                facts.etag = _header(response, b"ETag")
                facts.artifacts.sha1 = hashlib.sha1(response.body).hexdigest()
                if "download_stopped" in response.flags:
                    facts.artifacts.truncated_at_bytes = meta.get("da_received", len(response.body))
                    if meta.get("da_declared_length"):
                        facts.artifacts.declared_length = meta["da_declared_length"]
                yield PageItem(facts, parsed.links, result)
                yield from self.follow_links([link.target for link in parsed.links], facts.depth)
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
        refused = self.address_policy.literal_refusal(urlsplit(next_url).hostname)
        if refused:
            base.error, base.error_detail = "private-address", f"redirect refused: {refused}"
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
        if self.external == "skip" and not self.in_scope(next_url):
            base.error = "not-checked"
            base.error_detail = f"redirect to another host not followed (--external skip): {next_url}"[:500]
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
        if kind == "robots":
            yield SkippedItem(target, "robots")
        elif meta["da_mode"] == "check" and request.method == "HEAD" and kind not in ("dns", "refused",
                                                                                        "private-address"):
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
        if detail.startswith("private-address"):
            return "private-address", detail
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


def _resolved(host: str) -> bool:
    """Did `host` resolve (an IP literal, or a name in Scrapy's DNS cache)? Unknown counts as yes."""
    if literal_ip(host) or not dnscache.limit:
        return True
    return host in dnscache


def _header(response: Any, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:300] if value else None


_KEPT_KEYS = tuple((name, name.encode().title()) for name in KEPT_HEADERS)  # as scrapy.http.Headers keys them


def _kept_headers(headers: Any) -> dict[str, str]:
    """The headers worth keeping as facts, in KEPT_HEADERS order, each value bounded."""
    out = {}
    plain = isinstance(headers, Headers)  # title-cased keys, lists of values: read without re-normalising
    for name, key in _KEPT_KEYS:
        if plain:
            values = dict.get(headers, key)
            value = values[-1] if values else None
        else:
            value = headers.get(name.encode())
        if value:
            out[name] = value.decode("latin-1")[:300]
    return out


def _kept_text_headers(headers: Any) -> dict[str, str]:
    """As `_kept_headers`, for headers with text names and values (aiohttp's, in crawler.revalidate)."""
    out = {}
    for name in KEPT_HEADERS:
        value = headers.get(name)
        if value:
            out[name] = value[:300]
    return out
