"""Text normalisation and keyword matching shared by the disclosure, services and title checks.

Why one place: domain/README.md §2 asks that link texts, headings and titles be matched with
full-width/half-width characters and 臺/台 normalised. The folding itself (`norm`, `contains_any`,
`KeywordGroups`) lives in checks/computed/text.py, which crawler/'s accessibility sampling uses too;
it is re-exported here for the checks. Also holds the data-file loader,
the character-bigram similarity used by `title-mismatch` and `dc-title-mismatch`, link liveness
(`dead_reason`: evidence must be verified live, `UNVERIFIED` otherwise; `reason_text` words each
reason in zh-TW and English), order-independent evidence caps (`Smallest`, `page_order`,
`link_order`: issue 16 item 7) and the `LinkIndex` that lets checks decide once per distinct link
text or target and visit only the links that matter (issue 6, docs/performance.md).
"""

from __future__ import annotations

import csv
import heapq
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, lru_cache
from itertools import chain, compress
from pathlib import Path
from typing import Any

import yaml

from checks.computed.text import (  # the folding lives there (crawler/ uses it too); the checks import it here
    MEMO_SIZE,
    norm_loose,
)
from checks.computed.text import KeywordGroups as KeywordGroups
from checks.computed.text import contains_any as contains_any
from checks.computed.text import norm as norm
from checks.computed.urls import BROKEN_ERRORS, result_of
from checks.facts import LinkRef, SiteFacts, defrag, url_scheme

DATA_DIR = Path(__file__).resolve().parent / "data"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def facts_memo(facts: SiteFacts, name: str, limit: int = MEMO_SIZE) -> dict[Any, Any]:
    """A memo kept on the facts object (checks never mutate facts), started afresh when full."""
    memo = facts.__dict__.get(name)
    if memo is None or len(memo) >= limit:
        memo = facts.__dict__[name] = {}
    return memo


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


@lru_cache(maxsize=MEMO_SIZE)  # a target's title is compared with every link text pointing at it
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
    item linked from the section whose target is broken is not "found"). Evidence must be verified
    live (issue 16 item 2): a target is live only when it was requested and answered 2xx/3xx, or is
    a crawled page that was served; a target never requested (trap, robots, `--external skip`'s
    `not-checked`, no result at all) or answered in a way that says nothing about the site (401,
    403, 429, a WAF challenge: checks/links.py `verdict` calls these `unverified-link`) gives
    `UNVERIFIED`. Callers must treat `UNVERIFIED` as neither found nor dead. Reason codes and their
    zh/en wording: `reason_text`.

    Everything but "is this the page itself" depends on the target alone, so it is worked out once
    per distinct target (cached on the facts object: a menu link recurs on every page, issue 6).
    """
    memo = facts_memo(facts, "_dead_target")
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
    return base, fragment, _liveness(facts, base)


def _liveness(facts: SiteFacts, base: str) -> str | None:
    """None when `base` (no fragment) was verified live, else its dead reason or UNVERIFIED."""
    page = facts.page(base)
    page_served = page is not None and (page.status is None or page.status < 400)
    result = result_of(facts, base)
    if result is not None:
        if result.error:
            if result.error in BROKEN_ERRORS or result.error == "tls":
                return f"error:{result.error}"
            return None if page_served else UNVERIFIED  # robots, not-checked, challenge, too-large…
        status = result.status or 0
        if status in _UNVERIFIED_STATUSES or (status == 503 and (result.retries or result.retry_after)):
            return UNVERIFIED
        if status >= 400:
            return f"http:{status}"
        if result.status is not None:
            return None
    if page is not None:
        return None if page_served else f"http:{page.status}"
    return UNVERIFIED


UNVERIFIED = "unverified"  # the target was never requested, or its answer says nothing about it
_UNVERIFIED_STATUSES = frozenset((401, 403, 429, 999))  # as checks/links.py `verdict`: not broken


@cache
def _reason_phrases() -> dict[str, tuple[str, str]]:
    data = load_yaml("link_reasons.yaml")
    return {str(code): (spec["zh"], spec["en"]) for code, spec in data["reasons"].items()}


def reason_text(reason: str, lang: str = "zh") -> str:
    """A dead/unverified reason code (self, javascript, http:404, error:dns…) as a phrase a reader
    understands, zh-TW or English (data/link_reasons.yaml): never the raw code in a sentence."""
    phrases = _reason_phrases()
    code, _, arg = reason.partition(":")
    zh, en = phrases.get(reason) or phrases.get(f"{code}:*") or phrases["*"]
    return (zh if lang == "zh" else en).format(arg=arg or reason, code=reason)


class Smallest:
    """The `limit` smallest distinct keys seen with their values, in key order: a cap that keeps
    the same entries whatever order they arrive in (issue 16 item 7)."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self.keys: list[Any] = []
        self.values: list[Any] = []

    def add(self, key: Any, value: Any) -> None:
        at = bisect_left(self.keys, key)
        if at >= self.limit or (at < len(self.keys) and self.keys[at] == key):
            return
        self.keys.insert(at, key)
        self.values.insert(at, value)
        if len(self.keys) > self.limit:
            self.keys.pop()
            self.values.pop()

    def __bool__(self) -> bool:
        return bool(self.keys)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def list(self) -> list[Any]:
        return list(self.values)


