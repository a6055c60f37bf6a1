"""Text normalisation and keyword matching shared by the disclosure, services and title checks.

Why one place: domain/README.md §2 asks that link texts, headings and titles be matched with
full-width/half-width characters and 臺/台 normalised. Doing it the same way everywhere means a
keyword in a data file matches the same texts in every check. Also holds the data-file loader and
the character-bigram similarity used by `title-mismatch` and `dc-title-mismatch`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import yaml

from checks.facts import LinkRef, SiteFacts

DATA_DIR = Path(__file__).resolve().parent / "data"

# Characters that carry no meaning when comparing labels: spaces, punctuation, symbols.
_NOISE = re.compile(r"[\s\u3000\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


_SPACE = re.compile(r"\s+")


def norm(text: str | None) -> str:
    """NFKC (full-width → half-width), 臺 → 台, case-folded, white space removed."""
    if not text:
        return ""
    return _norm(text)


@lru_cache(maxsize=65536)  # menu and footer texts repeat on every page of a site
def _norm(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).replace("臺", "台").casefold())


def norm_loose(text: str | None) -> str:
    """`norm` without any punctuation or symbols: for similarity, not for keyword tests."""
    return _NOISE.sub("", norm(text))


@lru_cache(maxsize=8192)
def _norm_cached(keyword: str) -> str:
    return norm(keyword)


def contains_any(text: str | None, keywords: Iterable[str]) -> str | None:
    """The first keyword (as written in the data file) whose normal form occurs in `text`."""
    haystack = norm(text)
    if not haystack:
        return None
    for keyword in keywords:
        needle = _norm_cached(keyword)
        if needle and needle in haystack:
            return keyword
    return None


class KeywordGroups:
    """Several named keyword lists matched against one text at once (the text is normalised once)."""

    def __init__(self, groups: dict[Any, Iterable[str]]) -> None:
        self.groups = {key: [n for n in (norm(w) for w in words) if n] for key, words in groups.items()}
        self._memo: dict[str, list[Any]] = {}  # menus repeat on every page: match each text once

    def _match_one(self, text: str) -> list[Any]:
        hit = self._memo.get(text)
        if hit is None:
            hay = norm(text)
            hit = [key for key, needles in self.groups.items() if hay and any(n in hay for n in needles)]
            if len(self._memo) < 200_000:
                self._memo[text] = hit
        return hit

    def match(self, *texts: str | None) -> list[Any]:
        """Keys of the groups with a keyword in any of `texts`, in group order."""
        found: set[Any] = set()
        for text in texts:
            if text:
                found.update(self._match_one(text))
        return [key for key in self.groups if key in found]


@cache
def load_yaml(name: str) -> Any:
    """A data file shipped in checks/data (cached: data files are read-only at run time)."""
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_yaml_path(path: str | Path) -> Any:
    """A user-supplied YAML file; errors are turned into one clear message by the caller."""
    with Path(path).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def load_csv(name: str) -> tuple[dict[str, str], ...]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as fh:
        return tuple(csv.DictReader(fh))


def bigrams(text: str) -> set[str]:
    """Character bigrams of the loose normal form (a one-character text yields itself)."""
    s = norm_loose(text)
    if len(s) == 1:
        return {s}
    return {s[i : i + 2] for i in range(len(s) - 1)}


def overlap(a: str, b: str) -> float:
    """Overlap coefficient of character bigrams: |A∩B| / min(|A|,|B|), 0.0 when either is empty.

    The overlap coefficient (not Dice/Jaccard) is used because a link text is usually a short
    part of a longer page title: "預算書" against "113年度單位預算書" must score 1.0.
    """
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / min(len(x), len(y))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


# ---------------------------------------------------------------------------------------------
# Link liveness, shared by every check that uses a link as evidence


def dead_reason(facts: SiteFacts, link: LinkRef, *, allow_schemes: tuple[str, ...] = ()) -> str | None:
    """Why a link cannot serve as evidence, or None when it may.

    `href="#"`, `href=""` and `javascript:` links point nowhere; a link to a target whose recorded
    result is an HTTP error (status >= 400) or a network error is broken (domain/README.md §2: an
    item linked from the section whose target is broken is not "found"). A target that was never
    checked is given the benefit of the doubt.
    """
    memo = facts.__dict__.setdefault("_dead_reason", {})
    key = (link.source, link.target, allow_schemes)
    if key not in memo:
        memo[key] = _dead_reason(facts, link, allow_schemes)
    return memo[key]


def _dead_reason(facts: SiteFacts, link: LinkRef, allow_schemes: tuple[str, ...]) -> str | None:
    target = link.target.strip()
    scheme = urlsplit(target).scheme.lower()
    if scheme == "javascript":
        return "javascript"
    if scheme in allow_schemes:
        return None
    if scheme not in ("http", "https"):
        return "scheme"
    base, fragment = urldefrag(target)
    source_page = facts.page(link.source)
    source_urls = {link.source}
    if source_page is not None and source_page.final_url:
        source_urls.add(source_page.final_url)
    if base in source_urls:
        if not fragment:
            return "self"  # href="#", href="" or a link to the page itself: no destination
        if source_page is not None and fragment not in source_page.anchors:
            return "missing-anchor"
        return None
    result = facts.result_for(target)
    if result is not None:
        if result.error:
            return f"error:{result.error}"
        if result.status is not None and result.status >= 400:
            return f"http:{result.status}"
    page = facts.page(target)
    if page is not None and page.status is not None and page.status >= 400:
        return f"http:{page.status}"
    return None


def links_by_source(facts: SiteFacts) -> dict[str, list[LinkRef]]:
    """facts.links grouped by source page (cached on the facts object: checks never mutate it)."""
    index = facts.__dict__.get("_links_by_source")
    if index is None:
        index = {}
        for link in facts.links:
            index.setdefault(link.source, []).append(link)
        facts.__dict__["_links_by_source"] = index
    return index


def is_content_link(link: LinkRef) -> bool:
    """Links a reader follows (not stylesheets, images or frames)."""
    return link.tag in ("a", "area")


# ---------------------------------------------------------------------------------------------
# The site's own name in page titles

_TITLE_SEP = re.compile(r"\s*(?:--+|[-|｜:：>＞/／_·•–—»«]|\s{2,})\s*")


def title_parts(title: str) -> list[str]:
    """A page title split at the separators sites put between page name and site name."""
    return [part for part in (p.strip() for p in _TITLE_SEP.split(title or "")) if part]


def site_title_parts(facts: SiteFacts, share: float = 0.5) -> frozenset[str]:
    """Loose-normalised title parts shared by at least `share` of the pages (and 2 or more):
    the site's name as its template prints it (基隆市政府 in 基隆市政府-市政新聞), or a placeholder
    title every page carries (HyUI kit). Such parts say which site, not which page."""
    cached = facts.__dict__.get("_site_title_parts")
    if cached is not None:
        return cached
    counts: dict[str, int] = {}
    titled = 0
    for page in facts.pages:
        parts = {norm_loose(p) for p in title_parts(page.title)} - {""}
        if parts:
            titled += 1
        for part in parts:
            counts[part] = counts.get(part, 0) + 1
    result = frozenset(p for p, n in counts.items() if n >= 2 and n >= share * titled)
    facts.__dict__["_site_title_parts"] = result
    return result


def page_specific_title(facts: SiteFacts, title: str) -> str:
    """The title (loose normal form) without the site's name parts and the agency name; ""
    when nothing page-specific is left."""
    site = site_title_parts(facts)
    agency = norm_loose(facts.agency.name)
    kept = []
    for part in title_parts(title):
        loose = norm_loose(part)
        if loose in site:
            continue
        if agency and loose != agency:
            loose = loose.replace(agency, "")
        elif agency:
            continue
        if loose:
            kept.append(loose)
    return " ".join(kept)
