"""Dates as Taiwanese government pages write them, and a page's last-update date with its source.

Rule: ../shared/domain/README.md §4. ROC year = Gregorian − 1911. Forms read (after NFKC, so
full-width digits and colons work too): `113-05-20`, `113/05/12`, `113.5.20`, `民國 111 年 12 月 02 日`,
`中華民國112年4月26日`, `99年1月5日` (two-digit ROC year), compact `1130512` (only right after a
label or as a whole value), Gregorian `2016/11/01`, `2024-05-12`, `2024年5月12日`, compact `20201231`
(whole values only). Years with 2–3 digits are ROC years, 4 digits Gregorian.

Evidence order for a page's last update (§4): a labelled date in the page's own content (label
ranks in data/date_labels.yaml) > page-specific meta (`article:modified_time`…) > HTTP Last-Modified >
DC.Date (weak: often a template constant). `page_last_update` says which source was used.

Content versus chrome (issue 16): a footer's 更新日期 is the site's date, not the page's. The
extractor records the region of each text line (PageFacts.text_regions, markers in
data/page_regions.yaml); a labelled date in the chrome, in an attachment row (files: a file's date),
or a block (label, date as written) repeated on more than half of the site's served pages (at least
2) is never a page's date; content lines are preferred to unmarked ones, then the label rank, then
the most recent date. A page whose text carries only such dates (勞動部 home pages: only the footer
date) is undated by its text and falls to meta, HTTP Last-Modified and DC.Date; the footer dates are
reported as the site's (`staleness.site_dates`).

This module is a library, not a check: it defines no Check subclass.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from checks.facts import PageFacts
from checks.textnorm import load_yaml

ROC_OFFSET = 1911
# Supported range: ROC years 1..199 (1912..2110); Gregorian years 1900..2199.
MIN_ROC_YEAR, MAX_ROC_YEAR = 1, 199
MIN_GREGORIAN_YEAR, MAX_GREGORIAN_YEAR = 1900, 2199
TAIPEI = timezone(timedelta(hours=8))
MAX_SCAN_CHARS = 200_000  # texts are bounded by the extractor; bound again for direct callers

SOURCE_TEXT = "text"
SOURCE_META = "meta"
SOURCE_HTTP = "http"
SOURCE_DC = "dc.date"


def roc_to_gregorian(roc_year: int) -> int:
    """ROC (民國) year → Gregorian year."""
    return roc_year + ROC_OFFSET


def gregorian_to_roc(year: int) -> int:
    """Gregorian year → ROC (民國) year."""
    return year - ROC_OFFSET


def format_roc(d: date, sep: str = "-") -> str:
    """`d` as an ROC date string (`113-05-20`), the form most government pages use."""
    return f"{gregorian_to_roc(d.year)}{sep}{d.month:02d}{sep}{d.day:02d}"


# ---------------------------------------------------------------------------------------------
# Patterns. Order matters only for overlapping matches: the earliest start wins, then the longest.

_ROC_CJK = re.compile(
    r"(?:中華)?民國\s*(?P<y>\d{1,3})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?"
)
_YMD_CJK = re.compile(r"(?<!\d)(?P<y>\d{2,4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_SEPARATED = re.compile(
    r"(?<!\d)(?<!\d[./-])(?P<y>\d{2,4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?!\d)(?![-/.]\d)"
)
_COMPACT_ROC = re.compile(r"(?<!\d)(?P<y>\d{3})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_COMPACT_GREGORIAN = re.compile(r"(?<!\d)(?P<y>(?:19|20|21)\d{2})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_TIME_TAIL = re.compile(  # 上午/下午 (a.m./p.m.): the .NET zh-TW form `2018/6/29 下午 05:19:22`
    r"^(?:[T\s]*(?:[上下]午\s*)?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*"
    r"(?:[(（]?(?:星期|週|周)?[一二三四五六日天][)）]?)?\s*$"
)


@dataclass(frozen=True)
class FoundDate:
    """One date found in a text: the value, where it was, and which calendar it was written in."""

    date: date
    start: int
    end: int
    raw: str
    calendar: str  # roc | gregorian


def _build(y: str, m: str, d: str, *, roc: bool | None = None) -> tuple[date, str] | None:
    year = int(y)
    is_roc = (len(y) <= 3) if roc is None else roc
    if is_roc:
        if not MIN_ROC_YEAR <= year <= MAX_ROC_YEAR:
            return None
        year = roc_to_gregorian(year)
    elif not MIN_GREGORIAN_YEAR <= year <= MAX_GREGORIAN_YEAR:
        return None
    try:
        return date(year, int(m), int(d)), "roc" if is_roc else "gregorian"
    except ValueError:
        return None


# Full-width ASCII (Ｕ+FF01–FF5E) and the ideographic space, the only compatibility characters dates
# are written with (１１３年５月２０日, 更新日期：113/05/20). A 1:1 table keeps offsets, and is about
# ten times faster than NFKC over a whole page of Chinese text.
_FOLD_TABLE = {0x3000: " ", **{code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}}


def fold_width(text: str) -> str:
    """Full-width ASCII to ASCII (what NFKC does to them), character for character."""
    return text.translate(_FOLD_TABLE)


def is_fold_invariant(label: str) -> bool:
    """True when `label` can be searched for in unfolded text with the same result as in folded
    text: it holds no character that folding changes and none that folding produces (ASCII,
    space), and no line break. Labels of data/date_labels.yaml must be (tests/checks/test_dates.py)."""
    return all(
        ch != "\n" and fold_width(ch) == ch and not ("\x20" <= ch <= "\x7e") for ch in label
    )


class LabelFinder:
    """The matches of an alternation of literal labels, found with a few fast literal scans.

    `pattern.finditer` over an alternation is scanned character by character (about 60 ns per
    character of Chinese text: seconds over a 10,000-page site). Here every label is covered by one
    of a few anchor characters, and for each anchor one expression starting with that literal
    character (which the regular-expression engine skips to at memchr speed) confirms, around each
    occurrence, that a label covered by it is really there. Only at those few places is `pattern`
    tried, left to right, skipping overlaps: exactly the matches `pattern.finditer` yields (issue 6).
    `pattern` must match nothing but the given labels (an optional look-behind aside).
    """

    def __init__(self, pattern: re.Pattern[str], labels: list[str] | tuple[str, ...]) -> None:
        if not labels or not all(labels):
            raise ValueError("LabelFinder needs non-empty labels")
        self.pattern = pattern
        uncovered = set(labels)
        groups: dict[str, set[str]] = {}
        while uncovered:  # greedy cover: the character shared by most remaining labels
            counts: dict[str, int] = {}
            for label in uncovered:
                for ch in set(label):
                    counts[ch] = counts.get(ch, 0) + 1
            best = min(counts, key=lambda ch: (-counts[ch], ch))
            groups[best] = {label for label in uncovered if best in label}
            uncovered -= groups[best]
        self.scanners: list[tuple[re.Pattern[str], tuple[int, ...]]] = []
        for anchor, group in sorted(groups.items()):
            alternatives, offsets = [], set()
            for label in sorted(group):
                at = label.index(anchor)
                offsets.add(at)
                behind = f"(?<={re.escape(label[: at + 1])})" if at else ""
                ahead = f"(?={re.escape(label[at + 1 :])})" if label[at + 1 :] else ""
                alternatives.append(behind + ahead)
            scanner = re.compile(re.escape(anchor) + "(?:" + "|".join(alternatives) + ")")
            self.scanners.append((scanner, tuple(sorted(offsets))))

    def finditer(self, text: str) -> list[re.Match[str]]:
        """What `list(self.pattern.finditer(text))` returns."""
        starts: set[int] = set()
        for scanner, offsets in self.scanners:
            for m in scanner.finditer(text):
                at = m.start()
                for offset in offsets:
                    if at >= offset:
                        starts.add(at - offset)
        out: list[re.Match[str]] = []
        last_end = 0
        match = self.pattern.match
        for start in sorted(starts):
            if start < last_end:
                continue
            m = match(text, start)
            if m is not None:
                out.append(m)
                last_end = m.end()
        return out


def line_bounds(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """(line start, line end, whether a next line follows) of the line holding text[start:end]."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    if line_end == -1:
        return line_start, len(text), False
    return line_start, line_end, True


