"""Items: what the spider SAW, as plain data (no judgement). Pipelines write them to the run store."""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.facts import LinkRef, LinkResult, PageFacts


@dataclass
class PageItem:
    """An in-scope HTML page that was fetched and parsed, with every link it carries, and the
    result of requesting it (one item rather than two: each item costs Scrapy's item machinery)."""

    facts: PageFacts
    links: list[LinkRef] = field(default_factory=list)
    result: LinkResult | None = None


@dataclass
class LinkResultItem:
    """The outcome of requesting one target URL (page or checked link)."""

    result: LinkResult


@dataclass
class SkippedItem:
    """A URL we deliberately did not fetch: robots.txt, crawler trap, page/depth limit."""

    url: str
    reason: str


@dataclass
class UnchangedPageItem:
    """An in-scope page the server answered 304 Not Modified: copy its stored facts from `previous_site`.
    `result` is what requesting it gave this time (the 304 with the anchors and title last seen)."""

    url: str
    depth: int
    previous_site: int
    result: LinkResult | None = None


@dataclass
class UnchangedPagesItem:
    """Several UnchangedPageItem at once: a recrawl of an unchanged site has one per page, and each item
    costs Scrapy's item machinery (an asynchronous item_scraped signal, the pipeline chain) on the crawl's
    thread. The spider hands the rest of an unfinished group to the store pipeline when it is idle or
    closes (AgencySpider.take_unchanged)."""

    pages: list[UnchangedPageItem] = field(default_factory=list)


@dataclass
class Acknowledge:
    """Sent after a request's last output (distributed mode). The store pipeline holds it until
    everything before it is written, then calls `spider.acknowledge(keys)`: a worker killed with
    items still buffered leaves those requests in flight, and the coordinator hands them out again."""

    key: str
