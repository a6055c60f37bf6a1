"""Accessibility findings from axe-core results, mapped to WCAG 2.1 and Freego codes, de-duplicated.

Rule enforced: 身心障礙者權益保障法 §52-2 (government websites pass accessibility testing, at least
level A) under 網站無障礙規範 110.07 (WCAG 2.1); scored under 資訊檢索完整性與便捷性. The raw axe
results were gathered by crawler/a11y.py (all four buckets); this check only interprets them:

- one finding per (axe rule, page) from `violations`, with the WCAG success criteria and level taken
  from axe's tags (wcag111 -> 1.1.1; wcag2a/wcag21a -> A) and the Freego v3 code where one matches
  (checks/data/axe_freego_map.csv, else the only Freego code of that SC in freego_v3_rules.csv);
- a node with the same rule and selector on several sampled pages (a shared header, footer or menu)
  is reported once, on the first page where it was seen, with the number of pages it affects;
- `incomplete` items are not findings: they are listed in the summary for manual review, with
  per-template figures (pages tested, violations by rule).
Severity: level A -> error (the legal minimum), AA -> warning, AAA or best practice -> notice.
Scope: only the results of pages on the audited site's hosts are judged (`site_results`); a page of
another host that reached the results (a redirect, a shared store) says nothing about this site.
"""

from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.base import AuditContext, Check, CheckMeta, Finding
from checks.computed.refresh import refresh_target
from checks.facts import A11yPageResult, SiteFacts, url_hostname

DATA = Path(__file__).resolve().parent / "data"
_SC_TAG = re.compile(r"^wcag(\d)(\d)(\d{1,2})$")
_LEVEL_TAGS = {
    "wcag2a": "A", "wcag21a": "A", "wcag22a": "A",
    "wcag2aa": "AA", "wcag21aa": "AA", "wcag22aa": "AA",
    "wcag2aaa": "AAA", "wcag21aaa": "AAA", "wcag22aaa": "AAA",
}
_SEVERITY = {"A": "error", "AA": "warning", "AAA": "notice", None: "notice"}
_LEVEL_ZH = {"A": "A 級", "AA": "AA 級", "AAA": "AAA 級", None: "最佳實務"}
_IMPACT_ORDER = {"critical": 4, "serious": 3, "moderate": 2, "minor": 1}
MAX_PAGES_LISTED = 20
MAX_INCOMPLETE_LISTED = 200


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@lru_cache(maxsize=1)
def freego_rules() -> dict[str, dict[str, str]]:
    """Freego v3 machine checks by code (checks/data/freego_v3_rules.csv, source on its first line)."""
    return {row["code"]: row for row in _read_csv("freego_v3_rules.csv")}


@lru_cache(maxsize=1)
def _axe_to_freego() -> dict[str, str]:
    return {row["axe_rule"]: row["freego"] for row in _read_csv("axe_freego_map.csv")}


def site_hosts(facts: SiteFacts) -> frozenset[str]:
    """The audited site's host names (its hosts in scope and its home page's host), lower-cased."""
    hosts = {h.lower() for h in facts.hosts if h}
    home = url_hostname(facts.agency.url) if facts.agency.url else None
    return frozenset(hosts | ({home} if home else set()))


def site_results(facts: SiteFacts) -> list[A11yPageResult]:
    """The axe results of pages on the audited site (every result when no host is known, as for
    `disclosure-audit a11y URL…`, which tests exactly the pages it is given). A page that a
    `<meta http-equiv="refresh" content="0;url=…">` leaves at once is set aside: axe tested the page
    it went to, not this one (issue 18)."""

    hosts = site_hosts(facts)
    out = []
    for r in facts.a11y:
        page = facts.page(r.url)
        if page is not None and refresh_target(page):
            continue  # axe saw the page the refresh went to: judged from static facts (checks/freego.py)
        if not hosts:
            out.append(r)
            continue
        try:
            host = url_hostname(r.url)
        except ValueError:
            host = None
        if host in hosts:
            out.append(r)
    return out