def next_line_head(text: str, line_end: int, width: int) -> str:
    """The first `width` characters of the line after the one ending at `line_end`."""
    return text[line_end + 1 : line_end + 1 + width].split("\n", 1)[0]


@dataclass(frozen=True, slots=True)
class LabelHit:
    """One label found in a text, with the line holding it folded to ASCII width."""

    label: str
    line: str  # the folded line holding the label
    label_end: int  # offset just after the label in `line`
    line_end: int  # offset of the line's end in the text
    has_next: bool  # whether a next line follows
    line_start: int = 0  # offset of the line's start in the text


def label_hits(text: str, finder: LabelFinder) -> Iterator[LabelHit]:
    """Each label `finder` finds in `text`, in order, with its line folded (each line once).

    Labels are fold-invariant (tests/checks/test_dates.py), so they are found in the text as it is and only
    the lines holding one are folded: folding every page's whole text cost seconds (issue 6)."""
    folded: dict[int, str] = {}  # line start -> the folded line
    for m in finder.finditer(text):
        start, end, has_next = line_bounds(text, m.start(), m.end())
        line = folded.get(start)
        if line is None:
            line = folded[start] = fold_width(text[start:end])
        yield LabelHit(m.group(1), line, m.end() - start, end, has_next, start)


def _normalise(text: str) -> str:
    # offsets returned by find_dates refer to this normalised text
    return fold_width(text[:MAX_SCAN_CHARS])


