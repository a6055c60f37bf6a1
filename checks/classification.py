"""Classification tags (詮釋資料 / 分類檢索): required meta fields, category codes, DC.Date, DC.Title.

Rule: 行政機關電子資料流通詮釋資料及分類檢索規範 (law.moda.gov.tw FL043379, amended 111-12-02) and
行政機關電子資料流通實施要點 §4: the 15 Dublin Core fields are mandatory; Category.Theme (主題分類),
Category.Cake (施政分類) and Category.Service (服務分類) carry the portal classification
(../shared/domain/README.md §3, codes/dc_meta_fields.csv). Meta names are matched
case-insensitively; `DC.coverage.t.min` + `DC.coverage.t.max` together stand for Coverage.

DC.Identifier is the agency code (機關代碼, domain/README.md §3; realworld INDEX §4): 10 characters,
nine digits and a check letter (310350000Q, 355000000I, 397360000G). The check letter's algorithm is
not documented in our sources (DGPA publishes the codes, not how the letter is derived), so only the
form is validated (`invalid-dc-identifier`): an agency name in its place (勞動部 pages:
`中華民國勞動部`) is reason `agency-name`. When the audit is told the agency's code (`--code`, the
fleet entry's `code`: `Agency.code`), a well-formed DC.Identifier naming another code, and a
DC.Publisher naming another agency (not containing, or contained in, the agency's name and sharing
under half of its character bigrams), mean the template was copied from another agency
(`dc-identifier-mismatch`, `dc-publisher-mismatch`; seen on a 勞動部 page carrying the
客家文化發展中心's code).

Codes: every real value fits `^[0-9A-Z][0-9]{2}$`; a Category.Service value must start with one of
the 18 top-level service codes (data/service_category_top_level.csv). The full Theme and Cake tables
are not public in our sources, so official tables supplied by the user (CSV, see
`load_code_table`) take precedence when given via `ctx.option("code_tables", {...})`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.dates import parse_date
from checks.facts import PageFacts, SiteFacts
from checks.textnorm import has_cjk, load_csv, load_yaml, norm_loose, overlap

CATEGORY_FIELDS = ("Category.Theme", "Category.Cake", "Category.Service")
CODE_FORM = re.compile(r"^[0-9A-Z][0-9]{2}$")
AGENCY_CODE = re.compile(r"^([0-9]{9}[A-Z])(?![0-9A-Za-z])")  # a DataID may follow the code (OID+DataID)
_AGENCY_WORDS = re.compile(r"(政府|部|署|局|處|院|會|所|中心|公所|大學|學校|委員會|辦公室)$")
PUBLISHER_MIN_OVERLAP = 0.5
_VALUE_SPLIT = re.compile(r"[,;，；、\s]+")


class CodeTableError(ValueError):
    """A user code table that cannot be used; the message names the file and what is expected."""


@lru_cache(maxsize=1)
def required_fields() -> tuple[str, ...]:
    """The 15 DC fields (Coverage once) and the three Category fields, from dc_meta_fields.csv."""
    fields: list[str] = []
    for row in load_csv("dc_meta_fields.csv"):
        name = row["meta_name"].strip()
        core = row["in_15_DC_core"].strip().lower()
        if name.lower().startswith("dc.coverage"):
            name = "DC.Coverage"
        if (core.startswith("yes") or name in CATEGORY_FIELDS) and name not in fields:
            fields.append(name)
    return tuple(fields)


@lru_cache(maxsize=1)
def service_top_level() -> frozenset[str]:
    return frozenset(row["code"].strip().upper() for row in load_csv("service_category_top_level.csv"))


def load_code_table(path: str | Path) -> frozenset[str]:
    """Read an official code table: a UTF-8 CSV (BOM allowed) whose header has a `code` column
    (any case; other columns such as `name` are ignored), or, without such a header, whose first
    column holds the codes. Blank lines and lines starting with `#` are skipped."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CodeTableError(f"代碼表檔案不存在 / code table not found: {p}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CodeTableError(f"無法讀取代碼表 / cannot read code table {p}: {exc}") from exc
    rows = [r for r in csv.reader(raw.splitlines()) if r and r[0].strip() and not r[0].startswith("#")]
    if not rows:
        raise CodeTableError(f"代碼表是空的 / code table {p} is empty: expected a `code` column")
    header = [cell.strip().lower() for cell in rows[0]]
    column, body = (header.index("code"), rows[1:]) if "code" in header else (0, rows)
    codes = frozenset(r[column].strip().upper() for r in body if len(r) > column and r[column].strip())
    if not codes:
        raise CodeTableError(f"代碼表沒有代碼 / code table {p} has no codes in column {column + 1}")
    return codes


