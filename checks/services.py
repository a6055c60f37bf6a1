"""Online services, e-participation, site policies, downloadable formats, and title consistency.

Rules:
- ../shared/domain/README.md §1: indicator `online_services` (online application, e-payment,
  pick-up notices, booking, downloadable forms in open formats) and `e_participation` (首長信箱,
  message board, polls and surveys, social media, join.gov.tw); §6 (convention): privacy policy,
  information-security policy, open-data declaration in the footer. What counts as evidence is
  data (data/service_features.yaml); a feature expected but not found gives `missing-<feature>`.
- `open-format-missing`: ODF-CNS15251 政府文件標準格式 policy (since 104-01-01: editable downloads
  .doc/.docx/.xls/.xlsx/.ppt/.pptx need an ODF twin .odt/.ods/.odp) and Freego ME1320200C
  (downloadable files in open formats), domain/README.md §5. THE one place this rule is reported.
- `title-mismatch` (check family `links`): domain/README.md §1 indicator `disclosure`, "titles
  consistent with content" (threshold and word lists in data/title_match.yaml).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urldefrag, urlsplit

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.facts import LinkRef, PageFacts, SiteFacts
from checks.textnorm import (
    KeywordGroups,
    dead_reason,
    has_cjk,
    is_content_link,
    load_yaml,
    norm,
    norm_loose,
    overlap,
    page_specific_title,
    site_title_parts,
)

ODF_RULE = "ODF-CNS15251 政府文件標準格式政策；Freego ME1320200C（WCAG 3.2.2）"
SERVICES_RULE = "提升服務品質執行計畫 線上服務及電子參與（線上服務量能擴展性、電子參與多樣性）"
POLICY_RULE = "政府網站版型與網頁基本要素（慣例）：隱私權政策、資訊安全政策、政府網站資料開放宣告"
TITLE_RULE = "政府服務品質獎 資訊公開適切性：標題與內容一致"
MAX_EVIDENCE = 10
MAX_FEATURE_TEXT = 20  # a feature is a menu/footer entry, not a headline that mentions it

EDITABLE_TWIN = {"doc": "odt", "docx": "odt", "xls": "ods", "xlsx": "ods", "ppt": "odp", "pptx": "odp"}
DOCUMENT_FORMATS = (
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "odg", "odb", "odf", "pdf", "rtf",
)
_MIME_FORMAT = {
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/pdf": "pdf",
}
_TEXT_FORMAT = re.compile(r"(?<![a-z0-9])(" + "|".join(DOCUMENT_FORMATS) + r")(?![a-z0-9])")
_PAGER_TEXT = re.compile(r"^(第?\d+頁?|page\d+|\d+/\d+)$")
_SIZE_WORDS = re.compile(r"\d[\d,.]*\s*(kb|mb|gb|bytes?|位元組)|下載\s*[\d,]+\s*次|\(|\)|檔案|下載|格式")


# ---------------------------------------------------------------------------------------------
# Feature detection (shared with checks/retrieval.py)


@dataclass(frozen=True)
class Feature:
    id: str
    family: str
    indicator: str
    severity: str
    expected: bool
    title_zh: str
    title_en: str
    keywords: tuple[str, ...]
    url_patterns: tuple[re.Pattern[str], ...]
    allow_schemes: tuple[str, ...]
    link_tags: tuple[str, ...]

    @property
    def rule(self) -> str:
        return "missing-" + self.id


@lru_cache(maxsize=1)
def features() -> dict[str, Feature]:
    out = {}
    for fid, spec in load_yaml("service_features.yaml")["features"].items():
        out[fid] = Feature(
            id=fid, family=spec["family"], indicator=spec["indicator"], severity=spec["severity"],
            expected=bool(spec.get("expected", True)), title_zh=spec["title_zh"], title_en=spec["title_en"],
            keywords=tuple(spec.get("keywords") or ()),
            url_patterns=tuple(re.compile(p, re.IGNORECASE) for p in spec.get("url_patterns") or ()),
            allow_schemes=tuple(spec.get("allow_schemes") or ()),
            link_tags=tuple(spec.get("link_tags") or ("a", "area")),
        )
    return out


@dataclass
class FeatureResult:
    evidence: list[str] = field(default_factory=list)
    dead: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": bool(self.evidence), "evidence": self.evidence}
        if self.dead and not self.evidence:
            out["dead_links"] = self.dead  # why a feature the site seems to offer was not counted
        return out


def detect_features(facts: SiteFacts) -> dict[str, FeatureResult]:
    """Every feature of data/service_features.yaml with the live links (or pages) that show it."""
    cached = facts.__dict__.get("_service_features")
    if cached is not None:
        return cached
    feats = features()
    results = {fid: FeatureResult() for fid in feats}
    matcher = KeywordGroups({fid: f.keywords for fid, f in feats.items()})
    url_memo: dict[str, list[str]] = {}  # the same targets recur on every page (menus, footers)
    short: dict[str, bool] = {}
    for link in facts.links:
        is_short = short.get(link.text)
        if is_short is None:
            is_short = short[link.text] = len(norm(link.text)) <= MAX_FEATURE_TEXT
        hits = list(matcher.match(link.text)) if is_short else []
        by_url = url_memo.get(link.target)
        if by_url is None:
            by_url = [fid for fid, f in feats.items() if any(p.search(link.target) for p in f.url_patterns)]
            url_memo[link.target] = by_url
        if by_url and urldefrag(link.target)[0] != link.source:  # in-page anchors name no feature
            hits += [fid for fid in by_url if fid not in hits]
        for fid in hits:
            feat = feats[fid]
            if link.tag not in feat.link_tags:
                continue
            reason = dead_reason(facts, link, allow_schemes=feat.allow_schemes)
            result = results[fid]
            if reason:
                entry = {"page": link.source, "target": link.target, "text": link.text[:100], "reason": reason}
                if len(result.dead) < MAX_EVIDENCE and entry not in result.dead:
                    result.dead.append(entry)
            elif link.target not in result.evidence and len(result.evidence) < MAX_EVIDENCE:
                result.evidence.append(link.target)
    for page in facts.pages:
        if page.status is not None and page.status >= 400:
            continue
        names = [page_specific_title(facts, page.title), *(t for lvl, t in page.headings if lvl == 1)]
        for fid in matcher.match(*(n for n in names if len(norm(n)) <= MAX_FEATURE_TEXT)):
            if page.url not in results[fid].evidence and len(results[fid].evidence) < MAX_EVIDENCE:
                results[fid].evidence.append(page.url)
    facts.__dict__["_service_features"] = results
    return results


class FeatureCheck(Check):
    """Shared body: record the features of one indicator and report the missing expected ones."""

    indicator_of_features: ClassVar[str] = ""
    family: ClassVar[str] = "services"

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        detected = detect_features(facts)
        summary = ctx.summary.setdefault("services", {})
        findings = []
        for fid, feat in features().items():
            if feat.indicator != self.indicator_of_features or feat.family != self.family:
                continue
            result = detected[fid]
            summary[fid] = result.to_json()
            if result.evidence or not feat.expected:
                continue
            dead = "（相關連結無效）" if result.dead else ""
            findings.append(Finding(
                check=feat.family, rule=feat.rule, severity=feat.severity,  # type: ignore[arg-type]
                page=facts.agency.url, target=None,
                detail=f"網站找不到「{feat.title_zh}」{dead}。",
                detail_en=f"No {feat.title_en} found on the site{' (its links are dead)' if result.dead else ''}.",
                evidence={"feature": fid, "dead_links": result.dead},
            ))
        return findings


class EParticipation(FeatureCheck):
    meta = CheckMeta(
        id="services",
        title_zh="電子參與管道",
        title_en="E-participation channels",
        indicator="e_participation",
        rule=SERVICES_RULE,
        rules=tuple(f.rule for f in features().values() if f.indicator == "e_participation"),
    )
    indicator_of_features = "e_participation"


class SitePolicies(FeatureCheck):
    meta = CheckMeta(
        id="services",
        title_zh="網站政策宣告",
        title_en="Site policies",
        indicator="disclosure",
        rule=POLICY_RULE,
        rules=tuple(f.rule for f in features().values() if f.indicator == "disclosure"),
    )
    indicator_of_features = "disclosure"


# ---------------------------------------------------------------------------------------------
# Downloadable documents and open formats


def document_format(facts: SiteFacts, link: LinkRef) -> str | None:
    """The file format a link offers: from the address, else the served type, else the link text."""
    path = urlsplit(link.target).path.lower()
    ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    if ext in DOCUMENT_FORMATS:
        return ext
    result = facts.result_for(link.target)
    if result is not None and result.content_type:
        mime = result.content_type.split(";")[0].strip().lower()
        if mime in _MIME_FORMAT:
            return _MIME_FORMAT[mime]
    m = _TEXT_FORMAT.search(unicode_lower(link.text))
    return m.group(1) if m else None


def unicode_lower(text: str) -> str:
    """NFKC + case-folded, spaces kept (they separate a format name from the next word)."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _label(link: LinkRef) -> str:
    """Link text without format names, sizes and counters: what the document is called."""
    text = _SIZE_WORDS.sub("", unicode_lower(link.text))
    return norm_loose(_TEXT_FORMAT.sub("", text))


