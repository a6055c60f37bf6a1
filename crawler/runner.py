"""Run one audit end to end: crawl → run store → gatherers → checks → scores → results.json → reports.

The crawl runs in a child process: Twisted's reactor cannot be restarted, and a child keeps a hostile
site's memory away from the caller (the CLI, a fleet run, a test). Everything after the crawl reads
the run store only, so an interrupted or old run can be re-audited.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checks.audit import iter_findings
from checks.base import AuditContext
from checks.facts import A11yPageResult, Agency, SiteFacts
from checks.results import results_document, site_entry
from crawler import __version__
from crawler.store import Store, default_db_url


class AuditError(Exception):
    """A problem the user can fix (bad URL, unwritable folder): one clear sentence, no traceback.

    `exit_code` is 2 for usage/configuration errors and 3 when the audit could not be completed."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class AuditOptions:
    url: str
    out_dir: Path
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    max_pages: int = 2000
    max_depth: int = 10
    hosts: list[str] = field(default_factory=list)
    db_url: str | None = None
    accessibility: bool = True
    a11y: dict[str, Any] = field(default_factory=dict)  # options for crawler.a11y
    lang: str = "zh-TW"
    agency_name: str | None = None
    agency_code: str | None = None
    group: str | None = None
    download_timeout: float = 20.0
    per_host_concurrency: int = 4
    max_seconds: int = 3600
    check_options: dict[str, Any] = field(default_factory=dict)
    rubric: str | None = None
    manual: str | None = None
    tls_extra_ca: str | None = None
    quiet: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # extra Scrapy settings (tests, tuning)
    incremental: bool = True  # conditional requests against the previous audit of the same site
    allow_private: bool = False  # let links to private/intranet addresses be checked
    workers: int = 1  # >1: distributed crawl over a shared Redis frontier (crawler/distributed.py)
    redis_url: str | None = None
    external: str = "check"  # check: request links to other hosts; skip: list them as not checked
    seeds: list[str] = field(default_factory=list)  # extra start pages on the site's hosts
    http_ports: dict[str, int] = field(default_factory=dict)  # https host key -> its plain-http port (tests)


@dataclass
class SiteOutcome:
    site_id: int
    status: str
    detail: str | None
    duration_s: float


def validate_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuditError(f"「{url}」不是有效的網址（需要 http:// 或 https:// 開頭）/ not a valid http(s) URL: {url}", 2)
    return url.strip()


def prepare_out_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise AuditError(f"無法寫入輸出資料夾 / cannot write to the output folder {out_dir}: "
                         f"{exc.strerror or exc}", 2) from None
    return out_dir


def scrapy_settings(opts: AuditOptions) -> dict[str, Any]:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("DOWNLOAD_TIMEOUT", opts.download_timeout, priority="cmdline")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", opts.per_host_concurrency, priority="cmdline")
    settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(opts.per_host_concurrency), priority="cmdline")
    settings.set("CLOSESPIDER_TIMEOUT", opts.max_seconds, priority="cmdline")
    settings.set("LOG_LEVEL", "CRITICAL", priority="cmdline")
    settings.set("ALLOW_PRIVATE_ADDRESSES", opts.allow_private, priority="cmdline")
    for key, value in opts.settings.items():
        settings.set(key, value, priority="cmdline")
    return settings


def _crawl_child(opts: AuditOptions, db_url: str, site_id: int) -> None:
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.agency import AgencySpider

    process = CrawlerProcess(scrapy_settings(opts))
    previous = None
    if opts.incremental:
        from crawler.reuse import previous_site_id

        store = Store(db_url)
        previous = previous_site_id(store, opts.url, site_id)
        store.close()
    process.crawl(AgencySpider, url=opts.url, hosts=opts.hosts, max_pages=opts.max_pages,
                  max_depth=opts.max_depth, db_url=db_url, site_id=site_id, previous_site_id=previous,
                  external=opts.external, seeds=opts.seeds)
    process.start()


_CHILDREN: set[Any] = set()


def kill_children() -> None:
    """Stop every crawl child still running (the fleet's interrupt handler)."""
    for child in list(_CHILDREN):
        if child.is_alive():
            child.kill()