def find_dates(text: str, *, compact: bool = False) -> list[FoundDate]:
    """Every date in `text`, left to right, non-overlapping. Compact forms only when asked:
    in running text a bare `1130512` is as likely a phone or case number as a date."""
    if not text:
        return []
    s = _normalise(text)
    patterns: list[tuple[re.Pattern[str], bool | None]] = [
        (_ROC_CJK, True),
        (_YMD_CJK, None),
        (_SEPARATED, None),
    ]
    if compact:
        patterns += [(_COMPACT_GREGORIAN, False), (_COMPACT_ROC, True)]
    candidates: list[FoundDate] = []
    for pattern, roc in patterns:
        for m in pattern.finditer(s):
            built = _build(m.group("y"), m.group("m"), m.group("d"), roc=roc)
            if built:
                candidates.append(FoundDate(built[0], m.start(), m.end(), m.group(0), built[1]))
    candidates.sort(key=lambda f: (f.start, -(f.end - f.start)))
    out: list[FoundDate] = []
    last_end = -1
    for found in candidates:
        if found.start >= last_end:
            out.append(found)
            last_end = found.end
    return out


def parse_date(value: str | None) -> date | None:
    """`value` read as one date (an optional time of day may follow), else None.

    Used for whole values such as DC.Date: `2017/10/12`, `20080910`, `113-05-20`,
    `2024-05-12T10:30:00+08:00`. Text that merely contains a date is not a date.
    """
    if not value:
        return None
    s = _normalise(value).strip()
    if not s or len(s) > 80:
        return None
    found = find_dates(s, compact=True)
    if not found or found[0].start != 0:
        return None
    if not _TIME_TAIL.match(s[found[0].end :]):
        return None
    return found[0].date


def parse_http_date(value: str | None) -> date | None:
    """An HTTP date (RFC 9110 IMF-fixdate, e.g. Last-Modified) as a Taipei calendar date."""
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except Exception:  # noqa: BLE001 - the stdlib parser raises several types on junk headers
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(TAIPEI).date()
    except (OverflowError, ValueError):
        return None


