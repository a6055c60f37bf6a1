"""Content and layout rules (issue 18, docs/rules-content.md): what a citizen expects to find on every page.

Rules (data: data/content_rules.yaml, each pattern with the real page it was seen on):
- `footer-contact-incomplete` (warning): the home page's footer block gives the agency's address,
  telephone and service hours. Convention of 政府網站版型與內容管理規範 (行政院研考會 96.11); address and
  telephone are what 政府資訊公開法 §7 I(3) asks to be published, so a footer that gives both is also
  evidence of that item (`footer_contact_evidence`, used by checks/disclosure.py).
- `open-data-declaration-incomplete` (warning): the 政府網站資料開放宣告 page (found by the
  `open-data-declaration` feature of checks/services.py) carries the clauses of the standard text
  (行政院 https://www.ey.gov.tw/cp.aspx?n=B9B1EF4D0359896B): 授權方式及範圍, 無償, 非專屬, 得再授權, the uses
  (重製、改作…), 不會嗣後撤回, 註明出處 — or releases the content under 政府資料開放授權條款 (OGDL).
- `missing-update-date` (warning): every content page shows its own date (a labelled 更新日期 /
  發布日期 … in its text, checks/dates.py `last_update_evidence`, source `text`). A convention: the
  pages of 政府網站營運交流平臺 (webguide.nat.gov.tw, 日期：111-09-28 on each page) and every Hyweb
  content template show one; no law requires it. A date only in HTTP headers or DC.Date is not
  shown to the reader. Content page: not the home page, not a site map, list or search page
  (data/content_rules.yaml `content_pages`).
- `viewport-missing` (notice, best practice): no `<meta name="viewport" content="width=device-width…">`:
  a phone then renders the desktop layout shrunk.
- `horizontal-scroll` (warning): a sampled page scrolls sideways at 360 × 640 CSS px in the browser
  pass (crawler/a11y.py records `layout`): WCAG 2.1 SC 1.4.10 Reflow (AA; 網站無障礙規範 110.07 follows
  WCAG 2.1) asks for no two-dimensional scrolling at 320 CSS px.
- `english-version-behind` (notice, best practice): the newest page date of the English site is more
  than `max_lag_days` older than the Chinese site's.
- `document-title-missing` (notice, best practice): a downloadable PDF / ODT / ODS / DOCX / XLSX of the
  site carries no title in its document properties (read by crawler/documents.py from the download the
  personal-data rule uses). W3C WCAG 2.1 technique PDF18 (https://www.w3.org/WAI/WCAG21/Techniques/pdf/PDF18,
  informative, for SC 2.4.2 Page Titled): the reader and the screen reader show the /Title, else the file
  name. A document whose properties could not be read is not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.dates import SOURCE_TEXT, find_dates, fold_width, last_update_evidence
from checks.facts import PageFacts, SiteFacts
from checks.services import detect_features, features
from checks.textnorm import load_yaml, norm

MAX_EVIDENCE = 20
CONTACT_PARTS = ("address", "phone", "hours")
PART_NAMES = {"address": ("地址", "address"), "phone": ("電話", "telephone"), "hours": ("服務時間", "service hours")}


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return load_yaml("content_rules.yaml")


def _served(page: PageFacts) -> bool:
    return page.status is None or page.status < 400


def home_page(facts: SiteFacts) -> PageFacts | None:
    """The crawled page at the agency's address (or where it redirected)."""
    page = facts.page(facts.agency.url)
    return page if page is not None and _served(page) else None


# ---------------------------------------------------------------------------------------------
# Footer contact


@dataclass
class FooterContact:
    """What the home page's footer block says: the first address, telephone and hours line found."""

    source: str  # footer (a marked footer block) | tail (the last lines of the page: no marker)
    found: dict[str, str] = field(default_factory=dict)  # part -> the matched text

    @property
    def missing(self) -> list[str]:
        return [part for part in CONTACT_PARTS if part not in self.found]


