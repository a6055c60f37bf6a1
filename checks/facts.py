"""The facts of one audited site, as the crawler saw them: the only input checks receive.

Facts never judge. A page's status, headers, title, meta tags and visible text are recorded here;
whether that makes a link broken or a page stale is decided in the checks, against a date and
thresholds from configuration (ARCHITECTURE.md: "facts and judgements never mix").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urldefrag, urlsplit

from checks.artifacts import PageArtifacts, SiteArtifacts


@dataclass(slots=True)
class LinkRef:
    """One occurrence of a link on a crawled page (every source page and link text is kept)."""

    source: str  # absolute URL of the page carrying the link
    target: str  # absolute URL, fragment kept (as resolved, not normalised)
    text: str = ""  # link text, alt text of a linked image, or title attribute
    tag: str = "a"  # a, area, iframe, frame, link, img, meta-refresh, ...

    @property
    def target_no_fragment(self) -> str:
        return urldefrag(self.target)[0] if "#" in self.target else self.target

    @property
    def fragment(self) -> str:
        return urldefrag(self.target)[1] if "#" in self.target else ""


@dataclass(slots=True)  # slots: a 100,000-page site has 100,000 of these in memory during an audit
class LinkResult:
    """What happened when one target URL (without fragment) was requested."""

    url: str
    status: int | None = None  # final HTTP status (after redirects), None when no answer
    error: str | None = None  # network-level outcome: dns, refused, timeout, tls, redirect-loop,
    # too-many-redirects, malformed, robots, scheme, trap, private-address, other
    error_detail: str | None = None  # the exact reason as reported (exception text, TLS reason)
    method: str | None = None  # HEAD or GET: which request gave the verdict
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)  # every hop after the first request
    content_type: str | None = None
    anchors: list[str] | None = None  # ids and names of the target page when it was HTML and read
    retries: int = 0  # how many Retry-After waits were honoured
    retry_after: str | None = None  # last Retry-After header seen
    in_scope: bool = False
    title: str | None = None  # <title> of an HTML target, when read
    headers: dict[str, str] = field(default_factory=dict)  # the few headers that matter


@dataclass
class PageFacts:
    """One in-scope HTML page that was fetched and parsed."""

    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    size: int = 0
    elapsed_s: float = 0.0
    depth: int = 0
    encoding: str | None = None
    last_modified: str | None = None  # raw HTTP Last-Modified header
    etag: str | None = None
    title: str = ""
    lang: str | None = None
    headings: list[tuple[int, str]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property -> values
    text: str = ""  # visible text, block elements on their own lines, bounded in length
    # the page region of the text's lines: [first line, end line (exclusive), region] runs, region
    # content | chrome | files (attachment rows); lines in no run are unmarked (crawler/extract.py)
    text_regions: list[list[Any]] = field(default_factory=list)
    # values the markup labels: {line (of the text), via: dt | time, label, value[, datetime]} for
    # <dt>label</dt><dd>value</dd> and <time title="label">value</time> (a title can be a date's only label)
    label_values: list[dict[str, Any]] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # element ids and <a name> values
    forms: list[dict[str, Any]] = field(default_factory=list)
    accesskeys: list[dict[str, str]] = field(default_factory=list)  # {key, href, text, id}
    # text inputs that look like a search box, in a <form> or not (crawler.extract.search_inputs)
    search_inputs: list[dict[str, Any]] = field(default_factory=list)
    noscript: str | None = None  # text of the first <noscript>, None when absent
    images: list[dict[str, Any]] = field(default_factory=list)  # {src, alt (None = no attr)}
    # what the extractor, the spider and the store recorded beyond the parsed fields, by name
    artifacts: PageArtifacts = field(default_factory=PageArtifacts)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of a stored page only

    def meta_first(self, name: str) -> str | None:
        values = self.meta.get(name.lower())
        return values[0] if values else None

    def stored_extra(self) -> dict[str, Any]:
        """The `extra` of the page's stored facts: the artifacts under their names, then unknown keys."""
        return {**self.artifacts.to_extra(), **self.extra}