def parse_meta_date(value: str | None) -> date | None:
    """A date in a meta tag: ISO 8601 date-times first, then every form `parse_date` reads."""
    if not value:
        return None
    s = value.strip()
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return parse_date(s)
    if dt.tzinfo is not None:
        return dt.astimezone(TAIPEI).date()
    return dt.date()


# ---------------------------------------------------------------------------------------------
# Labelled dates in a page's visible text


@dataclass(frozen=True)
class LabelledDate:
    label: str
    rank: int  # 1 update, 2 publication, 3 bare 日期 (data/date_labels.yaml)
    date: date
    raw: str
    line: int = 0  # the line of the text holding the label (0-based)


@lru_cache(maxsize=1)
def _label_data() -> tuple[re.Pattern[str], dict[str, int], tuple[str, ...]]:
    data = load_yaml("date_labels.yaml")
    ranks = {entry["label"]: int(entry["rank"]) for entry in data["labels"]}
    alternatives = []
    for label in sorted(ranks, key=len, reverse=True):
        if ranks[label] >= 3:
            # a bare 日期 must not be the tail of another word (截止日期, 出生日期, 活動日期)
            alternatives.append(rf"(?<![\u3400-\u9fff]){re.escape(label)}")
        else:
            alternatives.append(re.escape(label))
    pattern = re.compile("(" + "|".join(alternatives) + ")")
    return pattern, ranks, tuple(data.get("page_meta") or ())


@lru_cache(maxsize=1)
def _label_finder() -> LabelFinder:
    pattern, ranks, _ = _label_data()
    return LabelFinder(pattern, tuple(ranks))


# after a label: a colon, or a slash (`更新日期 / 110年12月5日`, HywebU00__2022Taichung footer), and a short
# note in brackets
_AFTER_LABEL = re.compile(r"[ \t]*[:：/]?[ \t]*(?:[(（][^)）]{0,6}[)）])?[ \t]*[:：/]?[ \t]*")


def labelled_dates(text: str) -> list[LabelledDate]:
    """Dates introduced by a label (更新日期：113-05-20) in `text`, in reading order.

    The date must follow the label on the same line, or, when the line ends with the label and a
    colon (a <dt>/<dd> layout), start the next line. A label heading a table column (發布日期 with
    the dates in the rows below) is therefore not read as the page's own date.

    Only the lines holding a label are folded (`label_hits`): a page's text is never copied whole.
    """
    if not text:
        return []
    _, ranks, _ = _label_data()
    s = text[:MAX_SCAN_CHARS]
    out: list[LabelledDate] = []
    counted_to = line_no = 0  # line numbers counted incrementally: the text is scanned once
    for hit in label_hits(s, _label_finder()):
        line_no += s.count("\n", counted_to, hit.line_start)
        counted_to = hit.line_start
        line, label, label_end = hit.line, hit.label, hit.label_end
        rest_start = _AFTER_LABEL.match(line, label_end).end()
        rest = line[rest_start:]
        found = find_dates(rest[:40], compact=True)
        if found and found[0].start == 0:
            out.append(LabelledDate(label, ranks[label], found[0].date, found[0].raw, line_no))
            continue
        if not rest.strip() and line[label_end:rest_start].strip() and hit.has_next:
            following = find_dates(next_line_head(s, hit.line_end, 40), compact=True)
            if following and following[0].start == 0:
                out.append(LabelledDate(label, ranks[label], following[0].date, following[0].raw, line_no))
    return out