def _stem(url: str) -> str:
    path = urlsplit(url).path
    return path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path


@dataclass
class Download:
    link: LinkRef
    fmt: str


def downloads(facts: SiteFacts) -> dict[str, list[Download]]:
    """Document links per source page, in page order (links that lead nowhere are left out)."""
    out: dict[str, list[Download]] = {}
    for link in facts.links:
        if not is_content_link(link):
            continue
        fmt = document_format(facts, link)
        if fmt is None:
            continue
        reason = dead_reason(facts, link)
        if reason and not reason.startswith(("http:", "error:")):
            continue  # '#', javascript: — no file is offered at all
        out.setdefault(link.source, []).append(Download(link, fmt))
    return out


def missing_twins(page_downloads: list[Download]) -> list[tuple[Download, str]]:
    """Editable downloads with no ODF twin on the same page.

    A twin is an ODF link of the matching kind (doc/docx → odt, xls/xlsx → ods, ppt/pptx → odp) with
    the same file stem, or the same label (link text without format words and sizes), or one of
    the two neighbouring document links when the labels agree or one is empty (the
    [DOC][ODT][PDF] icon row with opaque download addresses).
    """
    out = []
    for i, item in enumerate(page_downloads):
        twin_fmt = EDITABLE_TWIN.get(item.fmt)
        if twin_fmt is None:
            continue
        label, stem = _label(item.link), _stem(item.link.target)
        has_twin = False
        for j, other in enumerate(page_downloads):
            if other.fmt != twin_fmt:
                continue
            other_label = _label(other.link)
            if _stem(other.link.target) == stem or (label and label == other_label):
                has_twin = True
            elif abs(i - j) <= 2 and (label == other_label or not label or not other_label):
                has_twin = True
            if has_twin:
                break
        if not has_twin:
            out.append((item, twin_fmt))
    return out