def load_code_tables(option: Mapping[str, Any] | None) -> dict[str, frozenset[str]]:
    """Validate `ctx.option("code_tables")`: {field name: CSV path or iterable of codes}."""
    tables: dict[str, frozenset[str]] = {}
    for key, value in (option or {}).items():
        field = next((f for f in CATEGORY_FIELDS if f.lower() == str(key).strip().lower()), None)
        if field is None:
            raise CodeTableError(
                f"未知的代碼表欄位 / unknown code table field {key!r}: expected one of {', '.join(CATEGORY_FIELDS)}"
            )
        if isinstance(value, (str, Path)):
            tables[field] = load_code_table(value)
        else:
            tables[field] = frozenset(str(code).strip().upper() for code in value)
    return tables


def _values(page: PageFacts, field: str) -> list[str] | None:
    """Values of `field` on the page (None when the tag is absent; [] when present but empty)."""
    if field == "DC.Coverage":
        whole = page.meta.get("dc.coverage")
        lo, hi = page.meta.get("dc.coverage.t.min"), page.meta.get("dc.coverage.t.max")
        filled = [v for v in whole or [] if v.strip()]
        if filled:
            return filled
        lo_filled, hi_filled = [v for v in lo or [] if v.strip()], [v for v in hi or [] if v.strip()]
        if lo_filled and hi_filled:
            return lo_filled + hi_filled
        if whole is not None or (lo is not None and hi is not None):
            return []  # the tag is there, without a value
        return None  # absent, or only half of the t.min/t.max pair
    values = page.meta.get(field.lower())
    if values is None:
        return None
    return [v for v in values if v.strip()]


def html_pages(facts: SiteFacts) -> list[PageFacts]:
    """Pages that were served (not error pages): the ones whose tags matter."""
    return [p for p in facts.pages if p.status is None or p.status < 400]


def missing_fields(page: PageFacts) -> tuple[list[str], list[str]]:
    """(absent or empty required fields, the subset that is present but empty)."""
    missing: list[str] = []
    empty: list[str] = []
    for field in required_fields():
        values = _values(page, field)
        if not values:
            missing.append(field)
            if values is not None:
                empty.append(field)
    return missing, empty