@dataclass
class A11yPageResult:
    """Raw axe-core outcome for one rendered page (all four buckets are kept in the store)."""

    url: str
    status: str = "ok"  # ok | failed
    error: str | None = None
    template: str | None = None
    reason: str | None = None  # why the page was sampled (home, disclosure, template, random, ...)
    # why a sampled page was not tested: the site did not serve it as a 2xx HTML document
    # (http-status, browser-error-page, network-error, not-html, download, search-failed, out-of-scope)
    not_served: str | None = None
    http_status: int | None = None  # the status the site answered, when known
    replaces: str | None = None  # the sampled page (not served) this page was tested instead of
    axe_version: str | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    incomplete: list[dict[str, Any]] = field(default_factory=list)
    passes: list[dict[str, Any]] = field(default_factory=list)
    inapplicable: list[dict[str, Any]] = field(default_factory=list)
    # the page at a phone's window size (issue 18, crawler/a11y.py `mobile_layout`): width, height,
    # scroll_width, client_width; None when not measured
    layout: dict[str, Any] | None = None


@dataclass
class Agency:
    name: str
    url: str
    code: str | None = None
    group: str | None = None


@dataclass
class SiteFacts:
    """Everything the checks may read about one site in one run."""

    agency: Agency
    hosts: list[str] = field(default_factory=list)  # hosts in scope
    pages: list[PageFacts] = field(default_factory=list)
    links: list[LinkRef] = field(default_factory=list)
    link_results: dict[str, LinkResult] = field(default_factory=dict)  # keyed by URL w/o fragment
    skipped: list[dict[str, str]] = field(default_factory=list)  # {url, reason}: robots, trap, limit
    a11y_status: str = "not_run"  # ok | not_run | failed
    a11y_detail: str | None = None
    a11y: list[A11yPageResult] = field(default_factory=list)
    artifacts: SiteArtifacts = field(default_factory=SiteArtifacts)  # what the gatherers yielded, by name
    extra: dict[str, Any] = field(default_factory=dict)  # bookkeeping only (finish reason, reuse digests)

    def page(self, url: str) -> PageFacts | None:
        """The page fetched at `url` (or whose final URL is `url`)."""
        index = self.__dict__.get("_page_index")
        if index is None:
            index = {}
            for p in self.pages:
                index.setdefault(p.url, p)
                if p.final_url:
                    index.setdefault(p.final_url, p)
            self.__dict__["_page_index"] = index
        return index.get(url) or index.get(urldefrag(url)[0])

    def result_for(self, target: str) -> LinkResult | None:
        return self.link_results.get(urldefrag(target)[0] if "#" in target else target)

    def links_from(self, source: str) -> list[LinkRef]:
        """The links found on one page, in page order."""
        table_lookup = getattr(self.links, "links_from", None)  # LinkTable: without reading every link
        if table_lookup is not None:
            return table_lookup(source)
        return [link for link in self.links if link.source == source]

    def stored_extra(self) -> dict[str, Any]:
        """The store's `extra` column for this site: bookkeeping keys and the artifacts under their names."""
        return {**self.extra, **self.artifacts.to_extra()}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_page_index", None)
        return data


# ---------------------------------------------------------------------------------------------
# Memoised URL helpers. A 10,000-page site carries ~500,000 links to a few tens of thousands of
# distinct targets (menus and footers repeat on every page), so the checks parse each distinct
# string once instead of once per link (issue 6). The results are small (a scheme, a path, an
# extension): the cache holds the URL strings the link table already keeps alive.

_URL_CACHE = 1 << 15  # the targets that repeat (menus) stay; most distinct targets are seen once (issue 6)


@lru_cache(maxsize=_URL_CACHE)
def defrag(url: str) -> tuple[str, str]:
    """`urllib.parse.urldefrag(url)` as a plain (url without fragment, fragment) tuple."""
    if "#" not in url:
        return url, ""
    base, fragment = urldefrag(url)
    return base, fragment


def url_scheme(url: str) -> str:
    """The lower-cased scheme of `url` as `urlsplit` reads it ("" when there is none)."""
    return _scheme_and_path(url)[0]


def url_path(url: str) -> str:
    """The path of `url` as `urlsplit` reads it."""
    return _scheme_and_path(url)[1]


@lru_cache(maxsize=_URL_CACHE)
def _scheme_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.path


@lru_cache(maxsize=_URL_CACHE)
def url_hostname(url: str) -> str | None:
    """The host name of `url` (lower-cased by `urlsplit`), None when there is none."""
    return urlsplit(url).hostname