def crawl_site(opts: AuditOptions, db_url: str, site_id: int, start_method: str | None = None) -> None:
    """Crawl in a child process (fork where available; spawn when the caller runs threads) and wait."""
    method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    ctx = multiprocessing.get_context(method)
    child = ctx.Process(target=_crawl_child, args=(opts, db_url, site_id), daemon=False)
    child.start()
    _CHILDREN.add(child)
    try:
        prepare_post_crawl()
        child.join(opts.max_seconds + 120)
    finally:
        _CHILDREN.discard(child)
    if child.is_alive():
        child.kill()
        child.join()
        raise AuditError("爬取逾時被中止 / the crawl did not finish in time and was stopped")
    if child.exitcode not in (0, None):
        raise AuditError(f"爬蟲程序異常結束（代碼 {child.exitcode}）/ the crawler process failed "
                         f"(exit code {child.exitcode})")


# what the audit step imports after the crawl (reuse, gatherers, trend, report writers)
_POST_CRAWL_MODULES = ("crawler.reuse", "crawler.search_probe", "crawler.soft404",
                       "crawler.tls", "checks.scoring", "checks.trend", "reports.render", "reports.exports",
                       "openpyxl", "openpyxl.cell", "openpyxl.styles", "openpyxl.utils", "zipfile")


def prepare_post_crawl() -> None:
    """While the crawl child runs, make this process ready for what follows: import the modules the
    audit step and the report writers use and compile the report template (~1 s of a recrawl's
    audit step, issue 6). The parent only waits for the child meanwhile; imported after the fork,
    nothing is added to the child. Only a head start: whatever fails here is done again later."""
    import importlib

    for name in _POST_CRAWL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module that cannot be imported fails later, where it is used
            continue
    try:
        from crawler.reuse import code_digest
        from reports.render import warm_templates

        code_digest()
        warm_templates()
    except Exception:  # noqa: BLE001, S110 - see above
        pass


def run_distributed(opts: AuditOptions, db_url: str, site_id: int) -> None:
    if not opts.redis_url:
        raise AuditError("分散式爬取需要 --redis / distributed crawling needs --redis URL", 2)
    from crawler.distributed import crawl_distributed

    crawl_distributed(opts.url, db_url=db_url, site_id=site_id, redis_url=opts.redis_url,
                      workers=max(1, opts.workers), max_pages=opts.max_pages, max_depth=opts.max_depth,
                      timeout=opts.download_timeout, max_seconds=opts.max_seconds, external=opts.external)


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


def gather_tls(facts: SiteFacts, opts: AuditOptions) -> None:
    hosts = set()
    for result in facts.link_results.values():
        parts = urlsplit(result.url)
        if parts.scheme == "https" and parts.hostname and result.error not in (
                "dns", "malformed", "private-address", "scheme", "not-checked"):
            hosts.add((parts.hostname, parts.port or 443))
    if hosts:
        from crawler.tls import probe_hosts

        facts.extra["tls"] = probe_hosts(sorted(hosts), extra_ca=opts.tls_extra_ca,
                                         timeout=min(opts.download_timeout, 10.0))


def gather_transport(facts: SiteFacts, opts: AuditOptions) -> None:
    """How the audited https hosts are served: http:// redirect, security headers, TLS 1.0/1.1."""
    from functools import partial

    from crawler.transport import probe_transport

    _record_probe(facts, "transport", partial(probe_transport, http_ports=opts.http_ports), opts)


def _record_probe(facts: SiteFacts, key: str, probe: Any, opts: AuditOptions) -> None:
    """Run one network probe into facts.extra[key]; a probe failure is recorded, never loses the audit."""
    try:
        facts.extra[key] = probe(facts, timeout=min(opts.download_timeout, 15.0), user_agent=_user_agent())
    except Exception as exc:  # noqa: BLE001 - a probe failure must not lose the audit
        facts.extra[key] = {"status": "failed", "error": str(exc)[:300]}