def page_order(facts: SiteFacts, url: str) -> tuple[int, str]:
    """Where a page sorts, whatever order pages arrived in: click depth (not crawled: last), URL."""
    page = facts.page(url)
    return (page.depth if page is not None else 1 << 30, url)


def link_order(facts: SiteFacts, link: LinkRef) -> tuple[int, str, str, str]:
    """Where a link sorts among evidence, whatever order pages arrived in: the click depth of its
    page (a page not crawled last), then the page, target and text."""
    page = facts.page(link.source)
    return (page.depth if page is not None else 1 << 30, link.source, link.target, link.text)


COMMON_FRAGMENTS = 32  # fragment ids (0 = none) whose (fragment, base) pairs are told apart with a byte per base


class TargetPositions(Mapping[str, list[int]]):
    """`LinkIndex.by_target`: each distinct link target exactly as written -> its positions, in the
    order the targets first appear, without holding one string and one list per distinct target.

    Most distinct targets of a site are a page's links into itself (`…/page.html#main`, `#C`, `#top`:
    five per page on a typical template, 500,000 at 100,000 pages); here a target is its part before
    `#` (shared by every spelling) and a fragment id, and its string is made when it is asked for.
    Positions are found by one scan of the links (`LinkIndex.positions`): ask for many targets at once."""

    __slots__ = ("_index",)

    def __init__(self, index: LinkIndex) -> None:
        self._index = index

    def __iter__(self) -> Iterator[str]:
        index = self._index
        return map(index.target_at, compress(range(len(index)), index.first_of_target))

    def __len__(self) -> int:
        return self._index.first_of_target.count(1)

    def __getitem__(self, target: str) -> list[int]:
        if target not in self:
            raise KeyError(target)
        return list(self._index.positions(targets=(target,)))

    def __contains__(self, target: object) -> bool:
        return isinstance(target, str) and self._index.target_ids(target) is not None


class TextPositions(Mapping[str, list[int]]):
    """`LinkIndex.by_text`: each distinct link text -> its positions, in the order the texts first appear."""

    __slots__ = ("_index",)

    def __init__(self, index: LinkIndex) -> None:
        self._index = index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.texts)

    def __len__(self) -> int:
        return len(self._index.texts)

    def __getitem__(self, text: str) -> list[int]:
        if text not in self:
            raise KeyError(text)
        return list(self._index.positions(texts=(text,)))

    def __contains__(self, text: object) -> bool:
        return text in self._index.text_ids