def invalid_codes(page: PageFacts, tables: Mapping[str, frozenset[str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for field in CATEGORY_FIELDS:
        for raw in _values(page, field) or []:
            for value in (v for v in _VALUE_SPLIT.split(raw.strip()) if v):
                code = value.upper()
                if field in tables:
                    if code not in tables[field]:
                        out.append({"field": field, "value": value[:50], "reason": "not-in-table"})
                elif not CODE_FORM.match(value):
                    out.append({"field": field, "value": value[:50], "reason": "form"})
                elif field == "Category.Service" and f"{code[0]}00" not in service_top_level():
                    out.append({"field": field, "value": value[:50], "reason": "service-top-level"})
    return out


def _longest_common_substring(a: str, b: str) -> str:
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[match.a : match.a + match.size]


def strip_site_words(text: str, names: Iterable[str]) -> str:
    """`text` (loose normal form) without the given site names and the generic site words."""
    out = norm_loose(text)
    for name in sorted({norm_loose(n) for n in names if n}, key=len, reverse=True):
        if name:
            out = out.replace(name, "")
    for word in sorted((norm_loose(w) for w in load_yaml("title_match.yaml")["generic_site_words"]), key=len, reverse=True):
        out = out.replace(word, "")
    return out


def dc_title_verdict(dc_title: str, title: str, agency_name: str = "",
                     own_names: Iterable[str] = ()) -> tuple[bool, str, float]:
    """(mismatch?, reason, similarity) for a page's DC.Title against its <title>.

    `own_names` are the names the page gives itself (DC.Publisher, DC.Creator: ith spells its
    institute 中央研究所臺灣史研究所 there and in DC.Title), removed like the agency name.
    Equal or contained (after normalisation) → consistent. Otherwise the agency name, the longest
    common substring (when 4+ characters: the shared site name) and generic site words are removed
    from both; a DC.Title left empty while the title still names a page is only the site's name
    (reason `site-name-only`); two non-empty remainders sharing under a third of their bigrams
    (overlap coefficient < 0.34) disagree (reason `different`).
    """
    a, b = norm_loose(dc_title)[:200], norm_loose(title)[:200]
    if not a or not b or a in b or b in a:
        return False, "consistent", 1.0
    common = _longest_common_substring(a, b)
    names = [agency_name, *own_names] + ([common] if len(common) >= 4 else [])
    ra, rb = strip_site_words(a, names), strip_site_words(b, names)
    if not rb or ra == rb or (ra and (ra in rb or rb in ra)):
        return False, "consistent", 1.0
    if not ra:
        return True, "site-name-only", 0.0
    score = overlap(ra, rb)
    return (score < 0.34), ("different" if score < 0.34 else "consistent"), round(score, 3)


def _first(page: PageFacts, name: str) -> str | None:
    return next((v.strip() for v in page.meta.get(name, []) if v.strip()), None)


def identifier_verdict(value: str, agency_name: str = "", agency_code: str | None = None) -> str | None:
    """Why a DC.Identifier value is wrong (`agency-name`, `form`, `other-agency`), None when right."""
    m = AGENCY_CODE.match(value)
    if m is None:
        loose, name = norm_loose(value), norm_loose(agency_name)
        named = bool(name) and (name in loose or loose in name)
        return "agency-name" if named or _AGENCY_WORDS.search(loose) else "form"
    if agency_code and m.group(1) != agency_code.strip().upper():
        return "other-agency"
    return None


def publisher_names_other_agency(publisher: str, agency_name: str) -> bool:
    """True when DC.Publisher names an agency other than `agency_name` (both in Chinese script)."""
    a, b = norm_loose(publisher), norm_loose(agency_name)
    if not a or not b or not (has_cjk(a) and has_cjk(b)) or a in b or b in a:
        return False
    return overlap(a, b) < PUBLISHER_MIN_OVERLAP


def identity_findings(page: PageFacts, agency_name: str, agency_code: str | None) -> Iterator[Finding]:
    """DC.Identifier not a 機關代碼, or (the agency's code known) another agency's code or name."""
    identifier = _first(page, "dc.identifier")
    if identifier:
        why = identifier_verdict(identifier, agency_name, agency_code)
        if why in ("agency-name", "form"):
            what = "是機關名稱而不是機關代碼" if why == "agency-name" else "不是機關代碼"
            yield Finding.of(
                "invalid-dc-identifier",
                page=page.url, target=None,
                detail=f"DC.Identifier 的值「{identifier[:60]}」{what}（機關代碼為 10 碼：9 位數字加 1 個檢查字母）。",
                detail_en=f"DC.Identifier {identifier[:60]!r} is not an agency code (10 characters: nine digits "
                          "and a check letter)" + (", it is the agency's name." if why == "agency-name" else "."),
                evidence={"value": identifier[:200], "reason": why, "check_letter_verified": False},
            )
        elif why == "other-agency":
            yield Finding.of(
                "dc-identifier-mismatch",
                page=page.url, target=None,
                detail=f"DC.Identifier 的機關代碼 {identifier[:10]} 與本機關代碼 {agency_code} 不同，"
                       "網頁範本可能沿用其他機關的設定。",
                detail_en=f"DC.Identifier {identifier[:10]} is not the agency's code {agency_code}: the page "
                          "template may have been copied from another agency.",
                evidence={"value": identifier[:200], "expected": agency_code, "reason": why},
            )
    publisher = _first(page, "dc.publisher")
    if agency_code and publisher and publisher_names_other_agency(publisher, agency_name):
        yield Finding.of(
            "dc-publisher-mismatch",
            page=page.url, target=None,
            detail=f"DC.Publisher「{publisher[:60]}」不是本機關「{agency_name[:60]}」，網頁範本可能沿用其他機關的設定。",
            detail_en=f"DC.Publisher {publisher[:60]!r} names another agency than {agency_name[:60]!r}: the page "
                      "template may have been copied from another agency.",
            evidence={"value": publisher[:200], "expected": agency_name[:200], "agency_code": agency_code,
                      "similarity": round(overlap(norm_loose(publisher), norm_loose(agency_name)), 3)},
        )


class ClassificationTags(Check):
    """Required meta fields, category codes, DC.Date and DC.Title on every served page."""

    meta = CheckMeta(
        id="classification-tags", check="classification",
        rules=("missing-metadata", "invalid-category-code", "invalid-dc-date", "dc-title-mismatch",
               "invalid-dc-identifier", "dc-identifier-mismatch", "dc-publisher-mismatch"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        return list(self.iter_run(facts, ctx))

    def iter_run(self, facts: SiteFacts, ctx: AuditContext) -> Iterator[Finding]:
        tables = load_code_tables(ctx.option("code_tables", None))
        pages = html_pages(facts)
        field_counts = dict.fromkeys(required_fields(), 0)
        fully_tagged = 0
        for page in pages:
            missing, empty = missing_fields(page)
            for field in field_counts:
                if field not in missing:
                    field_counts[field] += 1
            if missing:
                yield self._missing(page, missing, empty)
            else:
                fully_tagged += 1
            bad = invalid_codes(page, tables)
            if bad:
                yield self._invalid_code(page, bad, bool(tables))
            dc_date = next((v for v in page.meta.get("dc.date", []) if v.strip()), None)
            if dc_date and parse_date(dc_date) is None:
                yield Finding.of(
                    "invalid-dc-date",
                    page=page.url, target=None,
                    detail=f"DC.Date 的值「{dc_date[:60]}」不是日期。",
                    detail_en=f"DC.Date value {dc_date[:60]!r} is not a date.",
                    evidence={"value": dc_date[:200]},
                )
            dc_title = next((v for v in page.meta.get("dc.title", []) if v.strip()), None)
            yield from identity_findings(page, facts.agency.name, facts.agency.code)
            if dc_title and page.title:
                own = [v for f in ("dc.publisher", "dc.creator") for v in page.meta.get(f, []) if v.strip()]
                mismatch, reason, score = dc_title_verdict(dc_title, page.title, facts.agency.name, own)
                if mismatch:
                    yield Finding.of(
                        "dc-title-mismatch",
                        page=page.url, target=None,
                        detail=(f"DC.Title「{dc_title[:60]}」只有網站名稱，未標示網頁標題「{page.title[:60]}」所指的本頁名稱。"
                                if reason == "site-name-only"
                                else f"DC.Title「{dc_title[:60]}」與網頁標題「{page.title[:60]}」不一致。"),
                        detail_en=f"DC.Title {dc_title[:60]!r} does not match the page title {page.title[:60]!r}.",
                        evidence={"dc_title": dc_title[:200], "title": page.title[:200],
                                  "reason": reason, "similarity": score},
                    )
        total = len(pages)
        ctx.summary["classification"] = {
            "pages": total,
            "fully_tagged_pages": fully_tagged,
            "fully_tagged": round(fully_tagged / total, 4) if total else None,
            "fields": {f: (round(n / total, 4) if total else None) for f, n in field_counts.items()},
            "code_tables": sorted(tables),
        }

    @staticmethod
    def _missing(page: PageFacts, missing: list[str], empty: list[str]) -> Finding:
        shown = "、".join(missing)
        return Finding.of(
            "missing-metadata",
            page=page.url, target=None,
            detail=f"缺少必要的詮釋資料欄位（{len(missing)} 個）：{shown}。",
            detail_en=f"Required metadata fields missing ({len(missing)}): {', '.join(missing)}.",
            evidence={"fields": missing, "empty": empty},
        )

    @staticmethod
    def _invalid_code(page: PageFacts, bad: list[dict[str, str]], has_tables: bool) -> Finding:
        first = bad[0]
        why = {
            "form": "不符合代碼格式（一位數字或大寫字母加兩位數字）",
            "service-top-level": "不屬於 18 個服務分類大類",
            "not-in-table": "不在使用者提供的官方代碼表中",
        }
        return Finding.of(
            "invalid-category-code",
            page=page.url, target=None,
            detail=f"{first['field']} 的值「{first['value']}」{why[first['reason']]}"
            + (f"（另有 {len(bad) - 1} 個無效代碼）" if len(bad) > 1 else "") + "。",
            detail_en=f"{first['field']} value {first['value']!r} is not a valid code ({first['reason']}).",
            evidence={"field": first["field"], "value": first["value"], "reason": first["reason"],
                      "invalid": bad, "official_table": has_tables},
        )