class OnlineServices(FeatureCheck):
    """Online application, payment, booking, pick-up notices, forms; editable files need ODF twins."""

    meta = CheckMeta(
        id="services",
        title_zh="線上服務與開放格式",
        title_en="Online services and open document formats",
        indicator="online_services",
        rule=f"{SERVICES_RULE}；{ODF_RULE}",
        rules=("open-format-missing",)
        + tuple(f.rule for f in features().values() if f.indicator == "online_services"),
    )
    indicator_of_features = "online_services"

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings = super().run(facts, ctx)
        per_page = downloads(facts)
        formats: dict[str, int] = {}
        seen_targets: set[str] = set()
        evidence: list[str] = []
        for page_url, items in per_page.items():
            for item in items:
                if item.link.target not in seen_targets:
                    seen_targets.add(item.link.target)
                    formats[item.fmt] = formats.get(item.fmt, 0) + 1
                    if len(evidence) < 20:
                        evidence.append(item.link.target)
            reported: set[str] = set()
            for item, twin in missing_twins(items):
                if item.link.target in reported:
                    continue
                reported.add(item.link.target)
                findings.append(Finding(
                    check="services", rule="open-format-missing", severity="warning",
                    page=page_url, target=item.link.target,
                    detail=f"可編輯檔案（{item.fmt.upper()}）「{item.link.text[:40]}」沒有提供 ODF（{twin.upper()}）格式。",
                    detail_en=f"Editable {item.fmt.upper()} download has no ODF ({twin.upper()}) version.",
                    evidence={"format": item.fmt, "expected_format": twin, "link_text": item.link.text[:100],
                              "formats_on_page": sorted({d.fmt for d in items})},
                ))
        ctx.summary.setdefault("services", {})["downloads"] = {
            "found": bool(seen_targets), "evidence": evidence, "formats": dict(sorted(formats.items())),
        }
        return findings


# ---------------------------------------------------------------------------------------------
# Title consistency


@lru_cache(maxsize=1)
def _title_settings() -> tuple[frozenset[str], float, int]:
    data = load_yaml("title_match.yaml")
    skip = frozenset(norm_loose(t) for t in data["skip_link_texts"])
    return skip, float(data["threshold"]), int(data["min_text_chars"])


def _strip_site(facts: SiteFacts, text: str) -> str:
    """Loose form of `text` without the site's name parts and the agency name (unless that is all)."""
    names = facts.__dict__.get("_site_names_sorted")
    if names is None:
        names = sorted(site_title_parts(facts) | {norm_loose(facts.agency.name)} - {""}, key=len, reverse=True)
        facts.__dict__["_site_names_sorted"] = names
    out = norm_loose(text)
    for name in names:
        if out != name:
            out = out.replace(name, "")
    return out