@lru_cache(maxsize=1)
def _contact_patterns() -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...], re.Pattern[str],
                                 tuple[str, ...], str]:
    spec = rules()["contact"]
    address = tuple(re.compile(p["pattern"]) for p in spec["address"]["patterns"])
    ext = spec["phone"]["extension"]
    phone = tuple(re.compile(f"(?:{p['pattern']})(?:{ext})?") for p in spec["phone"]["patterns"])
    hours = spec["hours"]
    labels = "|".join(re.escape(h["label"]) for h in hours["labels"])
    hours_re = re.compile(rf"(?i)(?:{labels})[^\n]{{0,{int(hours['window'])}}}?(?:{hours['time']})")
    seps = "".join(spec["phone"]["separators"])
    return address, phone, hours_re, tuple(w.lower() for w in spec["phone"]["not_after"]), seps


def footer_lines(page: PageFacts) -> tuple[str, list[str]]:
    """(source, lines) of the page's footer block: from `extra.footer_line` (crawler/extract.py) to the
    end of the text, else the last `tail_lines` lines."""
    lines = page.text.split("\n") if page.text else []
    start = page.artifacts.footer_line
    if isinstance(start, int) and 0 <= start < len(lines):
        return "footer", lines[start:]
    return "tail", lines[-int(rules()["footer"]["tail_lines"]):]


def read_contact(source: str, lines: list[str]) -> FooterContact:
    """The address, telephone and hours in `lines` (folded to ASCII width; fax numbers are no phone)."""
    address, phone, hours, not_after, seps = _contact_patterns()
    contact = FooterContact(source)
    for raw in lines:
        line = fold_width(raw).translate({ord(c): "-" for c in seps})
        if "address" not in contact.found:
            m = next((m for p in address if (m := p.search(line))), None)
            if m:
                contact.found["address"] = m.group(0).strip()
        if "phone" not in contact.found:
            for pattern in phone:
                for m in pattern.finditer(line):
                    before = line[max(0, m.start() - 8):m.start()].lower()
                    if not any(word in before for word in not_after):
                        contact.found["phone"] = m.group(0).strip()
                        break
                if "phone" in contact.found:
                    break
        if "hours" not in contact.found:
            m = hours.search(line)
            if m:
                contact.found["hours"] = line[m.start():m.start() + 60].strip()
    return contact


def footer_contact(facts: SiteFacts) -> FooterContact | None:
    """The contact details of the home page's footer (None when the home page was not crawled)."""
    cached = facts.__dict__.get("_footer_contact", False)
    if cached is not False:
        return cached
    home = home_page(facts)
    contact = read_contact(*footer_lines(home)) if home is not None else None
    facts.__dict__["_footer_contact"] = contact
    return contact


def footer_contact_evidence(facts: SiteFacts) -> list[str]:
    """Evidence for 政府資訊公開法 §7 I(3) (地址、電話…): the home page's URL when its footer gives both an
    address and a telephone number, else nothing. The hook checks/disclosure.py calls."""
    contact = footer_contact(facts)
    home = home_page(facts)
    if contact is None or home is None or "address" not in contact.found or "phone" not in contact.found:
        return []
    return [home.url]