# ---------------------------------------------------------------------------------------------
# Regions: the page's own content versus the site's chrome (issue 16)
#
# The extractor records which region each line of a page's text was read in (PageFacts.text_regions:
# content, chrome, files; lines in no run are unmarked). A date in the chrome (the footer's 更新日期,
# a site-wide `div.UpdateTime`) is the site's, never the page's: it is reported as a site date. A date
# in an attachment row (files) is the file's. A labelled date that repeats, same label and same text,
# on most of a site's pages (REPEAT_SHARE of the served pages, at least REPEAT_MIN_PAGES) is a
# template block even where no marker says so: a site date too. Everything else is the page's own.

REGION_CONTENT = "content"
REGION_CHROME = "chrome"
REGION_FILES = "files"
REGION_UNMARKED = "unmarked"
REGION_REPEATED = "repeated"  # a site date found by repetition (in content or unmarked lines)
REPEAT_MIN_PAGES = 2
PAGE_REGIONS = (REGION_CONTENT, REGION_UNMARKED)  # where a page's own date may be, preferred first
MAX_SITE_DATES = 20


@dataclass(frozen=True, slots=True)
class TextDate:
    """A labelled date of a page's text with the region of the line it was read on."""

    label: str
    rank: int
    date: date
    raw: str
    region: str  # content | chrome | files | unmarked

    @property
    def block(self) -> tuple[str, str]:
        """What repeats when a template prints it on every page: the label and the date as written."""
        return self.label, self.raw


def line_region(runs: list[list[Any]] | None, line: int) -> str:
    """The region of `line` in the runs `[first, end, region]` the extractor recorded."""
    if not runs:
        return REGION_UNMARKED
    at = bisect_right([run[0] for run in runs], line) - 1
    if at >= 0 and runs[at][0] <= line < runs[at][1]:
        return str(runs[at][2])
    return REGION_UNMARKED


def page_text_dates(page: PageFacts, memo: dict[tuple[Any, ...], TextDate] | None = None) -> tuple[TextDate, ...]:
    """The labelled dates of `page`'s text with their regions, in reading order.

    `memo` shares equal values across pages (a footer date is the same object on every page)."""
    runs = getattr(page, "text_regions", None) or []
    out: list[TextDate] = []
    text_dates = labelled_dates(page.text)
    in_text = {(item.line, item.label) for item in text_dates}  # a `<dt>更新日期：</dt>` is read in the text too
    pairs = [d for d in _pair_dates(getattr(page, "label_values", None) or []) if (d.line, d.label) not in in_text]
    for item in [*text_dates, *pairs]:
        key = (item.label, item.rank, item.date, item.raw, line_region(runs, item.line))
        value = memo.get(key) if memo is not None else None
        if value is None:
            value = TextDate(*key)
            if memo is not None:
                memo[key] = value
        out.append(value)
    return tuple(out)


def _pair_dates(pairs: list[dict[str, Any]]) -> list[LabelledDate]:
    """Dates the markup pairs with their label (PageFacts.label_values): `<dt>發布日期</dt><dd>112-04-04</dd>`
    (HywebU00__2023_NHI/cp01.html) and `<time title="發布日期">111-2-24</time>`
    (HywebU00__2022_roads/pages_archive/cp.html). A value is read only when it is a date as a whole."""
    _, ranks, _ = _label_data()
    out: list[LabelledDate] = []
    for pair in pairs:
        label = (pair.get("label") or "").rstrip(":：").strip()
        if label not in ranks:
            continue
        for value in (pair.get("value"), pair.get("datetime")):
            parsed = parse_meta_date(value) if value else None
            if parsed:
                out.append(LabelledDate(label, ranks[label], parsed, str(value), int(pair.get("line", 0))))
                break
    return out


