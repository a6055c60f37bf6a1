"""Run one audit end to end: crawl → run store → gatherers → checks → scores → results.json → reports.

Everything after the crawl (disclosure_audit.crawl) reads the run store only, so an interrupted or
old run can be re-audited. The gatherers live in disclosure_audit.gatherers, the writer of
results.json and the reports in disclosure_audit.writer.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checks.artifacts import SiteArtifacts
from checks.audit import iter_findings
from checks.base import AuditContext
from checks.facts import Agency, SiteFacts
from checks.results import site_entry
from crawler import __version__
from crawler.collector import frozen_while
from crawler.store import Store, default_db_url
from disclosure_audit.crawl import crawl_site, run_distributed
from disclosure_audit.gatherers import gather_accessibility, run_site_gatherers
from disclosure_audit.options import AuditError, AuditOptions, prepare_out_dir, validate_url
from disclosure_audit.writer import complete_run, iso_utc


def judge_site_status(facts: SiteFacts) -> tuple[str, str | None]:
    """ok | partial | failed, with the reason a failed site could not be crawled at all."""
    if facts.pages:
        limited = [s for s in facts.skipped if s["reason"] in ("page-limit", "depth-limit")]
        if limited:
            return "partial", f"已達頁數或深度上限，{len(limited)} 個頁面僅檢查連結未解析 / page or depth limit reached"
        return "ok", None
    start = facts.result_for(facts.agency.url)
    if start is None:
        return "failed", "起始網址沒有任何回應 / the start URL gave no answer"
    if start.error == "robots":
        return "failed", "robots.txt 禁止爬取起始網址 / robots.txt forbids crawling the start URL"
    if start.error:
        return "failed", (f"無法連線到網站（{start.error}）/ the site could not be reached ({start.error}): "
                          f"{start.error_detail or ''}").strip()
    if start.status and start.status >= 400:
        return "failed", f"起始網址回應 HTTP {start.status} / the start URL answered HTTP {start.status}"
    return "failed", "起始網址不是 HTML 頁面 / the start URL is not an HTML page"


def audit_facts(store: Store, site_id: int, facts: SiteFacts, opts: AuditOptions, *, status: str,
                detail: str | None, duration_s: float) -> dict[str, Any]:
    """Checks, scores: from facts to one results.json site entry. The findings go to the run store as
    the checks produce them; the entry reads them back as a stream (never all in memory, issue 6)."""
    ctx = AuditContext(today=opts.today, lang=opts.lang, options=dict(opts.check_options))
    count = store.replace_findings(site_id, iter_findings(facts, ctx) if status != "failed" else ())
    entry = site_entry(facts, None, ctx, status=status, detail=detail, duration_s=duration_s,
                       findings_json=stored_findings(store, site_id, count))
    if facts.artifacts.axe_version:
        entry["accessibility"].setdefault("axe_version", facts.artifacts.axe_version)
    from checks.scoring import load_manual, load_rubric, score_site

    rubric = load_rubric(opts.rubric)
    manual = load_manual(opts.manual, rubric) if opts.manual else None
    entry["scores"] = score_site(entry, rubric, manual)
    return entry


def stored_findings(store: Store, site_id: int, count: int) -> Any:
    """A site's findings as a re-readable stream from the run store (checks.streamed.StreamedList)."""
    from checks.streamed import StreamedList

    return StreamedList(lambda: store.findings_json(site_id), count)


def validate_configuration(opts: AuditOptions) -> None:
    """Reject a bad rubric, manual file or check option before any request is sent (exit 2)."""
    from checks.disclosure_options import validate_options
    from checks.scoring import load_manual, load_rubric

    try:
        rubric = load_rubric(opts.rubric)
        if opts.manual:
            load_manual(opts.manual, rubric)
        validate_options(opts.check_options)
        if opts.accessibility:
            from crawler.a11y import A11yOptions

            A11yOptions(**opts.a11y)
    except ValueError as exc:
        raise AuditError(str(exc), 2) from None
    if opts.external not in ("check", "skip"):
        raise AuditError(f"--external 只能是 check 或 skip / --external must be check or skip, got {opts.external!r}", 2)
    hosts = {(urlsplit(opts.url).hostname or "").lower()} | {h.strip().lower() for h in opts.hosts}
    for seed in opts.seeds:
        if urlsplit(seed).scheme not in ("http", "https") or (urlsplit(seed).hostname or "").lower() not in hosts:
            raise AuditError(f"起始網址必須在受檢網站內 / a seed must be an http(s) URL on the site's hosts: {seed!r}", 2)


def finalize_site(store: Store, run_id: str, site_id: int, opts: AuditOptions,
                  duration_s: float) -> dict[str, Any]:
    """Gatherers, checks, scores and trend for one crawled site: its results.json entry."""
    facts = store.load_site_facts(site_id)
    with frozen_while():  # the facts live until the audit ends: kept out of the collector's passes
        try:
            return _audit_loaded_site(store, run_id, site_id, opts, duration_s, facts)
        finally:
            del facts


