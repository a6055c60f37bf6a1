"""Content validity over time: stale pages, outdated annual documents, expired notices, DC.Date.

Rules: ../shared/domain/README.md §1 (indicator `disclosure`: "no obvious errors or stale
information … a regular update routine (pages carry update dates that move)"), §4 (dates, evidence
order, annual documents and their grace dates), §3 (DC.Date is often a template constant: weak
evidence, and a site whose every page carries the same DC.Date gets a notice); 政府資訊公開法 §6
(disclosure should be timely, 適時) and §7 I items 5–6 (施政計畫、業務統計、預算及決算書).

Time is an input: every comparison is against `ctx.today`. Limits come from options:
`stale_days` (default 365), `annual_documents` (path to a YAML replacing
data/annual_documents.yaml), `notice_grace_days` (default 0).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.dates import (
    SOURCE_DC,
    LabelFinder,
    TextDate,
    find_dates,
    fold_width,
    gregorian_to_roc,
    label_hits,
    last_update_evidence,
    next_line_head,
    page_text_dates,
    site_dates,
)
from checks.facts import PageFacts, SiteFacts
from checks.textnorm import (
    UNVERIFIED,
    KeywordGroups,
    contains_any,
    dead_reason,
    is_content_link,
    link_index,
    load_yaml,
    load_yaml_path,
    norm,
    page_specific_title,
)

MAX_LISTED = 200
MAX_DOC_TEXT = 80


class AnnualRulesError(ValueError):
    """An `annual_documents` file that cannot be used; the message names the file and the key."""


def served_pages(facts: SiteFacts) -> list[PageFacts]:
    return [p for p in facts.pages if p.status is None or p.status < 400]


def dc_date_constant(facts: SiteFacts) -> tuple[str, int] | None:
    """(value, pages) when two or more pages carry a DC.Date and all carry the same one."""
    values = []
    for page in served_pages(facts):
        value = next((v.strip() for v in page.meta.get("dc.date", []) if v.strip()), None)
        if value is not None:
            values.append(value)
    if len(values) >= 2 and len(set(values)) == 1:
        return values[0], len(values)
    return None


def _stale_days(ctx: AuditContext) -> int:
    value = ctx.option("stale_days", 365)
    try:
        days = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"stale_days 必須是正整數 / stale_days must be a positive integer, got {value!r}") from exc
    if days <= 0:
        raise ValueError(f"stale_days 必須是正整數 / stale_days must be a positive integer, got {value!r}")
    return days


class StalePages(Check):
    """A page whose own last-update date is older than the limit."""

    meta = CheckMeta(
        id="stale-pages", check="staleness",
        rules=("stale-page",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        return list(self.iter_run(facts, ctx))

    def iter_run(self, facts: SiteFacts, ctx: AuditContext) -> Iterator[Finding]:
        limit = _stale_days(ctx)
        constant = dc_date_constant(facts)
        pages = served_pages(facts)
        # each page's text is read once; its labelled dates (a few small shared values) are kept for
        # the site-level pass that tells the site's dates (footer, repeated blocks) from the page's
        memo: dict[tuple[Any, ...], TextDate] = {}
        per_page = [page_text_dates(page, memo) for page in pages]
        site = site_dates(per_page)
        # only the first pages are listed in results.json; the rest are counted (issue 6: 100,000 pages)
        dates: list[dict[str, Any]] = []
        undated: list[str] = []
        dated_count = undated_count = 0
        for page, text_dates in zip(pages, per_page, strict=True):
            evidence = last_update_evidence(page, use_dc_date=constant is None, text_dates=text_dates,
                                            repeated=site.repeated)
            if evidence is None:
                undated_count += 1
                if len(undated) < MAX_LISTED:
                    undated.append(page.url)
                continue
            dated_count += 1
            if len(dates) < MAX_LISTED * 5:
                dates.append({"page": page.url, "date": evidence.date.isoformat(), "source": evidence.source,
                              "label": evidence.label, "region": evidence.region})
            age = (ctx.today - evidence.date).days
            if age > limit:
                weak = evidence.source == SOURCE_DC
                yield Finding.of(
                    "stale-page", severity="notice" if weak else "warning",
                    page=page.url, target=None,
                    detail=f"網頁最後更新日期為 {evidence.date.isoformat()}（{evidence.label}），"
                    f"已 {age} 天未更新，超過 {limit} 天的期限。",
                    detail_en=f"Last updated {evidence.date.isoformat()} ({evidence.label}), {age} days ago; "
                    f"the limit is {limit} days.",
                    evidence={"date": evidence.date.isoformat(), "source": evidence.source,
                              "label": evidence.label, "raw": evidence.raw, "region": evidence.region,
                              "age_days": age, "limit_days": limit},
                )
        summary = ctx.summary.setdefault("staleness", {})
        summary.update({
            "limit_days": limit,
            "pages_with_date": dated_count,
            "pages_without_date": undated_count,
            "undated_pages": undated,
            "dates": dates,
            "dc_date_constant": constant[0] if constant else None,
            "site_dates": site.entries,
            "site_date_min_pages": site.min_pages,
        })


class DcDateConstant(Check):
    """One notice when every page carries the same DC.Date: it is a template value, not a date."""

    meta = CheckMeta(
        id="dc-date-constant", check="staleness",
        rules=("dc-date-constant",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        constant = dc_date_constant(facts)
        if constant is None:
            return []
        value, pages = constant
        return [Finding.of(
            "dc-date-constant",
            page=facts.agency.url, target=None,
            detail=f"全站 {pages} 個網頁的 DC.Date 都是「{value[:40]}」，是範本固定值，未用來判斷更新日期。",
            detail_en=f"All {pages} pages carry the same DC.Date {value[:40]!r}: a template constant, "
            "so it was not used as an update date.",
            evidence={"value": value[:100], "pages": pages},
        )]


# ---------------------------------------------------------------------------------------------
# Annual documents

_YEAR_PATTERNS = (
    re.compile(r"(?:中華)?民國\s*(\d{2,3})\s*年"),
    re.compile(r"(?<!\d)(\d{2,3})\s*年"),
    re.compile(r"(?<![\d.])((?:19|20|21)\d{2})(?!\d)"),
)


def document_year(text: str) -> int | None:
    """The ROC year a document title is about (113年度…, 民國113年…, 2024…), the latest if several."""
    s = unicodedata.normalize("NFKC", text or "")
    years: list[int] = []
    for i, pattern in enumerate(_YEAR_PATTERNS):
        for m in pattern.finditer(s):
            value = int(m.group(1))
            if i == 2:
                value = gregorian_to_roc(value)
            if 60 <= value <= 200:
                years.append(value)
        if years:
            break
    return max(years) if years else None


@dataclass(frozen=True)
class Series:
    id: str
    name: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...]
    expected: str  # current | previous
    grace: tuple[int, int]  # (month, day)

    def expected_year(self, today: date) -> int:
        roc = gregorian_to_roc(today.year)
        if self.expected == "previous":
            roc -= 1
        month, day = self.grace
        if (today.month, today.day) < (month, day):
            roc -= 1
        return roc


def parse_series(data: Any, source: str) -> list[Series]:
    """Validate an annual-documents definition; errors name the file, the entry and the key."""
    if not isinstance(data, dict) or not isinstance(data.get("series"), list):
        raise AnnualRulesError(f"{source}: 需要頂層鍵 series（清單）/ expected a top-level `series` list")
    out: list[Series] = []
    for i, entry in enumerate(data["series"], start=1):
        where = f"{source}: series[{i}]"
        if not isinstance(entry, dict):
            raise AnnualRulesError(f"{where}: 必須是對應表 / must be a mapping")
        for key in ("id", "name", "keywords", "expected", "grace"):
            if key not in entry:
                raise AnnualRulesError(f"{where}: 缺少鍵 {key} / missing key `{key}`")
        if entry["expected"] not in ("current", "previous"):
            raise AnnualRulesError(f"{where}.expected: 必須是 current 或 previous / must be current or previous")
        m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(entry["grace"]).strip())
        try:
            grace = (int(m.group(1)), int(m.group(2))) if m else None
            if grace:
                date(2024, *grace)
        except ValueError:
            grace = None
        if grace is None:
            raise AnnualRulesError(f"{where}.grace: 需要 MM-DD 格式 / expected MM-DD, got {entry['grace']!r}")
        keywords = entry["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords) or not keywords:
            raise AnnualRulesError(f"{where}.keywords: 需要非空字串清單 / expected a non-empty list of strings")
        out.append(Series(str(entry["id"]), str(entry["name"]), tuple(keywords),
                          tuple(entry.get("exclude") or ()), entry["expected"], grace))
    return out


@lru_cache(maxsize=1)
def default_series() -> tuple[Series, ...]:
    return tuple(parse_series(load_yaml("annual_documents.yaml"), "checks/data/annual_documents.yaml"))


def load_series(option: Any) -> list[Series]:
    """The series in force: the option (a YAML path or an already-loaded mapping) or the defaults."""
    if option is None:
        return list(default_series())
    if isinstance(option, dict):
        return parse_series(option, "annual_documents")
    try:
        data = load_yaml_path(option)
    except FileNotFoundError as exc:
        raise AnnualRulesError(f"{option}: 檔案不存在 / file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnualRulesError(f"{option}: 無法讀取 / cannot read: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - yaml raises many error types; report one message
        raise AnnualRulesError(f"{option}: YAML 格式錯誤 / invalid YAML: {exc}") from exc
    return parse_series(data, str(option))


def annual_documents(facts: SiteFacts, series: list[Series]) -> dict[str, list[dict[str, Any]]]:
    """Documents of each series seen on the site: {series id: [{year, url, page, text}]}."""
    found: dict[str, list[dict[str, Any]]] = {s.id: [] for s in series}
    include = KeywordGroups({s.id: s.keywords for s in series})
    exclude = KeywordGroups({s.id: s.exclude for s in series})

    def consider(text: str, url: str, page: str) -> None:
        if not text or len(norm(text)) > MAX_DOC_TEXT:
            return
        hits = include.match(text)
        if not hits:
            return
        excluded = set(exclude.match(text))
        for s in series:
            if s.id in hits and s.id not in excluded:
                year = document_year(text)
                if year is not None:
                    entry = {"year": year, "url": url, "page": page, "text": text[:100]}
                    if entry not in found[s.id]:
                        found[s.id].append(entry)

    for page in served_pages(facts):
        consider(page_specific_title(facts, page.title), page.url, page.url)
        for level, heading in page.headings:
            if level == 1:
                consider(heading, page.url, page.url)
    # each distinct link text is matched once; only the links naming a series are visited, in page
    # order (issue 6: menus repeat on every page)
    index = link_index(facts)
    for link in index.with_texts(t for t in index.by_text if include.match(t)):
        # a link never verified live still names the year published (textnorm.UNVERIFIED): only a
        # dead link is left out, so an unchecked newest year never makes a series look outdated
        if is_content_link(link) and dead_reason(facts, link) in (None, UNVERIFIED):
            consider(link.text, link.target, link.source)
    return found


class OutdatedAnnualDocuments(Check):
    """A series of yearly documents whose latest year is behind the year it should have reached."""

    meta = CheckMeta(
        id="annual-documents", check="staleness",
        rules=("outdated-annual-document",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        series = load_series(ctx.option("annual_documents", None))
        found = annual_documents(facts, series)
        findings: list[Finding] = []
        summary: list[dict[str, Any]] = []
        for s in series:
            docs = found[s.id]
            expected = s.expected_year(ctx.today)
            latest = max((d["year"] for d in docs), default=None)
            summary.append({"series": s.id, "name": s.name, "expected_year": expected,
                            "latest_year_found": latest, "documents": len(docs)})
            if latest is None or latest >= expected:
                continue
            newest = next(d for d in docs if d["year"] == latest)
            findings.append(Finding.of(
                "outdated-annual-document",
                page=newest["page"], target=newest["url"] if newest["url"] != newest["page"] else None,
                detail=f"「{s.name}」最新只找到 {latest} 年度，依 {ctx.today.isoformat()} 應已有 {expected} 年度。",
                detail_en=f"Latest '{s.name}' found is for ROC year {latest}; by {ctx.today.isoformat()} "
                f"year {expected} is expected.",
                evidence={"document": s.name, "series": s.id, "expected_year": expected,
                          "latest_year_found": latest, "latest_text": newest["text"]},
            ))
        ctx.summary.setdefault("staleness", {})["annual_documents"] = summary
        return findings


# ---------------------------------------------------------------------------------------------
# Expired notices


_OPEN_START = re.compile(r"(至|迄|~|到)\s*$")


@lru_cache(maxsize=1)
def _notice_spec() -> tuple[re.Pattern[str], set[str], tuple[str, ...]]:
    data = load_yaml("date_labels.yaml")
    labels = data["notice_end_labels"]
    period = set(labels["period"])
    all_labels = sorted([*labels["period"], *labels["deadline"]], key=len, reverse=True)
    pattern = re.compile("(" + "|".join(re.escape(label) for label in all_labels) + ")")
    return pattern, period, tuple(data.get("archive_markers") or ())


@lru_cache(maxsize=1)
def _notice_finder() -> LabelFinder:
    data = load_yaml("date_labels.yaml")["notice_end_labels"]
    return LabelFinder(_notice_spec()[0], (*data["period"], *data["deadline"]))


_BLANK_REST = re.compile(r"[\s:：]")


def notice_end_dates(text: str) -> list[tuple[str, date]]:
    """(label, end date) for every stated end of a notice period in `text`.

    Only the lines holding a label are folded (`checks.dates.label_hits`).
    """
    _, period, _ = _notice_spec()
    s = text or ""
    out: list[tuple[str, date]] = []
    for hit in label_hits(s, _notice_finder()):
        label = hit.label
        rest = hit.line[hit.label_end:hit.label_end + 80]
        if not _BLANK_REST.sub("", rest) and hit.has_next:
            rest = fold_width(next_line_head(s, hit.line_end, 80))
        found = find_dates(rest, compact=True)
        if not found or found[0].start > 6:
            continue
        if label in period:
            if len(found) >= 2:
                out.append((label, found[1].date))
            elif _OPEN_START.search(rest[: found[0].start]):
                out.append((label, found[0].date))  # 即日起至 113-05-31: only the end is written
        else:
            out.append((label, found[0].date))
    return out


class ExpiredNotices(Check):
    """A notice still listed on the site after the end date it states itself."""

    meta = CheckMeta(
        id="expired-notices", check="staleness",
        rules=("expired-notice",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        _, _, archive = _notice_spec()
        grace = timedelta(days=int(ctx.option("notice_grace_days", 0) or 0))
        findings: list[Finding] = []
        for page in served_pages(facts):
            where = [page.url, page.title, *(t for lvl, t in page.headings if lvl <= 2)]
            if any(contains_any(text, archive) for text in where):
                continue
            ends = notice_end_dates(page.text)
            expired = [(label, end) for label, end in ends if end + grace < ctx.today]
            if not expired:
                continue
            label, end = max(expired, key=lambda item: item[1])
            findings.append(Finding.of(
                "expired-notice",
                page=page.url, target=None,
                detail=f"公告的{label}已於 {end.isoformat()} 結束，但仍刊登在網站上。",
                detail_en=f"The notice's {label} ended on {end.isoformat()}, yet it is still listed.",
                evidence={"end_date": end.isoformat(), "label": label, "expired": len(expired),
                          "notices": len(ends)},
            ))
        return findings
