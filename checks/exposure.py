"""Exposure: what a government site must never publish (check family `exposure`).

- `open-directory-listing` (error): a crawled page is a web server's directory listing (Apache, nginx,
  IIS, lighttpd, Python http.server, Tomcat; markers in checks/data/directory_listing.yaml).
  臺北市政府各機關網站服務作業原則 參、二(三)「禁止開放網站瀏覽目錄權限」.
- `personal-data-exposed` (error; a person confirms): a page, or a document the site offers (PDF, ODT,
  ODS, DOCX, XLSX), carries 身分證統一編號 or 居留證 (外來人口統一證號) numbers with a valid check digit.
  個人資料保護法 §2 (1)、§5; 臺北市政府各機關網站服務作業原則 參、二(二)（不得公開個人資料）.
- `document-unreadable` (notice, not scored): a document could not be read (too large, encrypted,
  no text layer, damaged…): listed with its reason, never guessed.

Facts: the crawler masks the numbers before anything is stored and records them per page
(`page.artifacts.personal_ids`, crawler/personal_ids.py) and per document (`facts.artifacts.documents`,
crawler/documents.py); this check only judges those masked records, so no finding, report or log can
carry a full number. Domain notes: docs/rules-exposure.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.facts import PageFacts, SiteFacts

KIND_ZH = {"national-id": "身分證統一編號", "resident-new": "新式居留證統一證號", "resident-old": "舊式居留證統一證號"}
KIND_EN = {"national-id": "identity card number", "resident-new": "resident certificate number (new format)",
           "resident-old": "resident certificate number (old format)"}
REASON_ZH = {"too-large": "檔案超過下載上限", "time-limit": "超過讀取時間上限", "timeout": "下載逾時",
             "encrypted": "檔案加密", "no-text": "檔案沒有文字層（可能為掃描影像）",
             "redirect-out-of-scope": "重新導向至受檢網站以外", "too-many-redirects": "重新導向次數過多"}
SHOWN_NUMBERS = 5  # masked forms named in a finding's text; evidence lists up to 50


@dataclass(frozen=True)
class ListingMarker:
    server: str
    title: re.Pattern[str]
    heading: re.Pattern[str] | None
    text: re.Pattern[str] | None

    def matches(self, page: PageFacts) -> bool:
        if not self.title.search(page.title or ""):
            return False
        if self.heading is not None and not any(self.heading.search(h) for level, h in page.headings if level <= 3):
            return False
        return self.text is None or bool(self.text.search(page.text or ""))


@lru_cache(maxsize=1)
def listing_markers() -> tuple[ListingMarker, ...]:
    data = yaml.safe_load(resources.files("checks").joinpath("data/directory_listing.yaml").read_text("utf-8"))

    def pattern(value: str | None) -> re.Pattern[str] | None:
        return re.compile(value, re.MULTILINE) if value else None

    return tuple(ListingMarker(e["server"], re.compile(e["title"]), pattern(e.get("heading")),
                               pattern(e.get("text"))) for e in data["listings"])


def listing_server(page: PageFacts) -> str | None:
    """The server whose directory listing `page` is, None when it is not one."""
    return next((m.server for m in listing_markers() if m.matches(page)), None)


def _directory(url: str) -> str:
    """The listed directory: the address without its query (?C=M;O=A re-sorts the same listing)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class DirectoryListing(Check):
    meta = CheckMeta(
        id="directory-listing", check="exposure",
        rules=("open-directory-listing",),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        listed: dict[str, tuple[PageFacts, str]] = {}
        for page in sorted(facts.pages, key=lambda p: (p.depth, len(p.url), p.url)):
            if page.status is not None and not 200 <= page.status < 300:
                continue
            server = listing_server(page)
            if server:
                listed.setdefault(_directory(page.final_url or page.url), (page, server))
        findings = [self._finding(directory, page, server) for directory, (page, server) in listed.items()]
        ctx.summary.setdefault("exposure", {})["directory_listings"] = len(findings)
        return sorted(findings, key=lambda f: f.page)

    @staticmethod
    def _finding(directory: str, page: PageFacts, server: str) -> Finding:
        return Finding.of(
            "open-directory-listing", page=page.url, target=None,
            detail=f"此網址開放瀏覽目錄（{server} 的目錄清單「{page.title[:80]}」），任何人都能看到並下載目錄內所有檔案；"
                   "請關閉伺服器的目錄瀏覽功能。",
            detail_en=f"This address is an open directory listing ({server}: \"{page.title[:80]}\"): anyone can "
                      "see and download every file in it; turn directory browsing off on the server.",
            evidence={"server": server, "title": page.title[:200], "directory": directory},
        )


def _numbers_text(record: dict[str, Any]) -> tuple[str, str]:
    """「A12****789、B12****780 等 3 組」 and its English twin, from masked entries only."""
    shown = [n["masked"] for n in record.get("numbers") or []][:SHOWN_NUMBERS]
    count = int(record.get("count") or len(shown))
    kinds = sorted({n["kind"] for n in record.get("numbers") or []})
    zh = "、".join(shown) + (f" 等 {count} 組" if count > len(shown) else f"，共 {count} 組")
    en = ", ".join(shown) + (f" and {count - len(shown)} more" if count > len(shown) else "")
    kind_zh = "、".join(KIND_ZH.get(k, k) for k in kinds)
    kind_en = ", ".join(KIND_EN.get(k, k) for k in kinds)
    return f"{kind_zh}：{zh}", f"{count} {kind_en}(s): {en}"


def _evidence(record: dict[str, Any], source: str) -> dict[str, Any]:
    numbers = sorted(record.get("numbers") or [], key=lambda n: (n["masked"], n["kind"]))
    kinds: dict[str, int] = {}
    for n in numbers:
        kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
    return {"source": source, "numbers": numbers, "count": record.get("count"),
            "occurrences": record.get("occurrences"), "kinds": dict(sorted(kinds.items())),
            "masked": True, "confirm": "人工確認 / a person confirms"}


class PersonalData(Check):
    meta = CheckMeta(
        id="personal-data", check="exposure",
        rules=("personal-data-exposed", "document-unreadable"),
    )

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings = [self._page_finding(page, page.artifacts.personal_ids)
                    for page in facts.pages if isinstance(page.artifacts.personal_ids, dict)]
        gathered = facts.artifacts.documents if isinstance(facts.artifacts.documents, dict) else {}
        docs = [d for d in gathered.get("documents") or [] if isinstance(d, dict) and d.get("url")]
        home = facts.agency.url
        for doc in docs:
            if doc.get("status") == "read" and isinstance(doc.get("personal_ids"), dict):
                findings.append(self._document_finding(doc, home))
            elif doc.get("status") == "unreadable":
                findings.append(self._unreadable(doc, home))
        summary = ctx.summary.setdefault("exposure", {})
        summary["pages_with_personal_data"] = sum(f.target is None for f in findings)
        summary["documents"] = {
            "candidates": gathered.get("candidates", 0), "read": sum(d.get("status") == "read" for d in docs),
            "unreadable": sum(d.get("status") == "unreadable" for d in docs),
            "not_read": gathered.get("not_read", 0),
            "with_personal_data": sum(f.rule == "personal-data-exposed" and f.target is not None for f in findings),
        }
        if gathered.get("status") == "failed":
            summary["documents"]["error"] = gathered.get("error")
        return sorted(findings, key=lambda f: (f.rule, f.page, f.target or ""))

    @staticmethod
    def _page_finding(page: PageFacts, record: dict[str, Any]) -> Finding:
        zh, en = _numbers_text(record)
        return Finding.of(
            "personal-data-exposed", page=page.url, target=None,
            detail=f"網頁公開了檢查碼正確的{zh}（已遮蔽）；請人工確認後移除或遮蔽。",
            detail_en=f"The page publishes {en} with valid check digits (masked here); confirm and remove or mask them.",
            evidence=_evidence(record, "page"),
        )

    @staticmethod
    def _document_finding(doc: dict[str, Any], home: str) -> Finding:
        zh, en = _numbers_text(doc["personal_ids"])
        fmt = str(doc.get("format") or "").upper()
        return Finding.of(
            "personal-data-exposed", page=doc.get("page") or home,
            target=doc["url"],
            detail=f"網站提供下載的 {fmt} 檔案含有檢查碼正確的{zh}（已遮蔽）；請人工確認後移除或遮蔽。",
            detail_en=f"A {fmt} file the site offers contains {en} with valid check digits (masked here); "
                      "confirm and remove or mask them.",
            evidence={**_evidence(doc["personal_ids"], "document"), "format": doc.get("format")},
        )

    @staticmethod
    def _unreadable(doc: dict[str, Any], home: str) -> Finding:
        reason = str(doc.get("reason") or "unknown")
        fmt = str(doc.get("format") or "").upper()
        if reason.startswith("http-"):
            reason_zh = f"下載時伺服器回應 HTTP {reason[5:]}"
        elif reason.startswith(("corrupt", "request")):
            reason_zh = "檔案損毀或格式不符" if reason.startswith("corrupt") else "下載失敗"
        else:
            reason_zh = REASON_ZH.get(reason, "無法讀取")
        return Finding.of(
            "document-unreadable", page=doc.get("page") or home,
            target=doc["url"],
            detail=f"無法讀取此 {fmt} 檔案的文字（{reason_zh}），未能檢查其中是否含有個人資料；請人工檢視。",
            detail_en=f"The text of this {fmt} file could not be read ({reason}), so it was not checked for "
                      "personal data; review it by hand.",
            evidence={"unreadable": reason, "format": doc.get("format"), "bytes": doc.get("bytes")},
        )
