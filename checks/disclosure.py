"""主動公開資訊 coverage: is there a disclosure area, and does it carry the ten items of §7 I?

Rule: 政府資訊公開法 §7 I (ten categories that must be actively disclosed), §8 I(2) (the website is
a lawful channel), ../shared/domain/README.md §2. The area is found by its name (主動公開資訊 /
政府資訊公開 / 資訊公開, data/disclosure_keywords.yaml) in link texts anywhere on the site (menu,
footer, site map, any depth) and in page titles and main headings. Each item is then searched in
the area: link texts on the area's pages and the titles/headings of the pages they link to.
Full-width/half-width and 臺/台 are normalised (checks/textnorm.py).

Evidence must lead somewhere: a link whose target is `#`, empty, `javascript:`, or broken
(facts.result_for: status >= 400 or a network error) is recorded as dead and never counts as found.
When no area can be used, items are searched site-wide (option `disclosure_sitewide_fallback`,
default on) and the summary says `search_scope: "site"`.

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
    KeywordGroups,
    contains_any,
    dead_reason,
    is_content_link,
    link_index,
    load_csv,
    load_yaml,
    norm,
    page_specific_title,
)

RULE_CITATION = "政府資訊公開法第7條第1項、第8條第1項第2款"
MAX_EVIDENCE = 10
# Menu entries and document names are short; a long text is a news headline that merely mentions
# a keyword (…補助學校培訓計畫…), which is not where the item is published.
MAX_LABEL_CHARS = 30
_PART_SEP = re.compile(r"\s*(?:--+|[-|｜:：>＞/／_·•–—»«]|\s)\s*")


@lru_cache(maxsize=1)
def keywords() -> dict[str, Any]:
    return load_yaml("disclosure_keywords.yaml")


@lru_cache(maxsize=1)
def item_names() -> dict[int, str]:
    """Statutory text of each §7 I item (data/info_disclosure_art7.csv, verbatim from the law)."""
    return {int(row["item_no"]): row["statutory_text_zh"].strip() for row in load_csv("info_disclosure_art7.csv")}


def is_section_label(text: str | None) -> bool:
    """True when `text` names the disclosure area (see data/disclosure_keywords.yaml `section`)."""
    return bool(text) and _is_section_label(text)


@lru_cache(maxsize=MEMO_SIZE)
def _is_section_label(text: str) -> bool:
    spec = keywords()["section"]
    if contains_any(text, spec["exclude"]):
        return False
    if contains_any(text, spec["contains"]):
        return True
    exact = _exact_section_names()
    whole = norm(text)
    return whole in exact or any(norm(part) in exact for part in _PART_SEP.split(text) if part)


@lru_cache(maxsize=1)
def _exact_section_names() -> frozenset[str]:
    return frozenset(norm(word) for word in keywords()["section"]["exact"])


def _main_headings(page: PageFacts) -> list[str]:
    """The headings that name the page: every h1, or the first heading when there is no h1."""
    h1 = [text for level, text in page.headings if level == 1]
    if h1:
        return h1
    return [page.headings[0][1]] if page.headings else []


def _served(page: PageFacts) -> bool:
    return page.status is None or page.status < 400


@dataclass
class Evidence:
    """Where one keyword group was seen: live URLs, and dead links kept to explain a 'not found'."""

    urls: list[str] = field(default_factory=list)
    dead: list[dict[str, str]] = field(default_factory=list)

    def add(self, url: str) -> None:
        if url not in self.urls and len(self.urls) < MAX_EVIDENCE:
            self.urls.append(url)

    def add_dead(self, link: LinkRef, reason: str) -> None:
        entry = {"page": link.source, "target": link.target, "text": link.text[:100], "reason": reason}
        if entry not in self.dead and len(self.dead) < MAX_EVIDENCE:
            self.dead.append(entry)


@dataclass
class SectionSearch:
    urls: list[str] = field(default_factory=list)  # section_urls, in discovery order
    pages: list[PageFacts] = field(default_factory=list)  # crawled pages of the area
    dead_labels: list[dict[str, str]] = field(default_factory=list)


def find_section(facts: SiteFacts) -> SectionSearch:
    """Every place the site names its disclosure area, with the usable ones first."""
    found = SectionSearch()
    # set mirrors of the lists, so that membership costs no scan: the area may be 1,000s of pages, and
    # PageFacts equality compares every field, the text included (issue 6)
    urls: set[str] = set()
    pages_by_url: dict[str, list[PageFacts]] = {}
    dead: set[tuple[str, str, str, str]] = set()

    def add_page(page: PageFacts) -> None:
        same_url = pages_by_url.setdefault(page.url, [])
        if not any(p is page or p == page for p in same_url):  # equal pages share their url
            same_url.append(page)
            found.pages.append(page)

    for page in facts.pages:
        if not _served(page):
            continue
        names = [page.title, *_main_headings(page)]
        if any(is_section_label(name) for name in names):
            if page.url not in urls:
                urls.add(page.url)
                found.urls.append(page.url)
                add_page(page)
    # each distinct link text is tested once; only the links named like the area are visited, in
    # page order (issue 6: menus repeat on every page)
    index = link_index(facts)
    for link in index.with_texts(t for t in index.by_text if is_section_label(t)):
        if not is_content_link(link):
            continue
        reason = dead_reason(facts, link)
        if reason:
            text = link.text[:100]
            if (link.source, link.target, text, reason) not in dead:
                dead.add((link.source, link.target, text, reason))
                found.dead_labels.append({"page": link.source, "target": link.target, "text": text,
                                          "reason": reason})
            continue
        if link.target not in urls:
            urls.add(link.target)
            found.urls.append(link.target)
            page = facts.page(link.target)
            if page is not None and _served(page):
                add_page(page)
    return found


def _search(facts: SiteFacts, pages: list[PageFacts], groups: dict[Any, list[str]],
            *, follow: bool) -> dict[Any, Evidence]:
    """Match keyword groups on the given pages' titles/headings and link texts; with `follow`,
    also on the titles/headings of the crawled pages those links lead to. Titles are compared
    without the site's own name (an agency called 公共工程委員會 must not 'have' item 8 on every page)."""
    result = {key: Evidence() for key in groups}
    matcher = KeywordGroups(groups)
    seen_pages: set[str] = set()
    index = link_index(facts)
    label_hits: dict[str, list[Any]] = {}  # link text -> matched keys (each text matched once)

    def match_page(page: PageFacts) -> None:
        if page.url in seen_pages:
            return
        seen_pages.add(page.url)
        texts = [page_specific_title(facts, page.title)] + [t for lvl, t in page.headings if lvl <= 3]
        for key in matcher.match(*(t for t in texts if len(norm(t)) <= MAX_LABEL_CHARS)):
            result[key].add(page.url)

    def label_keys(text: str) -> list[Any]:
        matched = label_hits.get(text)
        if matched is None:
            matched = label_hits[text] = matcher.match(text) if len(norm(text)) <= MAX_LABEL_CHARS else []
        return matched

    links_of: Callable[[str], Iterable[LinkRef]] = index.from_source
    if not follow:
        # without following, a link whose text matches nothing does nothing: visit only the links
        # whose (distinct) text matches, grouped by page (issue 6: the site-wide search)
        grouped: dict[str, list[LinkRef]] = {}
        for link in index.with_texts(t for t in index.by_text if label_keys(t)):
            grouped.setdefault(link.source, []).append(link)
        links_of = lambda url: grouped.get(url, ())  # noqa: E731
    for page in pages:
        match_page(page)
        for link in links_of(page.url):
            if not is_content_link(link):
                continue
            matched = label_keys(link.text)
            reason = dead_reason(facts, link) if (matched or follow) else None
            for key in matched:
                if reason:
                    result[key].add_dead(link, reason)
                else:
                    result[key].add(link.target)
            if follow and not reason:
                target = facts.page(link.target)
                if target is not None and _served(target):
                    match_page(target)
    return result