def wcag_criteria(tags: list[str]) -> list[str]:
    """Success criteria from axe tags: wcag111 -> 1.1.1, wcag1410 -> 1.4.10."""
    out = []
    for tag in tags:
        m = _SC_TAG.match(tag)
        if m:
            out.append(f"{m.group(1)}.{m.group(2)}.{m.group(3)}")
    return out


def wcag_level(tags: list[str]) -> str | None:
    """The lowest WCAG level a rule belongs to (A < AA < AAA), None for best-practice rules."""
    levels = {_LEVEL_TAGS[t] for t in tags if t in _LEVEL_TAGS}
    for level in ("A", "AA", "AAA"):
        if level in levels:
            return level
    return None


def freego_code(rule: str, criteria: list[str]) -> str | None:
    """The Freego code testing the same thing as the axe rule, else the only code of its SC."""
    mapped = _axe_to_freego().get(rule)
    if mapped:
        return mapped
    for sc in criteria:
        codes = [code for code, row in freego_rules().items() if row["wcag_sc"] == sc]
        if len(codes) == 1:
            return codes[0]
    return None


def selector_text(target: Any) -> str:
    """axe targets are lists, one entry per frame (" >> "), nested lists inside shadow DOM (" >>> ")."""
    if isinstance(target, list):
        return " >> ".join(" >>> ".join(map(str, t)) if isinstance(t, list) else str(t) for t in target)
    return str(target)


def _max_impact(impacts: list[str | None]) -> str | None:
    known = [i for i in impacts if i]
    return max(known, key=lambda i: _IMPACT_ORDER.get(i, 0)) if known else None


class Accessibility(Check):
    meta = CheckMeta(id="axe", check="accessibility", rule_set="axe-core")

    def run(self, facts: SiteFacts, ctx: AuditContext) -> list[Finding]:
        tested = [r for r in site_results(facts) if r.status == "ok"]
        summary = ctx.summary.setdefault("accessibility", {})
        summary.update({
            "status": facts.a11y_status,
            "pages_tested": len(tested),
            "detail": facts.a11y_detail,
            "axe_version": next((r.axe_version for r in tested if r.axe_version), None)
            or facts.artifacts.axe_version,
            "pages_failed": [{"url": r.url, "error": r.error, **_not_served(r)} for r in facts.a11y
                             if r.status != "ok"],
            "sample": [{"url": r.url, "reason": r.reason, "template": r.template, "status": r.status,
                        **_not_served(r)} for r in facts.a11y],
        })
        summary["templates"] = _per_template(tested)
        summary["incomplete"] = _incomplete(tested)
        if facts.a11y_status != "ok" or not tested:
            return []
        return _violation_findings(tested)


def _not_served(r: A11yPageResult) -> dict[str, Any]:
    """Why a sampled page was not tested / which one it stands in for (keys only when they apply)."""
    out: dict[str, Any] = {}
    if r.not_served:
        out.update(not_served=r.not_served, http_status=r.http_status, error=r.error)
    if r.replaces:
        out["replaces"] = r.replaces
    return out