class TitleConsistency(Check):
    """A link whose text and its in-site target's title/heading share nothing meaningful.

    Compared: the link text and the target's title (without the site's name), every h1 and the
    first h2, as character bigrams after removing the agency name and the title parts most pages
    share. Skipped: texts in data/title_match.yaml (更多, :::, 首頁, 回上一頁…), texts shorter than
    `min_text_chars`, image links without alt (empty text), links to the same page, targets that
    were not crawled, and pairs written in different scripts (an English text against a Chinese
    title cannot be compared by characters), links into a section of a page (#fragment: the
    section's heading is not stored), pager and sort links (same path), and texts that are only the
    site's name. Mismatch: best overlap coefficient < `threshold` (0.2). One finding per (link text,
    target), on the first page carrying it; evidence `pages` counts the pages with that link.
    """

    meta = CheckMeta(
        id="links",
        title_zh="連結文字與目的頁標題不符",
        title_en="Link text does not match the target's title",
        indicator="disclosure",
        rule=TITLE_RULE,
        rules=("title-mismatch",),
    )

    @staticmethod
    def _score(facts: SiteFacts, text_raw: str, loose: str, target: PageFacts,
               targets: dict[str, list[str]], skip: frozenset[str]) -> float | None:
        """Best overlap of the link text with the target's names; None when it cannot be judged."""
        whole = norm_loose(target.title)
        if whole and (whole in loose or loose in whole):
            return None  # 臺灣示範市政府（回首頁） → 臺灣示範市政府
        text = _strip_site(facts, text_raw)
        if not text or text in skip:
            return None  # the text was only the site's name, or a generic word around it
        candidates = targets.get(target.url)
        if candidates is None:
            names = [page_specific_title(facts, target.title)]
            names += [t for lvl, t in target.headings if lvl == 1]
            names += [t for lvl, t in target.headings if lvl == 2][:1]
            candidates = targets[target.url] = [c for c in (_strip_site(facts, n) for n in names) if c]
        if not candidates:
            return None  # the target names nothing but the site: nothing to compare
        if not any(has_cjk(c) == has_cjk(text) for c in candidates):
            return None
        if any(text in c or c in text for c in candidates):
            return None
        return max(overlap(text, c) for c in candidates)

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        skip, threshold, min_chars = _title_settings()
        threshold = float(ctx.option("title_mismatch_threshold", threshold))
        targets: dict[str, list[str]] = {}  # target URL -> what it is called (computed once)
        verdicts: dict[tuple[str, str], float | None] = {}  # (text, target) -> score, None = skip
        # a mismatched menu entry is one problem, not one per page: report it once, on the first
        # page seen, with the number of pages carrying it
        bad: dict[tuple[str, str], tuple[LinkRef, float, set[str]]] = {}
        for link in facts.links:
            if not is_content_link(link):
                continue
            pair = (link.text, link.target)
            if pair in bad:
                bad[pair][2].add(link.source)
                continue
            if pair in verdicts:
                continue
            loose = norm_loose(link.text)
            if len(loose) < min_chars or loose in skip or loose.isdigit() or loose.startswith("http"):
                continue
            if _PAGER_TEXT.match(loose) or urldefrag(link.target)[1]:
                continue  # pagers, and links into a section of a page (its heading is not stored)
            if urlsplit(link.target).path == urlsplit(link.source).path:
                continue  # the same document (sorting, paging, a query variant)
            target = facts.page(link.target)
            if target is None or (target.status is not None and target.status >= 400):
                continue
            score = verdicts[pair] = self._score(facts, link.text, loose, target, targets, skip)
            if score is not None and score < threshold:
                bad[pair] = (link, score, {link.source})
        findings: list[Finding] = []
        for link, score, pages in bad.values():
            target = facts.page(link.target)
            shown = (target.title if target else "") or " ".join(targets.get(link.target, [])[:1])
            findings.append(Finding(
                check="links", rule="title-mismatch", severity="notice",
                page=link.source, target=link.target,
                detail=f"連結文字「{link.text[:40]}」與目的頁標題「{shown[:60]}」不相符"
                + (f"（共 {len(pages)} 個網頁有此連結）" if len(pages) > 1 else "") + "。",
                detail_en=f"Link text {link.text[:40]!r} does not match the target's title {shown[:60]!r}"
                + (f" (on {len(pages)} pages)" if len(pages) > 1 else "") + ".",
                evidence={"link_text": link.text[:200], "target_title": shown[:200],
                          "similarity": round(score, 3), "threshold": threshold, "pages": len(pages)},
            ))
        return findings