def _site_search(facts: SiteFacts, groups: dict[Any, list[str]]) -> dict[Any, Evidence]:
    return _search(facts, [p for p in facts.pages if _served(p)], groups, follow=False)


class DisclosureCoverage(Check):
    """The 主動公開資訊 area and its ten §7 I items, plus FAQ / news / publications."""

    meta = CheckMeta(
        id="disclosure",
        title_zh="主動公開資訊完整性",
        title_en="Proactive disclosure (Freedom of Government Information Law art. 7)",
        indicator="disclosure",
        rule=RULE_CITATION,
        rules=("missing-disclosure-section", "missing-disclosure-category"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings: list[Finding] = []
        home = facts.agency.url
        section = find_section(facts)
        item_groups = {int(k): list(v) for k, v in keywords()["items"].items()}

        if section.pages:
            scope = "section"
            evidence = _search(facts, section.pages, item_groups, follow=True)
        elif ctx.option("disclosure_sitewide_fallback", True):
            scope = "site"
            evidence = _site_search(facts, item_groups)
        else:
            scope = "none"
            evidence = {key: Evidence() for key in item_groups}

        for url in footer_contact_evidence(facts):  # the home footer's 地址、電話 (issue 18, checks/content.py)
            evidence.setdefault(3, Evidence()).add(url)

        if not section.urls:
            findings.append(self._missing_section(home, section.dead_labels))

        names = item_names()
        categories = []
        anchor_page = section.pages[0].url if section.pages else home
        for item in range(1, 11):
            ev = evidence.get(item, Evidence())
            entry = {"item": item, "name": names.get(item, ""), "found": bool(ev.urls), "evidence": ev.urls}
            if ev.dead and not ev.urls:
                entry["dead_evidence"] = ev.dead  # why an item the site seems to offer was not counted
            categories.append(entry)
            if not ev.urls:
                findings.append(self._missing_item(anchor_page, item, names.get(item, ""), scope, ev))
        ctx.summary["disclosure"] = {
            "section_urls": section.urls,
            "categories": categories,
            "search_scope": scope,
            "dead_section_links": section.dead_labels,
        }

        service_groups = {key: list(spec["keywords"]) for key, spec in keywords()["service_info"].items()}
        service_ev = _site_search(facts, service_groups)
        ctx.summary["service_info"] = {
            key: {"name": keywords()["service_info"][key]["name"], "found": bool(ev.urls), "evidence": ev.urls}
            for key, ev in service_ev.items()
        }
        return findings

    @staticmethod
    def _missing_section(home: str, dead: list[dict[str, str]]) -> Finding:
        if dead:
            first = dead[0]
            return Finding(
                check="disclosure", rule="missing-disclosure-section", severity="error",
                page=first["page"], target=first["target"],
                detail=f"網站有「{first['text']}」連結，但它沒有指向可用的頁面（{first['reason']}），"
                "因此找不到可用的主動公開資訊專區。",
                detail_en=f"The site has a '{first['text']}' link but it leads nowhere ({first['reason']}), "
                "so no usable proactive-disclosure area was found.",
                evidence={"dead_links": dead},
            )
        return Finding(
            check="disclosure", rule="missing-disclosure-section", severity="error",
            page=home, target=None,
            detail="網站找不到「主動公開資訊／政府資訊公開」專區。",
            detail_en="No proactive-disclosure (主動公開資訊 / 政府資訊公開) area was found on the site.",
            evidence={"dead_links": []},
        )

    @staticmethod
    def _missing_item(page: str, item: int, name: str, scope: str, ev: Evidence) -> Finding:
        where = {"section": "主動公開資訊專區", "site": "全站", "none": "網站"}[scope]
        extra = "（相關連結失效）" if ev.dead else ""
        return Finding(
            check="disclosure", rule="missing-disclosure-category", severity="warning",
            page=page, target=None,
            detail=f"{where}找不到政府資訊公開法第7條第1項第{item}款「{name[:40]}」的資訊{extra}。",
            detail_en=f"No evidence of item {item} of art. 7 I ({scope} searched){' (links dead)' if ev.dead else ''}.",
            evidence={"item": item, "name": name, "scope": scope, "dead_links": ev.dead},
        )