def gather_search(facts: SiteFacts, opts: AuditOptions, query: str | None = None) -> None:
    """Probe the site's search; `query` is the term to search when already known (else chosen from the text)."""
    from functools import partial

    from crawler.search_probe import probe_site_search

    _record_probe(facts, "search", partial(probe_site_search, query=query), opts)


def gather_not_found(facts: SiteFacts, opts: AuditOptions) -> None:
    """Learn each in-scope host's own not-found answer before judging soft 404s."""
    from crawler.soft404 import probe_not_found

    _record_probe(facts, "not_found", probe_not_found, opts)


def gather_freego(facts: SiteFacts, opts: AuditOptions) -> None:
    """The site's linked style sheets and its home-page badge images (Freego CS2140401C, 標章辦法 §6)."""
    from functools import partial

    from checks.freego import badge_image_urls
    from crawler.static_a11y import gather_assets

    _record_probe(facts, "freego_assets", partial(gather_assets, badge_images=badge_image_urls(facts)), opts)


def a11y_level(facts: SiteFacts, opts: AuditOptions) -> str | None:
    """The level axe tests at: `--a11y-level`, else AAA when the site claims AAA (badge or meta)."""
    chosen = opts.a11y.get("level")
    if chosen:
        return str(chosen).upper()
    from checks.freego import claimed_level

    return "AAA" if claimed_level(facts, tuple(opts.check_options.get("badge_hosts", ()))) == "AAA" else None


def gather_accessibility(store: Store, site_id: int, facts: SiteFacts, opts: AuditOptions) -> None:
    if not opts.accessibility:
        facts.a11y_status, facts.a11y_detail = "not_run", "已停用（--no-accessibility）/ disabled by --no-accessibility"
    elif not facts.pages:
        facts.a11y_status, facts.a11y_detail = "not_run", "沒有可檢測的頁面 / no page to test"
    else:
        from crawler import a11y

        options = a11y.A11yOptions(**{**opts.a11y, "level": a11y_level(facts, opts)})
        plan = a11y.plan_sample(facts, options)
        sample = plan.entries
        reused = reusable_a11y(store, site_id, facts, sample) if opts.incremental else {}
        to_test = [entry for entry in sample if entry[0] not in reused]
        run = a11y.run_accessibility(to_test, options, alternates=plan.alternates) if to_test else a11y.A11yRun()
        if not to_test and reused:
            run.axe_version = next(iter(reused.values())).axe_version
        known = [r for results in plan.known.values() for r in results]
        if not to_test and not reused:
            run.status, run.detail = "failed", "no page could be tested: " + (known[0].error if known else "no page")
        facts.a11y_status, facts.a11y_detail = run.status, run.detail
        if known and run.status == "ok":
            note = f"{len(known)} sampled page(s) not served by the site as HTML (not tested)"
            facts.a11y_detail = f"{facts.a11y_detail}; {note}" if facts.a11y_detail else note
        facts.a11y = _a11y_in_sample_order(sample, plan.known, reused, run.results)
        facts.extra["axe_version"] = run.axe_version
        if reused:
            facts.extra["a11y_reused"] = len(reused)
        store.add_a11y(site_id, facts.a11y)
    store.update_site(site_id, a11y_status=facts.a11y_status, a11y_detail=facts.a11y_detail)


def _a11y_in_sample_order(sample: list, known: dict, reused: dict[str, A11yPageResult],
                          tested: list[A11yPageResult]) -> list[A11yPageResult]:
    """Sample order, whatever came from where: the shared-component de-duplication reports a
    violation on the first page it meets, so the order must not depend on what was reused. Each
    sampled page comes after the candidates known not served that it replaced, and before the pages
    tested in its place when the browser found it was not served."""
    by_slot: dict[str, list[A11yPageResult]] = {}
    for result in tested:
        by_slot.setdefault(result.replaces or result.url, []).append(result)
    out: list[A11yPageResult] = []
    for url, *_ in sample:
        out += known.get(url, [])
        out += [reused[url]] if url in reused else by_slot.pop(url, [])
    out += known.get(None, [])
    return out + [r for results in by_slot.values() for r in results]


_SHA1 = re.compile(r'"sha1": ?"([0-9a-f]{40})"')


