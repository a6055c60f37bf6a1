"""主動公開資訊 coverage: is there a disclosure area, and does it carry the ten items of §7 I?

Rule: 政府資訊公開法 §7 I (ten categories that must be actively disclosed), §8 I(2) (the website is
a lawful channel), ../shared/domain/README.md §2. The area is found by its name (主動公開資訊 /
政府資訊公開 / 資訊公開, data/disclosure_keywords.yaml) in link texts anywhere on the site (menu,
footer, site map, any depth) and in page titles and main headings. Each item is then searched in
the area: link texts on the area's pages and the titles/headings of the pages they link to.
Full-width/half-width and 臺/台 are normalised (checks/textnorm.py).

Evidence must be verified live (issue 16 item 2, checks/textnorm.py `dead_reason`): a link whose
target is `#`, empty, `javascript:`, or broken (status >= 400 or a network error) is recorded as
dead; a link whose target was never requested (trap, robots, `--external skip`) is `unverified`.
Neither counts as found: an item with only unverified evidence has status `unverified` and the
finding `unverified-disclosure-category` (a notice the score keeps out as indeterminate, rubric.yaml).
An item is found only from a link text, a followed page's title or heading that names the item's
document kind (include terms, minus exclude terms: 「補助申請系統」 is an application system, not the
list of subsidies of item 9); the evidence is always that link's verified target or that page, never
a page the search started on (the home page, the area itself).
When no area can be used, items are searched site-wide (option `disclosure_sitewide_fallback`,
default on) and the summary says `search_scope: "site"`.

Deterministic (issue 16 item 7): the area's anchor page is chosen by click depth, then label
strength, then URL; every evidence list is sorted; nothing depends on the order pages arrived in.

Also records the service information the plans ask for (FAQ, news, publications) in
`ctx.summary["service_info"]` as evidence for the `disclosure` indicator (domain/README.md §1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.content import footer_contact_evidence
from checks.facts import LinkRef, PageFacts, SiteFacts
from checks.textnorm import (
    MEMO_SIZE,
    UNVERIFIED,
    Smallest,
    contains_any,
    dead_reason,
    is_content_link,
    link_index,
    link_order,
    load_csv,
    load_yaml,
    norm,
    page_specific_title,
    reason_text,
)

MAX_EVIDENCE = 10
# Menu entries and document names are short; a long text is a news headline that merely mentions
# a keyword (…補助學校培訓計畫…), which is not where the item is published.
MAX_LABEL_CHARS = 30
_PART_SEP = re.compile(r"\s*(?:--+|[-|｜:：>＞/／_·•–—»«]|\s)\s*")
_UNSEEN_DEPTH = 1 << 30  # a target that is not a crawled page sorts after every page


@lru_cache(maxsize=1)
def keywords() -> dict[str, Any]:
    return load_yaml("disclosure_keywords.yaml")


@lru_cache(maxsize=1)
def item_names() -> dict[int, str]:
    """Statutory text of each §7 I item (data/info_disclosure_art7.csv, verbatim from the law)."""
    return {int(row["item_no"]): row["statutory_text_zh"].strip() for row in load_csv("info_disclosure_art7.csv")}


def terms(entries: Iterable[Any] | None) -> tuple[str, ...]:
    """The terms of a data-file list whose entries are plain strings or `{term: …, seen: …}`."""
    return tuple(str(e["term"]) if isinstance(e, dict) else str(e) for e in entries or ())


def _parts(text: str) -> set[str]:
    """The whole label and each part of it (split on - | : > / and similar), normalised."""
    return {norm(text)} | {norm(part) for part in _PART_SEP.split(text) if part}


def is_section_label(text: str | None) -> bool:
    """True when `text` names the disclosure area (see data/disclosure_keywords.yaml `section`)."""
    return bool(text) and section_strength(text) is not None


@lru_cache(maxsize=MEMO_SIZE)
def section_strength(text: str) -> int | None:
    """How plainly `text` names the disclosure area: 0 is the strongest (the first `contains`
    term), then the other `contains` terms, then the `exact` names; None when it does not."""
    spec = keywords()["section"]
    if contains_any(text, terms(spec["exclude"])):
        return None
    whole = norm(text)
    strong = terms(spec["contains"])
    for rank, term in enumerate(strong):
        if norm(term) in whole:
            return rank
    parts = _parts(text)
    for rank, term in enumerate(terms(spec["exact"]), start=len(strong)):
        if norm(term) in parts:
            return rank
    return None


@lru_cache(maxsize=1)
def _list_headers() -> frozenset[str]:
    return frozenset(norm(t) for t in terms(keywords()["section"].get("list_headers")))


def _list_header_strength(page: PageFacts) -> int | None:
    """A page listing the §7 items as a table (主動公開政府資訊項目 / 內容 headers, moe_portal LP5)
    is the area: the weakest way to name it, after every label."""
    headers = _list_headers()
    if not headers or not page.text:
        return None
    spec = keywords()["section"]
    weakest = len(terms(spec["contains"])) + len(terms(spec["exact"]))
    for line in page.text.splitlines():
        if len(line) <= MAX_LABEL_CHARS and norm(line) in headers:
            return weakest
    return None


@dataclass(frozen=True)
class ItemSpec:
    """One keyword group: a label names it when it contains an include term or equals (as a whole
    or a part) an exact term, and contains no exclude term. Terms are stored normalised."""

    include: tuple[str, ...]
    exact: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, spec: Any) -> ItemSpec:
        if not isinstance(spec, dict):  # a plain list of include terms
            spec = {"include": spec}
        return cls(include=tuple(n for n in map(norm, terms(spec.get("include"))) if n),
                   exact=frozenset(n for n in map(norm, terms(spec.get("exact"))) if n),
                   exclude=tuple(n for n in map(norm, terms(spec.get("exclude"))) if n))


@lru_cache(maxsize=1)
def item_specs() -> dict[int, ItemSpec]:
    return {int(k): ItemSpec.from_data(v) for k, v in keywords()["items"].items()}


class LabelMatcher:
    """Which keyword groups a short label names (each distinct text decided once)."""

    def __init__(self, specs: dict[Any, ItemSpec]) -> None:
        self.specs = specs
        self._memo: dict[str, list[Any]] = {}

    def match(self, text: str | None) -> list[Any]:
        if not text:
            return []
        hit = self._memo.get(text)
        if hit is None:
            hit = self._match(text)
            if len(self._memo) < MEMO_SIZE:
                self._memo[text] = hit
        return hit

    def _match(self, text: str) -> list[Any]:
        hay = norm(text)
        if not hay or len(hay) > MAX_LABEL_CHARS:
            return []
        parts = _parts(text) if any(spec.exact for spec in self.specs.values()) else set()
        return [key for key, spec in self.specs.items()
                if (any(n in hay for n in spec.include) or not spec.exact.isdisjoint(parts))
                and not any(x in hay for x in spec.exclude)]


def _main_headings(page: PageFacts) -> list[str]:
    """The headings that name the page: every h1, or the first heading when there is no h1."""
    h1 = [text for level, text in page.headings if level == 1]
    if h1:
        return h1
    return [page.headings[0][1]] if page.headings else []


def _served(page: PageFacts) -> bool:
    return page.status is None or page.status < 400


def _depth(facts: SiteFacts, url: str) -> int:
    page = facts.page(url)
    return page.depth if page is not None else _UNSEEN_DEPTH


def _link_entry(facts: SiteFacts, link: LinkRef, reason: str) -> tuple[tuple[Any, ...], dict[str, str]]:
    """(sort key, evidence entry) of a link that is not evidence: shallowest page first, then URL."""
    entry = {"page": link.source, "target": link.target, "text": link.text[:100], "reason": reason}
    return (*link_order(facts, link), reason), entry


@dataclass
class Evidence:
    """Where one keyword group was seen: verified URLs, and the dead and unverified links kept to
    explain why it was not counted. Each list is capped on its sort order, not on arrival."""

    found: Smallest = field(default_factory=Smallest)
    dead_links: Smallest = field(default_factory=Smallest)
    unverified_links: Smallest = field(default_factory=Smallest)

    def add(self, url: str) -> None:
        self.found.add(url, url)

    def add_link(self, facts: SiteFacts, link: LinkRef, reason: str | None) -> None:
        if reason is None:
            self.add(link.target)
            return
        key, entry = _link_entry(facts, link, reason)
        (self.unverified_links if reason == UNVERIFIED else self.dead_links).add(key, entry)

    @property
    def urls(self) -> list[str]:
        return self.found.list()

    @property
    def dead(self) -> list[dict[str, str]]:
        return self.dead_links.list()

    @property
    def unverified(self) -> list[dict[str, str]]:
        return self.unverified_links.list()

    @property
    def status(self) -> str:
        """found | unverified | dead | missing (unverified wins over dead: it may still be there)."""
        if self.found:
            return "found"
        if self.unverified_links:
            return "unverified"
        return "dead" if self.dead_links else "missing"


@dataclass
class SectionSearch:
    urls: list[str] = field(default_factory=list)  # section_urls: click depth, label strength, URL
    pages: list[PageFacts] = field(default_factory=list)  # crawled pages of the area, same order
    dead_labels: list[dict[str, str]] = field(default_factory=list)
    unverified_labels: list[dict[str, str]] = field(default_factory=list)


def find_section(facts: SiteFacts) -> SectionSearch:
    """Every place the site names its disclosure area, the usable ones ordered by click depth, then
    label strength, then URL (never by the order pages arrived in)."""
    best: dict[str, tuple[int, int]] = {}  # url -> (depth, strength)
    pages: dict[str, PageFacts] = {}
    dead, unverified = Smallest(), Smallest()  # the shallowest MAX_EVIDENCE of each

    def note(url: str, depth: int, strength: int, page: PageFacts | None) -> None:
        rank = (depth, strength)
        if url not in best or rank < best[url]:
            best[url] = rank
        if page is not None and url not in pages:
            pages[url] = page

    for page in facts.pages:
        if not _served(page):
            continue
        ranks = [r for r in (section_strength(n) for n in (page.title, *_main_headings(page)) if n) if r is not None]
        listed = _list_header_strength(page)
        if listed is not None:
            ranks.append(listed)
        if ranks:
            note(page.url, page.depth, min(ranks), page)
    # each distinct link text is tested once; only the links named like the area are visited
    # (issue 6: menus repeat on every page)
    index = link_index(facts)
    for link in index.with_texts(t for t in index.by_text if is_section_label(t)):
        if not is_content_link(link):
            continue
        reason = dead_reason(facts, link)
        if reason:
            key, entry = _link_entry(facts, link, reason)
            (unverified if reason == UNVERIFIED else dead).add(key, entry)
            continue
        page = facts.page(link.target)
        served = page if page is not None and _served(page) else None
        url = served.url if served is not None else link.target
        depth = served.depth if served is not None else _depth(facts, link.source) + 1
        note(url, depth, section_strength(link.text) or 0, served)
    urls = sorted(best, key=lambda u: (*best[u], u))
    return SectionSearch(urls=urls, pages=[pages[u] for u in urls if u in pages],
                         dead_labels=dead.list(), unverified_labels=unverified.list())


def _start_urls(facts: SiteFacts, anchor: PageFacts | None) -> set[str]:
    """The pages a search starts from, never evidence themselves: the home page and the area."""
    out = {facts.agency.url}
    home = facts.page(facts.agency.url)
    for page in (home, anchor):
        if page is not None:
            out.add(page.url)
            if page.final_url:
                out.add(page.final_url)
    return out


def _search(facts: SiteFacts, pages: list[PageFacts], matcher: LabelMatcher, *, follow: bool,
            start: set[str]) -> dict[Any, Evidence]:
    """Match keyword groups on the given pages' link texts and on the titles / main headings of
    those pages; with `follow`, also on the titles / main headings of the crawled pages their live
    links lead to. Titles are compared without the site's own name (an agency called
    公共工程委員會 must not 'have' item 8 on every page). Pages in `start` are never evidence."""
    result = {key: Evidence() for key in matcher.specs}
    seen_pages: set[str] = set()
    index = link_index(facts)

    def match_page(page: PageFacts) -> None:
        if page.url in seen_pages:
            return
        seen_pages.add(page.url)
        if page.url in start or (page.final_url and page.final_url in start):
            return
        for text in (page_specific_title(facts, page.title), *_main_headings(page)):
            for key in matcher.match(text):
                result[key].add(page.url)

    links_of: Callable[[str], Iterable[LinkRef]] = index.from_source
    if not follow:
        # without following, a link whose text matches nothing does nothing: visit only the links
        # whose (distinct) text matches, grouped by page (issue 6: the site-wide search)
        grouped: dict[str, list[LinkRef]] = {}
        for link in index.with_texts(t for t in index.by_text if matcher.match(t)):
            grouped.setdefault(link.source, []).append(link)
        links_of = lambda url: grouped.get(url, ())  # noqa: E731
    for page in pages:
        match_page(page)
        for link in links_of(page.url):
            if not is_content_link(link):
                continue
            matched = matcher.match(link.text)
            reason = dead_reason(facts, link) if (matched or follow) else None
            for key in matched:
                result[key].add_link(facts, link, reason)
            if follow and not reason:
                target = facts.page(link.target)
                if target is not None and _served(target):
                    match_page(target)
    return result


def _site_search(facts: SiteFacts, matcher: LabelMatcher) -> dict[Any, Evidence]:
    start = _start_urls(facts, None)
    return _search(facts, [p for p in facts.pages if _served(p)], matcher, follow=False, start=start)


@lru_cache(maxsize=1)
def _service_specs() -> dict[str, ItemSpec]:
    return {key: ItemSpec.from_data(spec["keywords"]) for key, spec in keywords()["service_info"].items()}


class DisclosureCoverage(Check):
    """The 主動公開資訊 area and its ten §7 I items, plus FAQ / news / publications."""

    meta = CheckMeta(
        id="disclosure-coverage", check="disclosure",
        rules=("missing-disclosure-section", "missing-disclosure-category", "unverified-disclosure-section",
               "unverified-disclosure-category"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings: list[Finding] = []
        home = facts.agency.url
        section = find_section(facts)
        anchor = section.pages[0] if section.pages else None
        matcher = LabelMatcher(item_specs())

        if section.pages:
            scope = "section"
            evidence = _search(facts, section.pages, matcher, follow=True, start=_start_urls(facts, anchor))
        elif ctx.option("disclosure_sitewide_fallback", True):
            scope = "site"
            evidence = _site_search(facts, matcher)
        else:
            scope = "none"
            evidence = {key: Evidence() for key in matcher.specs}

        if not section.urls:
            findings.append(self._no_section(home, section))

        names = item_names()
        categories = []
        anchor_page = anchor.url if anchor is not None else home
        for item in range(1, 11):
            ev = evidence.get(item, Evidence())
            status = ev.status
            entry: dict[str, Any] = {"item": item, "name": names.get(item, ""), "found": status == "found",
                                     "status": status, "evidence": ev.urls}
            if status != "found":
                if ev.dead:
                    entry["dead_evidence"] = ev.dead  # why an item the site seems to offer was not counted
                if ev.unverified:
                    entry["unverified_evidence"] = ev.unverified
            categories.append(entry)
            if status == "unverified":
                findings.append(self._unverified_item(anchor_page, item, names.get(item, ""), scope, ev))
            elif status != "found":
                findings.append(self._missing_item(anchor_page, item, names.get(item, ""), scope, ev))
        footer = footer_contact_evidence(facts)  # issue 18: the home footer gives 地址、電話 (checks/content.py);
        if footer:  # recorded beside item 3, never as its evidence (the home page is no §7 evidence, issue 16)
            categories[2]["footer_contact"] = footer
        ctx.summary["disclosure"] = {
            "section_urls": section.urls,
            "categories": categories,
            "search_scope": scope,
            "dead_section_links": section.dead_labels,
            "unverified_section_links": section.unverified_labels,
        }

        service_ev = _site_search(facts, LabelMatcher(_service_specs()))
        ctx.summary["service_info"] = {
            key: {"name": keywords()["service_info"][key]["name"], "found": bool(ev.urls), "status": ev.status,
                  "evidence": ev.urls}
            for key, ev in service_ev.items()
        }
        return findings

    @staticmethod
    def _no_section(home: str, section: SectionSearch) -> Finding:
        if section.unverified_labels:
            first = section.unverified_labels[0]
            return Finding.of(
                "unverified-disclosure-section",
                page=first["page"], target=first["target"],
                detail=f"網站有「{first['text']}」連結，但{reason_text(UNVERIFIED)}，"
                "主動公開資訊專區是否可用無法判定，不列入扣分。",
                detail_en=f"The site has a '{first['text']}' link but {reason_text(UNVERIFIED, 'en')}: "
                "whether a usable proactive-disclosure area exists is indeterminate.",
                evidence={"unverified_links": section.unverified_labels, "dead_links": section.dead_labels},
            )
        if section.dead_labels:
            first = section.dead_labels[0]
            return Finding.of(
                "missing-disclosure-section",
                page=first["page"], target=first["target"],
                detail=f"網站有「{first['text']}」連結，但{reason_text(first['reason'])}，"
                "因此找不到可用的主動公開資訊專區。",
                detail_en=f"The site has a '{first['text']}' link but {reason_text(first['reason'], 'en')}, "
                "so no usable proactive-disclosure area was found.",
                evidence={"dead_links": section.dead_labels},
            )
        return Finding.of(
            "missing-disclosure-section",
            page=home, target=None,
            detail="網站找不到「主動公開資訊／政府資訊公開」專區。",
            detail_en="No proactive-disclosure (主動公開資訊 / 政府資訊公開) area was found on the site.",
            evidence={"dead_links": []},
        )

    @staticmethod
    def _missing_item(page: str, item: int, name: str, scope: str, ev: Evidence) -> Finding:
        where = {"section": "主動公開資訊專區", "site": "全站", "none": "網站"}[scope]
        extra = f"；找到的相關連結無效：{reason_text(ev.dead[0]['reason'])}" if ev.dead else ""
        extra_en = f" (its link: {reason_text(ev.dead[0]['reason'], 'en')})" if ev.dead else ""
        return Finding.of(
            "missing-disclosure-category",
            page=page, target=None,
            detail=f"{where}找不到政府資訊公開法第7條第1項第{item}款「{name}」的資訊{extra}。",
            detail_en=f"No evidence of item {item} of art. 7 I ({scope} searched){extra_en}.",
            evidence={"item": item, "name": name, "scope": scope, "dead_links": ev.dead},
        )

    @staticmethod
    def _unverified_item(page: str, item: int, name: str, scope: str, ev: Evidence) -> Finding:
        first = ev.unverified[0]
        return Finding.of(
            "unverified-disclosure-category",
            page=page, target=None,
            detail=f"政府資訊公開法第7條第1項第{item}款「{name}」只有「{first['text']}」連結，"
            f"但{reason_text(UNVERIFIED)}，是否已公開無法判定，不列入扣分。",
            detail_en=f"Item {item} of art. 7 I has only the link '{first['text']}', but "
            f"{reason_text(UNVERIFIED, 'en')}: indeterminate, not scored.",
            evidence={"item": item, "name": name, "scope": scope, "unverified_links": ev.unverified,
                      "dead_links": ev.dead},
        )
