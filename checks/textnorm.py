"""Text normalisation and keyword matching shared by the disclosure, services and title checks.

Why one place: domain/README.md §2 asks that link texts, headings and titles be matched with
full-width/half-width characters and 臺/台 normalised. Doing it the same way everywhere means a
keyword in a data file matches the same texts in every check. Also holds the data-file loader,
the character-bigram similarity used by `title-mismatch` and `dc-title-mismatch`, link liveness
(`dead_reason`) and the `LinkIndex` that lets checks decide once per distinct link text or target
and visit only the links that matter (issue 6, docs/check-speed.md).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from checks.facts import LinkRef, SiteFacts, defrag, url_scheme

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
    if not text:
        return ""
    return _norm_loose(text)


@lru_cache(maxsize=65536)  # link texts and titles repeat on every page
def _norm_loose(text: str) -> str:
    return _NOISE.sub("", _norm(text))


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
        if len(texts) == 1:  # the common case (one link text): already in group order
            return list(self._match_one(texts[0])) if texts[0] else []
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
    return set(_bigrams(text))


@lru_cache(maxsize=65536)  # a target's title is compared with every link text pointing at it
def _bigrams(text: str) -> frozenset[str]:
    s = norm_loose(text)
    if len(s) == 1:
        return frozenset((s,))
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


def overlap(a: str, b: str) -> float:
    """Overlap coefficient of character bigrams: |A∩B| / min(|A|,|B|), 0.0 when either is empty.

    The overlap coefficient (not Dice/Jaccard) is used because a link text is usually a short
    part of a longer page title: "預算書" against "113年度單位預算書" must score 1.0.
    """
    x, y = _bigrams(a), _bigrams(b)
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

    Everything but "is this the page itself" depends on the target alone, so it is worked out once
    per distinct target (cached on the facts object: a menu link recurs on every page, issue 6).
    """
    memo = facts.__dict__.get("_dead_target")
    if memo is None:
        memo = facts.__dict__["_dead_target"] = {}
    key = (link.target, allow_schemes)
    verdict = memo.get(key)
    if verdict is None:
        verdict = memo[key] = _target_verdict(facts, link.target, allow_schemes)
    base, fragment, reason = verdict
    if base is None:
        return reason
    source_page = facts.page(link.source)
    if base != link.source and (source_page is None or not source_page.final_url
                                or base != source_page.final_url):
        return reason  # not the page itself: the target's own verdict
    if not fragment:
        return "self"  # href="#", href="" or a link to the page itself: no destination
    if source_page is not None and fragment not in source_page.anchors:
        return "missing-anchor"
    return None


def _target_verdict(facts: SiteFacts, raw_target: str,
                    allow_schemes: tuple[str, ...]) -> tuple[str | None, str, str | None]:
    """(target without fragment, fragment, reason) for one target; the target is None when the
    scheme alone decided (then the reason holds whatever the link's source page)."""
    target = raw_target.strip()
    scheme = url_scheme(target)
    if scheme == "javascript":
        return None, "", "javascript"
    if scheme in allow_schemes:
        return None, "", None
    if scheme not in ("http", "https"):
        return None, "", "scheme"
    base, fragment = defrag(target)
    reason = None
    result = facts.result_for(base)  # = facts.result_for(target): results are keyed without fragment
    if result is not None:
        if result.error:
            reason = f"error:{result.error}"
        elif result.status is not None and result.status >= 400:
            reason = f"http:{result.status}"
    if reason is None:
        page = facts.page(target)
        if page is not None and page.status is not None and page.status >= 400:
            reason = f"http:{page.status}"
    return base, fragment, reason