class LinkIndex:
    """The links of a site as small integers: which distinct target, text, tag and page each is.

    A 10,000-page site has ~500,000 links but a few tens of thousands of distinct targets and a few
    thousand distinct texts: menus and footers repeat on every page. A check decides once per
    distinct text or target, then visits only the links that matter, in their original order, so
    every evidence list, first page and cap comes out as a full pass would make it (issue 6).

    Memory (issue 6: < 600 MB at 100,000 pages, 5 million links): per link a target base id, a text
    id, a one-byte fragment id (wider past 255 fragments) and tag id, and a byte marking the first
    link to each distinct target; a page's links are stored together, so the source is one entry per
    run of links. Where a text or target occurs is not stored: `positions` finds it with one scan of
    the ids at C speed (`itertools.compress`), for all the texts and targets a check wants at once.
    The strings are held once (a page URL is a source and a base: one object)."""

    def __init__(self, links: Iterable[LinkRef] = (), rows: Iterable[tuple[str, str, str, str]] | None = None) -> None:
        """Index `links`, or `rows` of (source, target, text, tag) read straight from the store."""
        self.sources: list[str] = []
        self.bases: list[str] = []
        self.fragments: list[str] = [""]  # id 0: no "#" at all ("" after a "#" has an id of its own)
        self.texts: list[str] = []
        self.tags: list[str] = []
        self.base_of, self.text_of = array("I"), array("I")
        self.frag_of, self.tag_of = array("B"), array("B")  # a site links to a few fragments: "I" past 255
        self.run_start, self.run_source = array("I"), array("I")  # runs of links from one source
        self.first_of_target = bytearray()  # 1 at the first link to each distinct target
        sources, bases, fragments, texts, tags = self.sources, self.bases, self.fragments, self.texts, self.tags
        base_of, frag_of, text_of, tag_of = self.base_of, self.frag_of, self.text_of, self.tag_of
        run_start, run_source, first = self.run_start, self.run_source, self.first_of_target
        strings: dict[str, str] = {}  # one object per equal URL string (sources and bases)
        source_ids: dict[str, int] = {}
        base_ids: dict[str, int] = {}
        fragment_ids: dict[str, int] = {}
        text_ids: dict[str, int] = {}
        tag_ids: dict[str, int] = {}
        # (fragment, base) pairs linked already: a byte per base for "no fragment" and each of the first
        # fragments (a template's #main, #C, #top… on every page: a set of 500,000 pairs cost 30 MB),
        # a set after them
        fragment_seen: list[bytearray] = [bytearray()]
        rare_fragment_seen: set[int] = set()
        last_source: str | None = None
        position = -1
        if rows is None:
            rows = ((link.source, link.target, link.text, link.tag) for link in links)
        for position, (source, target, text, tag) in enumerate(rows):  # one pass: ~5,000,000 times at 100k
            if source != last_source:
                ident = source_ids.get(source)
                if ident is None:
                    source = strings.setdefault(source, source)
                    ident = source_ids[source] = len(sources)
                    sources.append(source)
                run_start.append(position)
                run_source.append(ident)
                last_source = source
            if "#" in target:
                base, _, fragment = target.partition("#")
                fragment_id = fragment_ids.get(fragment)
                if fragment_id is None:
                    fragment_id = fragment_ids[fragment] = len(fragments)
                    fragments.append(fragment)
            else:
                base, fragment_id = target, 0
            ident = base_ids.get(base)
            if ident is None:
                base = strings.setdefault(base, base)
                ident = base_ids[base] = len(bases)
                bases.append(base)
            base_of.append(ident)
            try:
                frag_of.append(fragment_id)
            except OverflowError:  # the 256th distinct fragment
                frag_of = self.frag_of = array("I", frag_of)
                frag_of.append(fragment_id)
            if fragment_id < COMMON_FRAGMENTS:
                while len(fragment_seen) <= fragment_id:
                    fragment_seen.append(bytearray())
                seen_bases = fragment_seen[fragment_id]
                if len(seen_bases) <= ident:
                    seen_bases.extend(bytes(ident + 1 - len(seen_bases)))
                first.append(0 if seen_bases[ident] else 1)
                seen_bases[ident] = 1
            else:
                pair = fragment_id * 4_294_967_296 + ident
                if pair in rare_fragment_seen:
                    first.append(0)
                else:
                    rare_fragment_seen.add(pair)
                    first.append(1)
            ident = text_ids.get(text)
            if ident is None:
                ident = text_ids[text] = len(texts)
                texts.append(text)
            text_of.append(ident)
            ident = tag_ids.get(tag)
            if ident is None:
                ident = tag_ids[tag] = len(tags)
                tags.append(tag)
                if len(tags) > 256:
                    raise ValueError("more than 256 distinct link tags")  # the extractor knows about ten
            tag_of.append(ident)
        self._len = position + 1
        self.base_ids, self.fragment_ids, self.text_ids = base_ids, fragment_ids, text_ids
        self._fragment_seen, self._rare_fragment_seen = fragment_seen, rare_fragment_seen
        self._source_runs: dict[str, int | list[int]] | None = None  # built when first asked for
        self.by_target = TargetPositions(self)
        self.by_text = TextPositions(self)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[LinkRef]:
        return self.at(range(self._len))

    def __getitem__(self, position: int) -> LinkRef:
        if not -self._len <= position < self._len:
            raise IndexError(position)
        return self.link(position % self._len)

    def target_ids(self, target: str) -> tuple[int, int] | None:
        """(base id, fragment id) of a target some link carries exactly as written, else None."""
        base, sep, fragment = target.partition("#")
        base_id = self.base_ids.get(base)
        fragment_id = self.fragment_ids.get(fragment) if sep else 0
        if base_id is None or fragment_id is None:
            return None
        if fragment_id < COMMON_FRAGMENTS:
            seen = self._fragment_seen[fragment_id] if fragment_id < len(self._fragment_seen) else b""
            linked = base_id < len(seen) and seen[base_id]
        else:
            linked = fragment_id * 4_294_967_296 + base_id in self._rare_fragment_seen
        return (base_id, fragment_id) if linked else None

    def positions(self, *, texts: Iterable[str] = (), targets: Iterable[str] = (),
                  text_ids: Iterable[int] = ()) -> Iterator[int]:
        """Positions, in page order, of the links carrying one of `texts` (or text ids) or pointing at
        one of `targets` (exactly as written): one scan of the text ids and one of the target ids."""
        wanted_texts = {self.text_ids[t] for t in texts if t in self.text_ids}
        wanted_texts.update(text_ids)
        wanted_targets: dict[int, set[int]] = {}
        for target in targets:
            ids = self.target_ids(target)
            if ids is not None:
                wanted_targets.setdefault(ids[0], set()).add(ids[1])
        streams = []
        if wanted_texts:
            streams.append(compress(range(self._len), map(wanted_texts.__contains__, self.text_of)))
        if wanted_targets:
            base_of, frag_of = self.base_of, self.frag_of
            candidates = compress(range(self._len), map(wanted_targets.__contains__, base_of))
            streams.append(p for p in candidates if frag_of[p] in wanted_targets[base_of[p]])
        return streams[0] if len(streams) == 1 else self.merged(*streams)

    def links_from(self, source: str) -> list[LinkRef]:
        """The links on page `source`, in page order (`SiteFacts.links_from`)."""
        return list(self.from_source(source))

    def source_at(self, position: int) -> str:
        """The page the link at `position` is on."""
        return self.sources[self.run_source[bisect_right(self.run_start, position) - 1]]

    def target_at(self, position: int) -> str:
        """The link target at `position`, exactly as written."""
        fragment = self.frag_of[position]
        base = self.bases[self.base_of[position]]
        return base if fragment == 0 else f"{base}#{self.fragments[fragment]}"

    def source_positions(self, source: str) -> Iterator[int]:
        """Positions of the links on page `source`, in page order."""
        if self._source_runs is None:
            runs: dict[str, int | list[int]] = {}
            for run, ident in enumerate(self.run_source):
                value = self.sources[ident]
                known = runs.get(value)
                if known is None:
                    runs[value] = run
                elif isinstance(known, list):
                    known.append(run)
                else:
                    runs[value] = [known, run]
            self._source_runs = runs
        found = self._source_runs.get(source)
        if found is None:
            return iter(())
        starts, count = self.run_start, len(self.run_start)
        return chain.from_iterable(range(starts[r], starts[r + 1] if r + 1 < count else self._len)
                                   for r in (found if isinstance(found, list) else (found,)))

    def link(self, position: int) -> LinkRef:
        """The link at `position` (an equal copy of facts.links[position])."""
        return LinkRef(self.source_at(position), self.target_at(position),
                       self.texts[self.text_of[position]], self.tags[self.tag_of[position]])

    def at(self, positions: Iterable[int]) -> Iterator[LinkRef]:
        """The links at `positions`, in that order."""
        bases, fragments, texts, tags, sources = self.bases, self.fragments, self.texts, self.tags, self.sources
        base_of, frag_of, text_of, tag_of = self.base_of, self.frag_of, self.text_of, self.tag_of
        run_start, run_source = self.run_start, self.run_source
        runs = len(run_start)
        run_begin, run_end, source = 1, 0, ""  # the run of the last position: positions mostly ascend
        for i in positions:
            if not run_begin <= i < run_end:
                run = bisect_right(run_start, i) - 1
                run_begin = run_start[run]
                run_end = run_start[run + 1] if run + 1 < runs else self._len
                source = sources[run_source[run]]
            fragment = frag_of[i]
            base = bases[base_of[i]]
            yield LinkRef(source, base if fragment == 0 else f"{base}#{fragments[fragment]}",
                          texts[text_of[i]], tags[tag_of[i]])

    @staticmethod
    def merged(*streams: Iterable[int]) -> Iterator[int]:
        """Several ascending position streams as one, each position once, in page order: merged as
        streams (a menu text on every page of a 100,000-page site is 100,000 positions, and a set of
        them all cost tens of MB, issue 6)."""
        last = -1
        for position in heapq.merge(*streams):
            if position != last:
                last = position
                yield position

    def with_texts(self, texts: Iterable[str]) -> Iterator[LinkRef]:
        """The links carrying one of `texts`, in page order."""
        return self.at(self.positions(texts=texts))

    def with_targets(self, targets: Iterable[str]) -> Iterator[LinkRef]:
        """The links pointing at one of `targets` (exactly as written), in page order."""
        return self.at(self.positions(targets=targets))

    def from_source(self, source: str) -> Iterator[LinkRef]:
        """The links on page `source`, in page order (what `links_by_source(facts)[source]` holds)."""
        return self.at(self.source_positions(source))


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
    memo = facts_memo(facts, "_page_specific_title")
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