def _per_template(results: list[A11yPageResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in results:
        entry = out.setdefault(r.template or "tpl-unknown", {"pages_tested": 0, "violations_by_rule": {}})
        entry["pages_tested"] += 1
        for v in r.violations:
            rule = entry["violations_by_rule"].setdefault(v["id"], {"pages": 0, "nodes": 0})
            rule["pages"] += 1
            rule["nodes"] += int(v.get("nodes_total") or len(v.get("nodes") or []))
    return out


def _incomplete(results: list[A11yPageResult]) -> list[dict[str, Any]]:
    """Items axe could not decide (manual review), one entry per rule with pages and an example."""
    by_rule: dict[str, dict[str, Any]] = {}
    for r in results:
        for item in r.incomplete:
            entry = by_rule.setdefault(item["id"], {
                "rule": item["id"], "help": item.get("help"), "impact": item.get("impact"),
                "wcag": wcag_criteria(item.get("tags") or []), "level": wcag_level(item.get("tags") or []),
                "pages": 0, "nodes": 0, "example_page": r.url,
                "example": selector_text(item["nodes"][0]["target"]) if item.get("nodes") else None,
                "templates": [],
            })
            entry["pages"] += 1
            entry["nodes"] += int(item.get("nodes_total") or len(item.get("nodes") or []))
            if r.template and r.template not in entry["templates"]:
                entry["templates"].append(r.template)
    return sorted(by_rule.values(), key=lambda e: (-e["pages"], e["rule"]))[:MAX_INCOMPLETE_LISTED]


def _violation_findings(results: list[A11yPageResult]) -> list[Finding]:
    # (rule, selector) -> pages where that node fails, in sample order
    where: dict[tuple[str, str], list[str]] = {}
    rule_meta: dict[str, dict[str, Any]] = {}
    for r in results:
        for v in r.violations:
            rule_meta.setdefault(v["id"], v)
            for node in v.get("nodes") or []:
                key = (v["id"], json.dumps(node.get("target"), ensure_ascii=False))
                pages = where.setdefault(key, [])
                if r.url not in pages:
                    pages.append(r.url)

    findings: list[Finding] = []
    for r in results:
        for v in r.violations:
            nodes_here, shared, impacts = [], [], []
            for node in v.get("nodes") or []:
                key = (v["id"], json.dumps(node.get("target"), ensure_ascii=False))
                pages = where[key]
                if pages[0] != r.url:
                    continue  # reported on the first page where this shared node was seen
                nodes_here.append(node)
                impacts.append(node.get("impact"))
                if len(pages) > 1:
                    shared.append({"selector": selector_text(node.get("target")), "pages": len(pages)})
            extra_nodes = max(0, int(v.get("nodes_total") or 0) - len(v.get("nodes") or []))
            if not nodes_here and not extra_nodes:
                continue
            findings.append(_finding(r, v, nodes_here, shared, extra_nodes, where))
    return findings


def _finding(r: A11yPageResult, v: dict[str, Any], nodes: list[dict[str, Any]], shared: list[dict[str, Any]],
             extra_nodes: int, where: dict[tuple[str, str], list[str]]) -> Finding:
    tags = list(v.get("tags") or [])
    criteria, level = wcag_criteria(tags), wcag_level(tags)
    freego = freego_code(v["id"], criteria)
    affected: list[str] = [r.url]
    for node in nodes:
        for url in where[(v["id"], json.dumps(node.get("target"), ensure_ascii=False))]:
            if url not in affected:
                affected.append(url)
    example = selector_text(nodes[0].get("target")) if nodes else None
    count = len(nodes) + extra_nodes
    help_text = str(v.get("help") or v["id"])
    sc_text = "、".join(criteria) or "—"
    where_zh = f"，同一元件出現在 {len(affected)} 個受測頁面（共用版型元件，僅報告一次）" if len(affected) > 1 else ""
    where_en = f"; the same element is on {len(affected)} tested pages (shared component, reported once)" \
        if len(affected) > 1 else ""
    return Finding(
        check="accessibility",
        rule=v["id"],
        severity=_SEVERITY[level],  # type: ignore[arg-type]
        page=r.url,
        target=None,
        detail=(f"無障礙檢測未通過（{_LEVEL_ZH[level]}，WCAG {sc_text}"
                f"{'，Freego ' + freego if freego else ''}）：{count} 個元素違反 axe 規則「{v['id']}」"
                f"{'，例如「' + example + '」' if example else ''}{where_zh}。"),
        detail_en=f"axe rule {v['id']} ({help_text}; WCAG {sc_text}, level {level or 'best practice'}) "
                  f"fails on {count} element(s), e.g. {example or '-'}{where_en}.",
        evidence={
            "impact": _max_impact([n.get("impact") for n in nodes]) or v.get("impact"),
            "wcag": criteria,
            "level": level,
            "nodes": count,
            "example": example,
            "html": (nodes[0].get("html") or "")[:300] if nodes else None,
            "freego": freego,
            "template": r.template,
            "help": help_text[:300],
            "help_url": v.get("helpUrl"),
            "pages_affected": len(affected),
            "pages": affected[:MAX_PAGES_LISTED],
            "shared": shared[:MAX_PAGES_LISTED],
        },
    )