def _audit_loaded_site(store: Store, run_id: str, site_id: int, opts: AuditOptions, duration_s: float,
                       facts: SiteFacts) -> dict[str, Any]:
    status, detail = judge_site_status(facts)
    entry = None
    if status != "failed":
        entry = _gather_and_reuse(store, site_id, opts, facts, duration_s, status, detail)
    if entry is None:
        entry = audit_facts(store, site_id, facts, opts, status=status, detail=detail, duration_s=duration_s)
    store.update_site(site_id, status=status, detail=detail, stats=entry["stats"],
                      entry={**entry, "findings": None}, finished_at=datetime.now(UTC).replace(tzinfo=None))
    from checks.trend import annotate_trend

    today = store.raw_query("SELECT today FROM runs WHERE id = ?", (run_id,), one=True)
    entry["run"] = {"id": run_id, "finished_at": iso_utc(), "today": today[0] if today else None}
    annotate_trend(entry, store.earlier_results(facts.agency.url, run_id),
                   copied_from_run=_findings_copied_from(store, entry, facts.agency.url))
    entry.pop("run", None)
    return entry


def _findings_copied_from(store: Store, entry: dict[str, Any], agency_url: str) -> str | None:
    """The run whose findings `entry` copied (a reused entry), when the trend would compare with that
    very audit (the run's latest site of the same start URL, as Store.earlier_results reads it)."""
    reused = entry.get("reused")
    if not isinstance(reused, dict) or not reused.get("findings_from_run"):
        return None
    row = store.raw_query("SELECT max(id) FROM sites WHERE run_id = ? AND url = ?",
                          (reused["findings_from_run"], agency_url), one=True)
    return reused["findings_from_run"] if row and row[0] == reused.get("findings_from_site") else None


def _gather_and_reuse(store: Store, site_id: int, opts: AuditOptions, facts: SiteFacts, duration_s: float,
                      status: str, detail: str | None) -> dict[str, Any] | None:
    """Run the gatherers; then, on a recrawl where nothing judged changed, the previous entry (its
    findings copied) instead of running the checks again (disclosure_audit/reuse.py). None: run the checks."""
    from disclosure_audit import reuse

    digest_of_facts = reuse.facts_digest(store, site_id) if opts.incremental else None
    previous = reuse.previous_audit(store, site_id) if opts.incremental else None
    same_facts = previous is not None and (previous.extra or {}).get("facts_digest") == digest_of_facts
    run_site_gatherers(facts, opts, search_query=_previous_query(previous) if same_facts else None)
    gather_accessibility(store, site_id, facts, opts)
    if digest_of_facts is not None:
        facts.extra["facts_digest"] = digest_of_facts
        facts.extra["audit_digest"] = reuse.audit_digest(
            digest_of_facts, store, site_id, facts.stored_extra(), today=opts.today.isoformat(), lang=opts.lang,
            check_options=opts.check_options, rubric=opts.rubric, manual=opts.manual)
    store.update_site(site_id, extra=_merge(store.site(site_id).extra, facts.stored_extra()))
    entry = reuse.reusable_entry(previous, facts.extra.get("audit_digest", ""))
    if entry is None or entry.get("status") != status or entry.get("detail") != detail:
        return None
    entry["findings"] = stored_findings(store, site_id, store.copy_findings(previous.id, site_id))
    entry["stats"] = {**entry["stats"], "duration_s": round(duration_s, 2)}
    entry.pop("footprint", None)
    if facts.artifacts.footprint:
        entry["footprint"] = facts.artifacts.footprint
    entry["reused"] = {"findings_from_site": previous.id, "findings_from_run": previous.run_id}
    return entry


def _previous_query(previous: Any) -> str | None:
    """The search term the previous audit chose: the same pages give the same choice (no text re-read)."""
    if previous is None:
        return None
    search = SiteArtifacts.from_extra(previous.extra)[0].gathered("search")
    return search.get("query") if search is not None else None


def _merge(old: dict | None, new: dict) -> dict:
    merged = dict(old or {})
    merged.update(json.loads(json.dumps(new, default=str)))
    return merged


def audit_site(opts: AuditOptions) -> dict[str, Any]:
    """Crawl and audit one site; write results.json (and reports) into opts.out_dir."""
    opts.url = validate_url(opts.url)
    validate_configuration(opts)
    out_dir = prepare_out_dir(Path(opts.out_dir))
    db_url = opts.db_url or default_db_url(out_dir)
    store = Store(db_url)
    try:
        run_id = store.create_run(opts.today, __version__, {"url": opts.url, "max_pages": opts.max_pages,
                                                            "max_depth": opts.max_depth})
        started = datetime.now(UTC)
        agency = Agency(name=opts.agency_name or (urlsplit(opts.url).hostname or opts.url),
                        url=opts.url, code=opts.agency_code, group=opts.group)
        site_id = store.create_site(run_id, agency, [urlsplit(opts.url).hostname or "", *opts.hosts])
        t0 = time.monotonic()
        if opts.workers > 1 or opts.redis_url:
            run_distributed(opts, db_url, site_id)
        else:
            crawl_site(opts, db_url, site_id)
        entry = finalize_site(store, run_id, site_id, opts, time.monotonic() - t0)
        return complete_run(store, run_id, started, opts.today, entry, out_dir, opts.lang)
    finally:
        store.close()
