"""Assemble results.json (contract: shared/contract/results-schema.md, schema disclosure-audit/1).

Only additions to the contract are made here, and each is documented in docs/results-json.md.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from typing import Any

from checks.audit import load_checks
from checks.base import AuditContext, Finding
from checks.facts import SiteFacts, defrag
from checks.rules import rules_block
from checks.textnorm import link_index

SCHEMA = "disclosure-audit/1"


def art7_items() -> list[dict[str, Any]]:
    """The ten items of 政府資訊公開法 §7 I (statutory text from data/info_disclosure_art7.csv)."""
    text = resources.files("checks").joinpath("data/info_disclosure_art7.csv").read_text("utf-8")
    return [{"item": int(row["item_no"]), "name": row["statutory_text_zh"]}
            for row in csv.DictReader(text.splitlines())]


def empty_disclosure() -> dict[str, Any]:
    return {"section_urls": [],
            "categories": [{**item, "found": False, "evidence": []} for item in art7_items()]}


def site_stats(facts: SiteFacts, duration_s: float) -> dict[str, Any]:
    documents = {r.url for r in facts.link_results.values()
                 if r.content_type and "html" not in r.content_type.lower() and r.status and r.status < 400}
    return {"pages": len(facts.pages), "documents": len(documents),
            "links_checked": len(facts.link_results), "duration_s": round(duration_s, 2)}


def coverage(facts: SiteFacts) -> dict[str, Any]:
    """How much of the site we saw: discovered targets, fetched pages, skipped by reason."""
    reasons = Counter(item["reason"] for item in facts.skipped)
    # each distinct target once (600,000 strings, not 5,000,000 links at 100,000 pages)
    targets = {defrag(target)[0] for target in link_index(facts).by_target}
    return {"discovered": len(targets | {facts.agency.url}),
            "fetched_pages": len(facts.pages), "checked": len(facts.link_results),
            "skipped": dict(sorted(reasons.items()))}


def site_entry(facts: SiteFacts, findings: list[Finding] | None, ctx: AuditContext, *, status: str,
               detail: str | None, duration_s: float, findings_json: Any = None) -> dict[str, Any]:
    """One results.json site entry. `findings_json`, when given, is used as the entry's findings as it is
    (already in results.json shape, e.g. a stream read back from the run store) instead of `findings`."""
    summary = dict(ctx.summary)
    accessibility = {"status": facts.a11y_status, "pages_tested": len([r for r in facts.a11y
                                                                       if r.status == "ok"]),
                     "detail": facts.a11y_detail}
    accessibility.update(summary.pop("accessibility", {}) or {})
    entry: dict[str, Any] = {
        "agency": {"name": facts.agency.name, "code": facts.agency.code, "url": facts.agency.url,
                   "group": facts.agency.group},
        "status": status,
        "detail": detail,
        "stats": site_stats(facts, duration_s),
        "disclosure": summary.pop("disclosure", None) or empty_disclosure(),
        "scores": {"dimension": None, "indicators": []},
        "accessibility": accessibility,
        "findings": findings_json if findings_json is not None else [f.to_json() for f in findings or []],
        "coverage": coverage(facts),
    }
    if facts.artifacts.footprint:
        entry["footprint"] = facts.artifacts.footprint
    if facts.artifacts.tls:
        entry["tls"] = facts.artifacts.tls
    for key, value in summary.items():
        entry.setdefault(key, value)
    return entry


def results_document(*, run_id: str, started_at: str, finished_at: str, today: str, version: str,
                     sites: list[dict[str, Any]], extra_run: dict[str, Any] | None = None) -> dict[str, Any]:
    run = {"id": run_id, "started_at": started_at, "finished_at": finished_at, "today": today}
    run.update(extra_run or {})
    return {"schema": SCHEMA, "tool": {"name": "disclosure-audit", "version": version}, "run": run,
            "rules": run_rules(sites), "sites": sites}


def run_rules(sites: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """results.json `rules` (docs/results-json.md): the rules.yaml entries of every rule id the
    registered checks declare, and of the ids the sites' findings carry beside them (axe-core ids)."""
    declared = [rid for check_cls in load_checks() for rid in check_cls.meta.rules]
    return rules_block(declared, (pair for site in sites for pair in _seen_rules(site)))


def _seen_rules(site: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(check, rule) of a site's findings. A stream read back from the run store (100,000 findings,
    issue 6) is not read again for this: its axe-core ids are the ones the accessibility summary
    counts per template (every other id a check emits is declared)."""
    findings = site.get("findings")
    if isinstance(findings, list):
        for f in findings:
            if isinstance(f, dict) and f.get("rule"):
                yield str(f.get("check") or ""), str(f["rule"])
        return
    templates = (site.get("accessibility") or {}).get("templates") or {}
    for entry in templates.values() if isinstance(templates, dict) else ():
        for rid in (entry or {}).get("violations_by_rule") or {}:
            yield "accessibility", str(rid)
