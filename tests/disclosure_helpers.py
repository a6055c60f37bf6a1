"""Builders shared by the disclosure / staleness / classification / services tests.

Facts are built the way the crawler builds them: real HTML through crawler.extract.extract_page.
The real-world pages are read from ../shared/realworld (never copied: they carry no licence).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from paths import REALWORLD

from checks.base import AuditContext, Check, Finding
from checks.facts import Agency, LinkResult, SiteFacts
from crawler.extract import extract_page

KEELUNG = "HywebU00__2021_keelung_gov"
NCYU = "kevinhsu7361__NCYU"
KEELUNG_FILES = ("mp.htm", "sitemap.htm", "lp01.htm", "cp01.htm")
NCYU_FILES = ("index202009.html", "html_news.htm")


def realworld_dir(folder: str) -> Path:
    path = REALWORLD / folder
    if not path.is_dir():
        pytest.skip(f"real-world test material not found: ../shared/realworld/{folder}")
    return path


def build_site(
    pages: dict[str, str],
    *,
    agency: str = "測試市政府",
    home: str | None = None,
    results: dict[str, LinkResult] | None = None,
    meta: dict[str, dict[str, Any]] | None = None,
) -> SiteFacts:
    """SiteFacts from {url: html}; `meta` sets PageFacts attributes per URL (status, last_modified)."""
    facts = SiteFacts(agency=Agency(name=agency, url=home or next(iter(pages))))
    for url, html in pages.items():
        parsed = extract_page(html, url)
        parsed.facts.status = 200
        for key, value in (meta or {}).get(url, {}).items():
            setattr(parsed.facts, key, value)
        facts.pages.append(parsed.facts)
        facts.links.extend(parsed.links)
    facts.link_results = dict(results or {})
    host = home or next(iter(pages))
    facts.hosts = [host.split("/")[2]]
    return facts


def realworld_site(folder: str, files: tuple[str, ...], base: str, agency: str) -> SiteFacts:
    root = realworld_dir(folder)
    pages = {f"{base}/{name}": (root / name).read_text(encoding="utf-8-sig") for name in files}
    return build_site(pages, agency=agency, home=f"{base}/{files[0]}")


def keelung_site(base: str = "http://127.0.0.1:8000") -> SiteFacts:
    return realworld_site(KEELUNG, KEELUNG_FILES, base, "基隆市政府")


def ncyu_site(base: str = "http://127.0.0.1:8000") -> SiteFacts:
    return realworld_site(NCYU, NCYU_FILES, base, "國立嘉義大學")


def run(check: type[Check], facts: SiteFacts, today: date = date(2024, 6, 1),
        **options: Any) -> tuple[list[Finding], AuditContext]:
    ctx = AuditContext(today=today, options=options)
    return check().run(facts, ctx), ctx


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def page(body: str, title: str = "測試市政府", head: str = "") -> str:
    return f"<!doctype html><html lang='zh-Hant'><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>{body}</body></html>"