def _stored_sha1(facts_json: Any) -> str | None:
    """The body hash in a page's stored facts (JSON text on SQLite, decoded on PostgreSQL)."""
    if isinstance(facts_json, dict):
        return (facts_json.get("extra") or {}).get("sha1")
    found = _SHA1.search(facts_json or "")
    return found.group(1) if found else None


def reusable_a11y(store: Store, site_id: int, facts: SiteFacts, sample: list) -> dict[str, Any]:
    """Accessibility results of the previous audit for sampled pages whose content hash is unchanged
    (read from the store for the sampled pages only, not the previous audit's whole facts)."""
    from crawler.reuse import previous_site_id

    previous = previous_site_id(store, facts.agency.url, site_id)
    if previous is None:
        return {}
    sampled = {entry[0] for entry in sample}
    old_results = {url: A11yPageResult(**(json.loads(data) if isinstance(data, str | bytes) else data))
                   for url, status, data in store.raw_rows(
                       "SELECT url, status, data FROM a11y_results WHERE site_id = ?", (previous,))
                   if status == "ok" and url in sampled}
    old_hash = {url: _stored_sha1(facts_json) for url, facts_json in store.raw_rows(
        "SELECT url, facts FROM pages WHERE site_id = ?", (previous,)) if url in old_results}
    reused = {}
    for entry in sample:
        url = entry[0]
        page = facts.page(url)
        sha1 = page.extra.get("sha1") if page else None
        if sha1 and old_hash.get(url) == sha1 and url in old_results:
            result = old_results[url]
            result.reason = entry[1]
            result.replaces = None  # in this audit's sample on its own account
            result.template = entry[2] if len(entry) > 2 else result.template
            reused[url] = result
    return reused


def _user_agent() -> str:
    from crawler.settings import USER_AGENT

    return USER_AGENT


def audit_facts(store: Store, site_id: int, facts: SiteFacts, opts: AuditOptions, *, status: str,
                detail: str | None, duration_s: float) -> dict[str, Any]:
    """Checks, scores: from facts to one results.json site entry. The findings go to the run store as
    the checks produce them; the entry reads them back as a stream (never all in memory, issue 6)."""
    ctx = AuditContext(today=opts.today, lang=opts.lang, options=dict(opts.check_options))
    count = store.replace_findings(site_id, iter_findings(facts, ctx) if status != "failed" else ())
    entry = site_entry(facts, None, ctx, status=status, detail=detail, duration_s=duration_s,
                       findings_json=stored_findings(store, site_id, count))
    if facts.extra.get("axe_version"):
        entry["accessibility"].setdefault("axe_version", facts.extra["axe_version"])
    from checks.scoring import load_manual, load_rubric, score_site

    rubric = load_rubric(opts.rubric)
    manual = load_manual(opts.manual, rubric) if opts.manual else None
    entry["scores"] = score_site(entry, rubric, manual)
    return entry