def repeat_min_pages(pages: int) -> int:
    """Pages a block must be on to be a template block: more than half of them, and at least 2."""
    return max(REPEAT_MIN_PAGES, pages // 2 + 1)


@dataclass
class SiteDates:
    """The site-level reading of every page's labelled dates."""

    repeated: frozenset[tuple[str, str]]  # (label, raw) blocks on most pages
    min_pages: int
    entries: list[dict[str, Any]]  # the site dates, for the staleness summary


def site_dates(per_page: list[tuple[TextDate, ...]]) -> SiteDates:
    """Site dates over the labelled dates of each served page (`page_text_dates`, one item a page)."""
    min_pages = repeat_min_pages(len(per_page))
    seen: dict[tuple[str, str], int] = {}
    for dates in per_page:
        for block in {d.block for d in dates if d.region != REGION_FILES}:
            seen[block] = seen.get(block, 0) + 1
    repeated = frozenset(block for block, pages in seen.items() if pages >= min_pages)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for dates in per_page:
        on_page: set[tuple[str, str]] = set()
        for d in dates:
            if d.region == REGION_CHROME or (d.region in PAGE_REGIONS and d.block in repeated):
                entry = found.setdefault(d.block, {"label": d.label, "date": d.date.isoformat(), "raw": d.raw,
                                                   "region": REGION_REPEATED, "pages": 0})
                if d.region == REGION_CHROME:
                    entry["region"] = REGION_CHROME
                if d.block not in on_page:
                    on_page.add(d.block)
                    entry["pages"] += 1
    entries = sorted(found.values(), key=lambda e: (-e["pages"], e["date"], e["label"], e["raw"]))
    return SiteDates(repeated, min_pages, entries[:MAX_SITE_DATES])


def own_text_date(dates: tuple[TextDate, ...], repeated: frozenset[tuple[str, str]] = frozenset()) -> TextDate | None:
    """The page's own labelled date: content lines before unmarked ones, then the best label rank,
    then the most recent date; chrome, attachment rows and repeated blocks never count."""
    for region in PAGE_REGIONS:
        candidates = [d for d in dates if d.region == region and d.block not in repeated]
        if candidates:
            best_rank = min(d.rank for d in candidates)
            return max((d for d in candidates if d.rank == best_rank), key=lambda d: d.date)
    return None


# ---------------------------------------------------------------------------------------------
# A page's last update


@dataclass(frozen=True)
class DateEvidence:
    date: date
    source: str  # text | meta | http | dc.date
    label: str  # the text label, meta name or header the date came from
    raw: str
    region: str | None = None  # for a text date: the region it was read in (content | unmarked)


def last_update_evidence(page: PageFacts, *, use_dc_date: bool = True,
                         text_dates: tuple[TextDate, ...] | None = None,
                         repeated: frozenset[tuple[str, str]] = frozenset()) -> DateEvidence | None:
    """The best evidence of when `page` was last updated, following the §4 evidence order.

    The text's date is the page's own (`own_text_date`); a page whose text carries only site dates
    (a footer's 更新日期) or file dates is undated by its text and falls to meta, HTTP and DC.Date.
    `text_dates` and `repeated` come from the site-level pass (checks/staleness.py); alone, a page
    is read without the repetition rule."""
    own = own_text_date(page_text_dates(page) if text_dates is None else text_dates, repeated)
    if own is not None:
        return DateEvidence(own.date, SOURCE_TEXT, own.label, own.raw, own.region)
    _, _, meta_names = _label_data()
    for name in meta_names:
        for value in page.meta.get(name, []):
            parsed = parse_meta_date(value)
            if parsed:
                return DateEvidence(parsed, SOURCE_META, name, value[:100])
    parsed = parse_http_date(page.last_modified)
    if parsed:
        return DateEvidence(parsed, SOURCE_HTTP, "Last-Modified", (page.last_modified or "")[:100])
    if use_dc_date:
        for value in page.meta.get("dc.date", []):
            parsed = parse_date(value)
            if parsed:
                return DateEvidence(parsed, SOURCE_DC, "DC.Date", value[:100])
    return None


def page_last_update(page: PageFacts, *, use_dc_date: bool = True) -> tuple[date, str] | None:
    """(date, source) of the page's last update, or None when the page carries no date at all."""
    evidence = last_update_evidence(page, use_dc_date=use_dc_date)
    return (evidence.date, evidence.source) if evidence else None
