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
from urllib.parse import urlsplit

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.keywords import feature_keywords, feature_url_patterns
from checks.facts import LinkRef, PageFacts, SiteFacts, defrag, url_path
from checks.textnorm import (
    MEMO_SIZE,
    UNVERIFIED,
    KeywordGroups,
    Smallest,
    dead_reason,
    facts_memo,
    has_cjk,
    is_content_link,
    link_index,
    link_order,
    load_yaml,
    norm,
    norm_loose,
    overlap,
    page_specific_title,
    site_title_parts,
)

MAX_EVIDENCE = 10
MAX_FEATURE_TEXT = 20  # a feature is a menu/footer entry, not a headline that mentions it
MAX_FEATURE_WORDS = 8  # the same for a text in Latin script ("Policy on the Protection of Privacy Rights")

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
            keywords=feature_keywords(fid), url_patterns=feature_url_patterns(fid),
            allow_schemes=tuple(spec.get("allow_schemes") or ()),
            link_tags=tuple(spec.get("link_tags") or ("a", "area")),
        )
    return out


def _required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case ASCII strings one of which any match of `pattern` contains, None when unknown.

    Twenty url patterns tried on tens of thousands of targets cost seconds (issue 6); most targets
    hold none of the words the patterns look for (eservice, epay, mailbox, facebook.com…), and
    `word in target.lower()` rules a pattern out a hundred times faster than trying it. This is
    only ever a necessary condition (see `_url_features`): anything not understood gives None."""
    try:
        # deferred into the try: re's private parser modules may change between Python versions
        from re import _constants as sre_c
        from re import _parser as sre_parse

        def required(items: Any) -> frozenset[str] | None:
            candidates: list[frozenset[str]] = []
            run: list[str] = []
            for op, av in list(items) + [(None, None)]:
                if op is sre_c.LITERAL:
                    run.append(chr(av))
                    continue
                if run:
                    candidates.append(frozenset(("".join(run),)))
                    run = []
                inner: frozenset[str] | None = None
                if op is sre_c.SUBPATTERN and not av[1] and not av[2]:  # no inline flags
                    inner = required(av[3])
                elif op is sre_c.BRANCH:
                    alternatives = [required(branch) for branch in av[1]]
                    if all(alternatives):  # every way through the branch needs one of its words
                        inner = frozenset(w for words in alternatives if words for w in words)
                elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
                    inner = required(av[2])
                if inner:
                    candidates.append(inner)
            if not candidates:
                return None
            return max(candidates, key=lambda words: min(len(w) for w in words))

        found = required(sre_parse.parse(pattern.pattern, pattern.flags))
    except Exception:  # noqa: BLE001 - private parser API: any surprise means "no shortcut"
        return None
    if not found or not all(word.isascii() and word for word in found):
        return None
    return tuple(sorted(word.lower() for word in found))


_UrlTests = tuple[tuple[str, tuple[tuple[re.Pattern[str], frozenset[str] | None], ...]], ...]


@lru_cache(maxsize=1)
def _url_tests() -> tuple[_UrlTests, tuple[str, ...]]:
    """Per feature, its url patterns with the words each requires; and all those words."""
    tests = []
    for fid, f in features().items():
        patterns = []
        for p in f.url_patterns:
            words = _required_literals(p)
            patterns.append((p, None if words is None else frozenset(words)))
        tests.append((fid, tuple(patterns)))
    every_word = sorted({w for _, patterns in tests for _, words in patterns for w in words or ()})
    return tuple(tests), tuple(every_word)


def _url_features(target: str) -> list[str]:
    """Ids of the features with a url pattern matching `target` (each pattern is tried only when
    the target holds one of the words it requires; for an ASCII target and ASCII words, lower-case
    containment is necessary for a case-sensitive or case-insensitive match alike)."""
    tests, every_word = _url_tests()
    present: frozenset[str] | None = None
    if target.isascii():
        lowered = target.lower()
        present = frozenset(w for w in every_word if w in lowered)
    out = []
    for fid, patterns in tests:
        for pattern, words in patterns:
            if words is not None and present is not None and present.isdisjoint(words):
                continue
            if pattern.search(target):
                out.append(fid)
                break
    return out


def _form_features(page: PageFacts) -> list[str]:
    """Features a page offers through a form whose address names them: the page is then the feature
    itself (2015CivilAffairs mail.html, a 意見信箱 form posting to mailbox_act.asp, reached from
    nowhere but a `#` menu entry)."""
    out: list[str] = []
    for form in page.forms:
        action = defrag(str(form.get("action") or ""))[0]
        if action and action not in (page.url, page.final_url):
            out.extend(fid for fid in _url_features(action) if fid not in out)
    return out


def short_label(text: str) -> bool:
    """A menu or footer entry rather than a headline: at most 20 characters once normalised, or, for
    a text in Latin script, at most 8 words (English labels are long in characters)."""
    if text.isascii():
        return len(text.split()) <= MAX_FEATURE_WORDS
    return len(norm(text)) <= MAX_FEATURE_TEXT


@dataclass
class FeatureResult:
    evidence: list[str] = field(default_factory=list)
    dead: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": bool(self.evidence), "evidence": self.evidence}
        if self.dead and not self.evidence:
            out["dead_links"] = self.dead  # why a feature the site seems to offer was not counted
        if feature_status(self) == "unverified":
            out["status"] = "unverified"
        return out


def feature_status(result: FeatureResult) -> str:
    """found | unverified | dead | missing. A feature whose only links were never verified live
    (textnorm.dead_reason: UNVERIFIED, e.g. external links not requested) is neither found nor
    missing: indeterminate (issue 16 item 2)."""
    if result.evidence:
        return "found"
    if any(entry["reason"] == UNVERIFIED for entry in result.dead):
        return "unverified"
    return "dead" if result.dead else "missing"


def detect_features(facts: SiteFacts) -> dict[str, FeatureResult]:
    """Every feature of data/service_features.yaml with the live links (or pages) that show it."""
    cached = facts.__dict__.get("_service_features")
    if cached is not None:
        return cached
    feats = features()
    results = {fid: FeatureResult() for fid in feats}
    matcher = KeywordGroups({fid: f.keywords for fid, f in feats.items()})
    # decide once per distinct text and target, then visit only the links that name a feature, in
    # page order (issue 6: ~500,000 links, a few thousand texts, tens of thousands of targets)
    index = link_index(facts)
    text_hits: dict[str, list[str]] = {}
    for text in index.by_text:
        hits = matcher.match(text) if short_label(text) else []
        if hits:
            text_hits[text] = hits
    url_hits: dict[str, list[str]] = {}
    for target in index.by_target:
        by_url = _url_features(target)
        if by_url:
            url_hits[target] = by_url
    positions = index.positions(texts=text_hits, targets=url_hits)
    kept = {fid: (Smallest(MAX_EVIDENCE), Smallest(MAX_EVIDENCE)) for fid in feats}  # evidence, dead
    for link in index.at(positions):
        hits = list(text_hits.get(link.text, ()))
        by_url = url_hits.get(link.target)
        if by_url and defrag(link.target)[0] != link.source:  # in-page anchors name no feature
            hits += [fid for fid in by_url if fid not in hits]
        for fid in hits:
            feat = feats[fid]
            if link.tag not in feat.link_tags:
                continue
            evidence, dead = kept[fid]
            reason = dead_reason(facts, link, allow_schemes=feat.allow_schemes)
            if reason:
                entry = {"page": link.source, "target": link.target, "text": link.text[:100], "reason": reason}
                dead.add((*link_order(facts, link), reason), entry)
            else:
                evidence.add(link.target, link.target)
    for page in facts.pages:
        if page.status is not None and page.status >= 400:
            continue
        names = [page_specific_title(facts, page.title), *(t for lvl, t in page.headings if lvl == 1)]
        for fid in [*matcher.match(*(n for n in names if short_label(n))), *_form_features(page)]:
            kept[fid][0].add(page.url, page.url)
    for fid, (evidence, dead) in kept.items():  # capped on their sort order, not on arrival (issue 16 item 7)
        results[fid].evidence, results[fid].dead = evidence.list(), dead.list()
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
            if result.evidence or not feat.expected or feature_status(result) == "unverified":
                continue
            dead = "（相關連結無效）" if result.dead else ""
            findings.append(Finding.of(
                feat.rule, page=facts.agency.url, target=None,
                detail=f"網站找不到「{feat.title_zh}」{dead}。",
                detail_en=f"No {feat.title_en} found on the site{' (its links are dead)' if result.dead else ''}.",
                evidence={"feature": fid, "dead_links": result.dead},
            ))
        return findings


class EParticipation(FeatureCheck):
    meta = CheckMeta(
        id="e-participation", check="services",
        rules=tuple(f.rule for f in features().values() if f.indicator == "e_participation"),
    )
    indicator_of_features = "e_participation"


class SitePolicies(FeatureCheck):
    meta = CheckMeta(
        id="site-policies", check="services",
        rules=tuple(f.rule for f in features().values() if f.indicator == "disclosure"),
    )
    indicator_of_features = "disclosure"


# ---------------------------------------------------------------------------------------------
# Downloadable documents and open formats


def document_format(facts: SiteFacts, link: LinkRef) -> str | None:
    """The file format a link offers: from the address, else the served type, else the link text."""
    return _target_format(facts, link.target) or _text_format(link.text)


def _target_format(facts: SiteFacts, target: str) -> str | None:
    """The format of a target from its address, else from the type it was served with."""
    ext = _path_ext(target)
    if ext in DOCUMENT_FORMATS:
        return ext
    result = facts.result_for(defrag(target)[0])
    if result is not None and result.content_type:
        mime = result.content_type.split(";")[0].strip().lower()
        if mime in _MIME_FORMAT:
            return _MIME_FORMAT[mime]
    return None


@lru_cache(maxsize=MEMO_SIZE)  # ~500,000 links, a few tens of thousands of targets (issue 6)
def _path_ext(url: str) -> str:
    """The lower-cased extension of the last path segment ("" when it has none)."""
    path = url_path(url).lower()
    return path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""


@lru_cache(maxsize=MEMO_SIZE)
def _text_format(text: str) -> str | None:
    """A document format named in a link text ("下載 (PDF)")."""
    m = _TEXT_FORMAT.search(unicode_lower(text))
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
    # a link offers a document through its target (extension, served type) or its text: find the
    # targets and texts that can, then visit only their links, in page order (issue 6)
    index = link_index(facts)
    targets = [t for t in index.by_target if _target_format(facts, t) is not None]
    texts = [t for t in index.by_text if _text_format(t) is not None]
    for link in index.at(index.positions(targets=targets, texts=texts)):
        if not is_content_link(link):
            continue
        fmt = document_format(facts, link)
        if fmt is None:
            continue
        reason = dead_reason(facts, link)
        if reason and reason != UNVERIFIED and not reason.startswith(("http:", "error:")):
            continue  # '#', javascript: — no file is offered at all (an unverified file is offered)
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
        id="online-services", check="services",
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
                findings.append(Finding.of(
                    "open-format-missing",
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
    memo = facts_memo(facts, "_stripped_site")  # a menu text is compared with many targets
    stripped = memo.get(text)
    if stripped is None:
        stripped = norm_loose(text)
        for name in names:
            if stripped != name:
                stripped = stripped.replace(name, "")
        memo[text] = stripped
    return stripped


def _judged_text(text: str, skip: frozenset[str], min_chars: int) -> str | None:
    """The loose form of a link text that names a destination, None for texts never compared: too
    short, generic (data/title_match.yaml), digits, addresses and pagers."""
    loose = norm_loose(text)
    if len(loose) < min_chars or loose in skip or loose.isdigit() or loose.startswith("http"):
        return None
    if _PAGER_TEXT.match(loose):
        return None
    return loose


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
        id="title-consistency", check="links",
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
        # a mismatched menu entry is one problem, not one per page: report it once, on the first
        # page seen, with the number of pages carrying it
        bad: dict[int, tuple[LinkRef, float, set[str]]] = {}
        # texts never compared (更多, 上一則, pagers…) are set aside once per distinct text; the links
        # carrying the others are walked as integer ids, in page order, and a (text, target) pair
        # already judged costs one dictionary look-up (issue 6: ~500,000 links, ~80,000 pairs)
        index = link_index(facts)
        judged_texts = {ident: loose for ident, text in enumerate(index.texts)
                        if (loose := _judged_text(text, skip, min_chars)) is not None}
        content_tags = {ident for ident, tag in enumerate(index.tags) if is_content_link(LinkRef("", "", "", tag))}
        verdicts: dict[int, float | None] = {}  # (text, target) pair -> score, None = skip
        fragments, base_of, frag_of = index.fragments, index.base_of, index.frag_of
        text_of, tag_of = index.text_of, index.tag_of
        bases, spellings = len(index.bases), len(fragments)
        for position in index.positions(text_ids=judged_texts):
            if tag_of[position] not in content_tags:
                continue
            fragment = frag_of[position]
            if fragments[fragment]:
                continue  # links into a section of a page (its heading is not stored)
            text_id = text_of[position]
            pair = (text_id * bases + base_of[position]) * spellings + fragment  # "p" and "p#" differ
            seen = bad.get(pair)
            if seen is not None:
                seen[2].add(index.source_at(position))
                continue
            if pair in verdicts:
                continue
            target_url, source_url = index.target_at(position), index.source_at(position)
            if url_path(target_url) == url_path(source_url):
                continue  # the same document (sorting, paging, a query variant)
            target = facts.page(target_url)
            if target is None or (target.status is not None and target.status >= 400):
                continue
            link = index.link(position)
            score = verdicts[pair] = self._score(facts, link.text, judged_texts[text_id], target, targets, skip)
            if score is not None and score < threshold:
                bad[pair] = (link, score, {link.source})
        findings: list[Finding] = []
        for link, score, pages in bad.values():
            target = facts.page(link.target)
            shown = (target.title if target else "") or " ".join(targets.get(link.target, [])[:1])
            findings.append(Finding.of(
                "title-mismatch",
                page=link.source, target=link.target,
                detail=f"連結文字「{link.text[:40]}」與目的頁標題「{shown[:60]}」不相符"
                + (f"（共 {len(pages)} 個網頁有此連結）" if len(pages) > 1 else "") + "。",
                detail_en=f"Link text {link.text[:40]!r} does not match the target's title {shown[:60]!r}"
                + (f" (on {len(pages)} pages)" if len(pages) > 1 else "") + ".",
                evidence={"link_text": link.text[:200], "target_title": shown[:200],
                          "similarity": round(score, 3), "threshold": threshold, "pages": len(pages)},
            ))
        return findings