class LinkIndex:
    """The links of a site as small integers, with where each distinct target, text and source page
    occurs (positions in `facts.links`).

    A 10,000-page site has ~500,000 links but a few tens of thousands of distinct targets and a few
    thousand distinct texts: menus and footers repeat on every page. A check decides once per
    distinct text or target, then visits only the links that matter, in their original order, so
    every evidence list, first page and cap comes out as a full pass would make it (issue 6).
    Each link is four 4-byte ids into the distinct strings (the strings themselves are shared with
    `facts.links`), so the index is a small fraction of the links it describes; `facts.links` is
    read once, in order, and never indexed.
    """

    def __init__(self, links: Iterable[LinkRef] = (), rows: Iterable[tuple[str, str, str, str]] | None = None) -> None:
        """Index `links`, or `rows` of (source, target, text, tag) read straight from the store."""
        self.sources: list[str] = []
        self.targets: list[str] = []
        self.texts: list[str] = []
        self.tags: list[str] = []
        self.source_of, self.target_of, self.text_of, self.tag_of = (array("I") for _ in range(4))
        sources, targets, texts, tags = self.sources, self.targets, self.texts, self.tags
        source_of, target_of, text_of, tag_of = self.source_of, self.target_of, self.text_of, self.tag_of
        source_ids: dict[str, int] = {}
        target_ids: dict[str, int] = {}
        text_ids: dict[str, int] = {}
        tag_ids: dict[str, int] = {}
        at_target: list[array[int]] = []
        at_text: list[array[int]] = []
        position = -1
        if rows is None:
            rows = ((link.source, link.target, link.text, link.tag) for link in links)
        for position, (value, target, text, tag) in enumerate(rows):  # one pass, unrolled: ~500,000 times
            ident = source_ids.get(value)
            if ident is None:
                ident = source_ids[value] = len(sources)
                sources.append(value)
            source_of.append(ident)
            value = target
            ident = target_ids.get(value)
            if ident is None:
                ident = target_ids[value] = len(targets)
                targets.append(value)
                at_target.append(array("I"))
            target_of.append(ident)
            at_target[ident].append(position)
            value = text
            ident = text_ids.get(value)
            if ident is None:
                ident = text_ids[value] = len(texts)
                texts.append(value)
                at_text.append(array("I"))
            text_of.append(ident)
            at_text[ident].append(position)
            value = tag
            ident = tag_ids.get(value)
            if ident is None:
                ident = tag_ids[value] = len(tags)
                tags.append(value)
            tag_of.append(ident)
        self._len = position + 1
        # string -> its positions, in page order (in the order the strings first appear)
        self._by_source: dict[str, array[int]] | None = None  # built when first asked for
        self.by_target: dict[str, array[int]] = dict(zip(targets, at_target, strict=True))
        self.by_text: dict[str, array[int]] = dict(zip(texts, at_text, strict=True))
        self.text_positions = at_text  # by text id

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[LinkRef]:
        return self.at(range(self._len))

    def __getitem__(self, position: int) -> LinkRef:
        if not -self._len <= position < self._len:
            raise IndexError(position)
        return self.link(position % self._len)

    def links_from(self, source: str) -> list[LinkRef]:
        """The links on page `source`, in page order (`SiteFacts.links_from`)."""
        return list(self.from_source(source))

    @property
    def by_source(self) -> dict[str, array[int]]:
        """Source page -> the positions of its links, in page order."""
        if self._by_source is None:
            at_source: list[array[int]] = [array("I") for _ in self.sources]
            for position, ident in enumerate(self.source_of):
                at_source[ident].append(position)
            self._by_source = dict(zip(self.sources, at_source, strict=True))
        return self._by_source

    def link(self, position: int) -> LinkRef:
        """The link at `position` (an equal copy of facts.links[position])."""
        return LinkRef(self.sources[self.source_of[position]], self.targets[self.target_of[position]],
                       self.texts[self.text_of[position]], self.tags[self.tag_of[position]])

    def at(self, positions: Iterable[int]) -> Iterator[LinkRef]:
        """The links at `positions`, in that order."""
        sources, targets, texts, tags = self.sources, self.targets, self.texts, self.tags
        source_of, target_of, text_of, tag_of = self.source_of, self.target_of, self.text_of, self.tag_of
        for i in positions:
            yield LinkRef(sources[source_of[i]], targets[target_of[i]], texts[text_of[i]], tags[tag_of[i]])

    @staticmethod
    def merged(*groups: Iterable[array[int]]) -> list[int]:
        """The positions of several groups (of any kind), each once, in page order."""
        out: set[int] = set()
        for group in groups:
            for positions in group:
                out.update(positions)
        return sorted(out)

    def with_texts(self, texts: Iterable[str]) -> Iterator[LinkRef]:
        """The links carrying one of `texts`, in page order."""
        return self.at(self.merged(self.by_text[t] for t in texts if t in self.by_text))

    def with_targets(self, targets: Iterable[str]) -> Iterator[LinkRef]:
        """The links pointing at one of `targets` (exactly as written), in page order."""
        return self.at(self.merged(self.by_target[t] for t in targets if t in self.by_target))

    def from_source(self, source: str) -> Iterator[LinkRef]:
        """The links on page `source`, in page order (what `links_by_source(facts)[source]` holds)."""
        return self.at(self.by_source.get(source, ()))


def link_index(facts: SiteFacts) -> LinkIndex:
    """The `LinkIndex` of facts.links, built once per run; it then takes the place of facts.links.

    The index holds every link (it is a sequence of `LinkRef` in the same order), so the table it was
    built from is let go: at 10,000 pages that is 15 MB less at the audit's peak (issue 6)."""
    if isinstance(facts.links, LinkIndex):
        return facts.links
    take_rows = getattr(facts.links, "take_unread_rows", None)  # a stored LinkTable not read yet
    rows = take_rows() if take_rows is not None else None
    index = LinkIndex(rows=rows) if rows is not None else LinkIndex(facts.links)
    facts.links = index  # type: ignore[assignment]  # a read-only sequence of LinkRef, as checks use it
    return index


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
    memo = facts.__dict__.get("_page_specific_title")
    if memo is None:
        memo = facts.__dict__["_page_specific_title"] = {}
    cached = memo.get(title)
    if cached is None:
        cached = memo[title] = _page_specific_title(facts, title)
    return cached


def _page_specific_title(facts: SiteFacts, title: str) -> str:
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