class FooterContactCheck(Check):
    """The home page's footer block gives address, telephone and service hours."""

    meta = CheckMeta(
        id="footer-contact", check="content",
        rules=("footer-contact-incomplete",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        contact = footer_contact(facts)
        home = home_page(facts)
        if contact is None or home is None:
            return []
        ctx.summary.setdefault("content", {})["footer_contact"] = {
            "source": contact.source, "found": dict(sorted(contact.found.items())), "missing": contact.missing,
        }
        if not contact.missing:
            return []
        zh = "、".join(PART_NAMES[p][0] for p in contact.missing)
        en = ", ".join(PART_NAMES[p][1] for p in contact.missing)
        return [Finding.of(
            "footer-contact-incomplete", page=home.url, target=None,
            detail=f"首頁頁尾未提供機關{zh}。",
            detail_en=f"The home page's footer does not give the agency's {en}.",
            evidence={"missing": contact.missing, "found": dict(sorted(contact.found.items())),
                      "source": contact.source},
        )]


# ---------------------------------------------------------------------------------------------
# Open-data declaration


def declaration_pages(facts: SiteFacts) -> list[PageFacts]:
    """The crawled pages the `open-data-declaration` feature (checks/services.py) points at, by URL."""
    urls = detect_features(facts)["open-data-declaration"].evidence
    pages: dict[str, PageFacts] = {}
    for url in urls:
        page = facts.page(url)
        if page is not None and _served(page) and page.url != facts.agency.url:
            pages.setdefault(page.url, page)
    return [pages[url] for url in sorted(pages, key=lambda u: (pages[u].depth, u))]


def missing_clauses(text: str, *, required_only: bool = True) -> list[dict[str, Any]]:
    """The clauses of the standard declaration that `text` does not carry (none when it cites OGDL);
    with `required_only`, only those data/content_rules.yaml does not mark `required: false`."""
    spec = rules()["open_data_declaration"]
    body = norm(text)
    if any(norm(ref) in body for ref in spec["licence_references"]):
        return []
    return [c for c in spec["clauses"] if (c.get("required", True) or not required_only)
            and not any(norm(word) in body for word in c["any"])]


class OpenDataDeclarationCheck(Check):
    """The 政府網站資料開放宣告 page carries the standard licence clauses, not only its title."""

    meta = CheckMeta(
        id="open-data-declaration", check="content",
        rules=("open-data-declaration-incomplete",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings = []
        judged = []
        for page in declaration_pages(facts):
            missing = missing_clauses(page.text)
            absent = [c["id"] for c in missing_clauses(page.text, required_only=False)]
            judged.append({"page": page.url, "missing": absent})
            if not missing:
                continue
            findings.append(Finding.of(
                "open-data-declaration-incomplete",
                page=page.url, target=None,
                detail="政府網站資料開放宣告缺少標準條款：" + "、".join(f"「{c['name_zh']}」" for c in missing) + "。",
                detail_en="The open-data declaration lacks standard clauses: "
                + "; ".join(c["name_en"] for c in missing) + ".",
                evidence={"missing": [c["id"] for c in missing]},
            ))
        ctx.summary.setdefault("content", {})["open_data_declaration"] = judged
        return findings


# ---------------------------------------------------------------------------------------------
# Update dates on content pages


@lru_cache(maxsize=1)
def _list_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p["pattern"], re.IGNORECASE) for p in rules()["content_pages"]["list_url_patterns"])


def _dated_lines(text: str, limit: int) -> int:
    """How many lines are a bare date or end with one (the rows of a dated list), counted up to `limit`."""
    count = 0
    for line in text.split("\n"):
        if len(line) > 120 or not any(ch.isdigit() for ch in line[-12:]):
            continue
        found = find_dates(line[-12:])
        if found and found[-1].end == len(line[-12:]):
            count += 1
            if count >= limit:
                break
    return count


def not_content_reason(facts: SiteFacts, page: PageFacts, sitemaps: frozenset[str],
                       homes: frozenset[str] = frozenset()) -> str | None:
    """Why `page` is no content page (home, sitemap, list, search, error), None when it is one. `homes`:
    other home pages (the English site's, where the `english` feature links)."""
    if not _served(page):
        return "error"
    if facts.agency.url in (page.url, page.final_url) or page.url in homes:
        return "home"
    if page.url in sitemaps:
        return "sitemap"
    parts = urlsplit(page.final_url or page.url)
    address = parts.path + ("?" + parts.query if parts.query else "")
    if any(p.search(address) for p in _list_patterns()):
        return "list"
    limit = int(rules()["content_pages"]["dated_lines"])
    if _dated_lines(page.text, limit) >= limit:
        return "list"
    return None


class UpdateDateCheck(Check):
    """Each content page shows its own update date (a labelled date in its text)."""

    meta = CheckMeta(
        id="update-date", check="content",
        rules=("missing-update-date",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        detected = detect_features(facts)
        sitemaps = frozenset(detected["sitemap"].evidence)
        homes = frozenset(detected["english"].evidence)
        findings = []
        counts = {"content_pages": 0, "undated": 0}
        pages = sorted((p for p in facts.pages if not_content_reason(facts, p, sitemaps, homes) is None),
                       key=lambda p: (p.depth, p.url))
        for page in pages:
            counts["content_pages"] += 1
            # the page's own text date (checks/dates.py: read in its content region, never the footer's
            # site date); a date repeated on many pages in the content still shows the reader a date
            evidence = last_update_evidence(page)
            if evidence is not None and evidence.source == SOURCE_TEXT:
                continue
            counts["undated"] += 1
            other = {"source": evidence.source, "label": evidence.label} if evidence else None
            findings.append(Finding.of(
                "missing-update-date", page=page.url, target=None,
                detail="內容頁未標示更新日期（如「更新日期：113-05-20」）。",
                detail_en="The content page shows no update date (e.g. 更新日期：113-05-20).",
                evidence={"title": page.title[:100], "other_date": other},
            ))
        ctx.summary.setdefault("content", {})["update_dates"] = counts
        return findings


# ---------------------------------------------------------------------------------------------
# Mobile layout


_DEVICE_WIDTH = re.compile(r"width\s*=\s*device-width", re.IGNORECASE)


class MobileLayoutCheck(Check):
    """A viewport meta on every page; no sideways scrolling at 360 × 640 on the sampled pages."""

    meta = CheckMeta(
        id="mobile-layout", check="content",
        rules=("viewport-missing", "horizontal-scroll"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings = []
        for page in sorted(facts.pages, key=lambda p: (p.depth, p.url)):
            if not _served(page) or page.content_type and "html" not in page.content_type:
                continue
            values = page.meta.get("viewport", [])
            if any(_DEVICE_WIDTH.search(v) for v in values):
                continue
            findings.append(Finding.of(
                "viewport-missing", page=page.url, target=None,
                detail="網頁未設定行動裝置顯示寬度（`<meta name=\"viewport\" content=\"width=device-width\">`），手機上會縮小顯示桌面版面。",
                detail_en="No viewport meta with width=device-width: phones show the desktop layout shrunk.",
                evidence={"viewport": values[:3]},
            ))
        for result in sorted(facts.a11y, key=lambda r: r.url):
            layout = getattr(result, "layout", None) or {}
            scroll, client = layout.get("scroll_width"), layout.get("client_width")
            if not isinstance(scroll, int) or not isinstance(client, int):
                continue
            # a phone's scroll bars float over the page: compare with the window's width, not with the
            # client width a desktop scroll bar narrows
            if scroll <= max(client, int(layout.get("width") or 0)):
                continue
            findings.append(Finding.of(
                "horizontal-scroll", page=result.url, target=None,
                detail=f"以 {layout.get('width', 360)} × {layout.get('height', 640)} 的手機畫面瀏覽時須左右捲動"
                f"（內容寬 {scroll} 像素，畫面寬 {client} 像素）。",
                detail_en=f"At {layout.get('width', 360)} × {layout.get('height', 640)} the page scrolls sideways "
                f"(content {scroll} px wide, viewport {client} px).",
                evidence={"scroll_width": scroll, "client_width": client,
                          "window": [layout.get("width", 360), layout.get("height", 640)]},
            ))
        return findings


# ---------------------------------------------------------------------------------------------
# English version


_ENGLISH_SEGMENT = re.compile(r"/(en|eng|english|en-us)(?=/|$)", re.IGNORECASE)


def english_prefixes(facts: SiteFacts) -> list[str]:
    """Address prefixes of the English site: for each `english` feature link whose address says English,
    its host (en.example.gov.tw) or its path up to the English segment (/en/), with a trailing slash."""
    patterns = features()["english"].url_patterns
    out = set()
    for url in detect_features(facts)["english"].evidence:
        if not any(p.search(url) for p in patterns):
            continue  # a link named English whose address says nothing: its folder is not the site
        parts = urlsplit(url)
        m = _ENGLISH_SEGMENT.search(parts.path)
        path = parts.path[:m.end()] + "/" if m else "/"
        out.add(f"{parts.scheme}://{parts.netloc}{path}")
    return sorted(out)


def _on_english_site(page: PageFacts, prefixes: tuple[str, ...]) -> bool:
    url = page.url if page.url.endswith("/") else page.url + "/"
    return url.startswith(prefixes) or (page.lang or "").lower().startswith("en")


def _newest(pages: list[PageFacts]) -> tuple[date, str] | None:
    best: tuple[date, str] | None = None
    for page in pages:
        evidence = last_update_evidence(page)
        if evidence is not None and (best is None or (evidence.date, page.url) > best):
            best = (evidence.date, page.url)
    return best


class EnglishVersionCheck(Check):
    """The English site's newest date is not far behind the Chinese site's."""

    meta = CheckMeta(
        id="english-version", check="content",
        rules=("english-version-behind",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        prefixes = english_prefixes(facts)
        if not prefixes:
            return []
        served = [p for p in facts.pages if _served(p)]
        english = [p for p in served if _on_english_site(p, tuple(prefixes))]
        chinese = [p for p in served if p not in english]
        newest_en, newest_zh = _newest(english), _newest(chinese)
        summary = {"prefixes": prefixes, "english_newest": newest_en and newest_en[0].isoformat(),
                   "chinese_newest": newest_zh and newest_zh[0].isoformat()}
        ctx.summary.setdefault("content", {})["english_version"] = summary
        if newest_en is None or newest_zh is None:
            return []
        lag = (newest_zh[0] - newest_en[0]).days
        limit = int(ctx.option("english_max_lag_days", rules()["english"]["max_lag_days"]))
        if lag <= limit:
            return []
        return [Finding.of(
            "english-version-behind", page=newest_en[1], target=None,
            detail=f"英文版最新資料日期（{newest_en[0].isoformat()}）比中文版（{newest_zh[0].isoformat()}）"
            f"落後 {lag} 天。",
            detail_en=f"The English version's newest date ({newest_en[0].isoformat()}) is {lag} days behind "
            f"the Chinese version's ({newest_zh[0].isoformat()}).",
            evidence={"english_newest": newest_en[0].isoformat(), "english_page": newest_en[1],
                      "chinese_newest": newest_zh[0].isoformat(), "chinese_page": newest_zh[1],
                      "lag_days": lag, "max_lag_days": limit},
        )]


# ---------------------------------------------------------------------------------------------
# Titles in the document properties of downloadable documents


def gathered_documents(facts: SiteFacts) -> list[dict[str, Any]]:
    """The document records of crawler/documents.py (`facts.artifacts.documents`), well-formed ones only."""
    gathered = facts.artifacts.documents
    docs = gathered.get("documents") if isinstance(gathered, dict) else None
    return [d for d in docs or [] if isinstance(d, dict) and d.get("url")]


class DocumentTitleCheck(Check):
    """Each downloadable document the site offers carries a title in its document properties."""

    meta = CheckMeta(
        id="document-titles", check="content",
        rules=("document-title-missing",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        docs = gathered_documents(facts)
        judged = [d for d in docs if isinstance(d.get("properties"), dict)]
        untitled = [d for d in judged if not d["properties"].get("title")]
        ctx.summary.setdefault("content", {})["document_titles"] = {
            "documents": len(docs), "judged": len(judged), "untitled": len(untitled)}
        home = facts.agency.url
        findings = []
        for doc in untitled:
            fmt = str(doc.get("format") or "").upper()
            findings.append(Finding.of(
                "document-title-missing", page=doc.get("page") or home,
                target=doc["url"],
                detail=f"網站提供下載的 {fmt} 檔案未在文件屬性中設定標題，閱讀軟體與螢幕報讀軟體只能顯示檔名；"
                       "請於文件屬性填寫標題。",
                detail_en=f"A {fmt} file the site offers has no title in its document properties, so readers "
                          "and screen readers show only its file name; set the title in its properties.",
                evidence={"format": doc.get("format")},
            ))
        return sorted(findings, key=lambda f: (f.page, f.target or ""))
