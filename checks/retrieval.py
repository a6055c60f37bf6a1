"""Retrieval aids: site search (found, and does it work?), site map, English version, RSS.

Rule: ../shared/domain/README.md §1 indicator `retrieval` (資訊檢索完整性與便捷性: site search with
paging and sorting by relevance, date or topic; a usable home page) and §6 (convention: 網站導覽,
英文版, 站內搜尋, RSS — reported as notices). The search form is found in the stored forms of the
crawled pages (`find_search_forms`); whether a real query returns results, paged and sortable, is
measured by the gatherer crawler/search_probe.py and stored in `facts.artifacts.search`, which this
check only judges. A search box outside any `<form>` (an input and a button wired by script, as in
Hyweb's HyUI templates: 基隆市政府 mp.htm) is a site search too (`find_search_boxes`, from
`PageFacts.search_inputs`); the probe cannot submit it, so whether it works stays unmeasured.
"""

from __future__ import annotations

from typing import Any

from checks.base import AuditContext, CheckMeta, Finding
from checks.computed.search_forms import find_search_forms
from checks.facts import SiteFacts
from checks.services import FeatureCheck


def is_search_box(field: dict[str, Any]) -> bool:
    """A search-like input a visitor can use: inside a form (Enter submits it), or outside one with
    a button beside it or inside a `role="search"` region (the page's script submits it)."""
    return bool(field.get("in_form") or field.get("has_button") or field.get("in_search_role"))


def find_search_boxes(facts: SiteFacts, *, in_form: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """(page URL, input) for every search box outside a form (`in_form`: inside one), home page first."""
    out = []
    pages = sorted(facts.pages, key=lambda p: (p.url != facts.agency.url, p.depth, p.url))
    for page in pages:
        if page.status is not None and page.status >= 400:
            continue
        out.extend((page.url, field) for field in getattr(page, "search_inputs", None) or ()
                   if bool(field.get("in_form")) == in_form and is_search_box(field))
    return out


class RetrievalAids(FeatureCheck):
    """Site search form present and working; site map, English version and RSS present."""

    meta = CheckMeta(
        id="retrieval-aids", check="retrieval",
        rules=("missing-site-search", "missing-sitemap", "missing-english", "missing-rss",
               "site-search-failed", "site-search-no-results", "site-search-not-paged",
               "site-search-not-sorted"),
    )
    indicator_of_features = "retrieval"
    family = "retrieval"

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        findings = super().run(facts, ctx)
        forms = find_search_forms(facts)
        form_pages = list(dict.fromkeys(page_url for page_url, _, _ in forms))  # a set: 10,000 forms
        box_pages = list(dict.fromkeys(page_url for page_url, _ in find_search_boxes(facts)))
        # a form whose search box has no query-like name (accesskey S, aria-label 搜尋…): still a search
        form_pages += [u for u, _ in find_search_boxes(facts, in_form=True) if u not in form_pages]
        probe = facts.artifacts.search if isinstance(facts.artifacts.search, dict) else None
        ctx.summary.setdefault("services", {})["site-search"] = {
            "found": bool(forms or box_pages), "evidence": list(dict.fromkeys(form_pages + box_pages))[:10],
            "scripted": box_pages[:10], "probe": probe,
        }
        home = facts.agency.url
        if not forms and not box_pages and not (probe and probe.get("form_page")):
            findings.append(Finding.of(
                "missing-site-search",
                page=home, target=None,
                detail="網站找不到可送出的站內搜尋表單。",
                detail_en="No site search form was found.",
                evidence={"feature": "site-search"},
            ))
        if probe:
            findings.extend(judge_probe(probe, home))
        return findings


def judge_probe(probe: dict[str, Any], home: str) -> list[Finding]:
    """Findings from one search probe result (see crawler/search_probe.py for its fields)."""
    if not probe.get("form_page"):
        return []
    page = probe["form_page"]
    target = probe.get("results_url")
    query = str(probe.get("query") or "")[:40]
    status = probe.get("status")
    evidence = {"query": query, "status": status, "results_url": target}
    if probe.get("error") or status is None or (isinstance(status, int) and status >= 400):
        return [Finding.of(
            "site-search-failed", page=page, target=target,
            detail=f"站內搜尋「{query}」沒有正常回應（{_failure_zh(probe.get('error'), status)}）。",
            detail_en=f"Site search for {query!r} failed ({probe.get('error') or status}).",
            evidence={**evidence, "error": probe.get("error")},
        )]
    if not probe.get("results_found"):
        return [Finding.of(
            "site-search-no-results", page=page, target=target,
            detail=f"以網站上常見的詞「{query}」站內搜尋，沒有找到任何結果。",
            detail_en=f"Searching the site for its own frequent term {query!r} returned no results.",
            evidence=evidence,
        )]
    out = []
    if probe.get("paged") is False:
        out.append(Finding.of(
            "site-search-not-paged", page=page, target=target,
            detail=f"站內搜尋「{query}」的結果沒有分頁。",
            detail_en=f"Search results for {query!r} are not paged.",
            evidence=evidence,
        ))
    if probe.get("sortable") is False:
        out.append(Finding.of(
            "site-search-not-sorted", page=page, target=target,
            detail=f"站內搜尋「{query}」的結果無法依相關性、日期或類別排序。",
            detail_en=f"Search results for {query!r} cannot be sorted (relevance, date, topic).",
            evidence=evidence,
        ))
    return out


def _failure_zh(error: object, status: object) -> str:
    """Why a search failed, in words (the raw error stays in the evidence)."""
    if not error:
        return f"HTTP {status}" if status is not None else "沒有回應"
    text = str(error).lower()
    if "timeout" in text or "timed out" in text:
        return "連線逾時"
    if text.startswith("content-type"):
        return "回應不是網頁"
    if text == "out-of-scope":
        return "搜尋表單送往其他網站，未送出查詢"
    if text == "no-query-term":
        return "找不到可用來查詢的詞"
    return "連線失敗"