def stored_findings(store: Store, site_id: int, count: int) -> Any:
    """A site's findings as a re-readable stream from the run store (reports.streaming.StreamedList)."""
    from reports.streaming import StreamedList

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
    # the facts live until the audit ends: keep the collector from re-scanning them (three full
    # collections over a 10,000-page site cost about a second); unfrozen whatever happens, so a
    # fleet of many sites in one process frees each site's facts
    gc.freeze()
    try:
        return _audit_loaded_site(store, run_id, site_id, opts, duration_s, facts)
    finally:
        del facts
        gc.unfreeze()


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
    findings copied) instead of running the checks again (crawler/reuse.py). None: run the checks."""
    from crawler import reuse

    digest_of_facts = reuse.facts_digest(store, site_id) if opts.incremental else None
    previous = reuse.previous_audit(store, site_id) if opts.incremental else None
    same_facts = previous is not None and (previous.extra or {}).get("facts_digest") == digest_of_facts
    gather_tls(facts, opts)
    gather_transport(facts, opts)
    gather_search(facts, opts, query=_previous_query(previous) if same_facts else None)
    gather_not_found(facts, opts)
    gather_freego(facts, opts)
    gather_accessibility(store, site_id, facts, opts)
    if digest_of_facts is not None:
        facts.extra["facts_digest"] = digest_of_facts
        facts.extra["audit_digest"] = reuse.audit_digest(
            digest_of_facts, store, site_id, facts.extra, today=opts.today.isoformat(), lang=opts.lang,
            check_options=opts.check_options, rubric=opts.rubric, manual=opts.manual)
    store.update_site(site_id, extra=_merge(store.site(site_id).extra, facts.extra))
    entry = reuse.reusable_entry(previous, facts.extra.get("audit_digest", ""))
    if entry is None or entry.get("status") != status or entry.get("detail") != detail:
        return None
    entry["findings"] = stored_findings(store, site_id, store.copy_findings(previous.id, site_id))
    entry["stats"] = {**entry["stats"], "duration_s": round(duration_s, 2)}
    entry.pop("footprint", None)
    if facts.extra.get("footprint"):
        entry["footprint"] = facts.extra["footprint"]
    entry["reused"] = {"findings_from_site": previous.id, "findings_from_run": previous.run_id}
    return entry


def _previous_query(previous: Any) -> str | None:
    """The search term the previous audit chose: the same pages give the same choice (no text re-read)."""
    search = (previous.extra or {}).get("search") if previous is not None else None
    return search.get("query") if isinstance(search, dict) else None


def _merge(old: dict | None, new: dict) -> dict:
    merged = dict(old or {})
    merged.update(json.loads(json.dumps(new, default=str)))
    return merged


def write_results_json(results: dict[str, Any], out_dir: Path) -> Path:
    """Write results.json atomically and streamed: a reader never sees half a file, and the document
    is never held as one 40 MB string (same bytes as json.dumps(indent=2, ensure_ascii=False))."""
    from reports.streaming import write_json

    return write_json(results, out_dir / "results.json")


def write_outputs(results: dict[str, Any], out_dir: Path, lang: str) -> list[Path]:
    """results.json and the human reports."""
    written = [write_results_json(results, out_dir)]
    from reports.render import render_all

    written.extend(render_all(results, out_dir, lang=lang))
    return written


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


def complete_run(store: Store, run_id: str, started: datetime, today: date, entry: dict[str, Any],
                 out_dir: Path, lang: str) -> dict[str, Any]:
    """Close a one-site run: assemble results.json, keep it in the store, write it and the reports."""
    results = results_document(run_id=run_id, started_at=iso_utc(started), finished_at=iso_utc(),
                               today=today.isoformat(), version=__version__, sites=[entry])
    store.finish_run(run_id, "done", results)
    write_outputs(results, out_dir, lang)
    return results


def iso_utc(value: datetime | None = None) -> str:
    """ISO-8601 UTC with a Z, as the contract writes times (now when no value is given)."""
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- `scrapy crawl agency -a url=…` from the repository root ----------------------------------------
def standalone_begin(spider: Any, crawler: Any) -> None:
    """Give a spider started by the scrapy command its own run, and finish the audit when it closes."""
    from scrapy import signals

    out_dir = prepare_out_dir(Path(spider.standalone_out or "disclosure-audit-out"))
    today = date.fromisoformat(spider.standalone_today) if spider.standalone_today else datetime.now(UTC).date()
    opts = AuditOptions(url=spider.start_url, out_dir=out_dir, today=today, accessibility=False,
                        max_pages=spider.max_pages, max_depth=spider.max_depth)
    spider.db_url = spider.db_url or default_db_url(out_dir)
    store = Store(spider.db_url)
    run_id = store.create_run(today, __version__, {"url": spider.start_url, "via": "scrapy crawl"})
    spider.site_id = store.create_site(run_id, Agency(name=urlsplit(spider.start_url).hostname or "",
                                                      url=spider.start_url), sorted(spider.scope_hosts))
    started = datetime.now(UTC)

    def closed(spider: Any, reason: str) -> None:
        entry = finalize_site(store, run_id, spider.site_id, opts, (datetime.now(UTC) - started).total_seconds())
        complete_run(store, run_id, started, today, entry, out_dir, "zh-TW")
        store.close()

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
