"""The gatherers an audit runs after the crawl (network probes and the browser), each writing facts.

Each gatherer reads the crawled facts and records what it learns in `facts`; a probe that fails is
recorded as failed and never loses the audit.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from checks.facts import A11yPageResult, SiteFacts
from crawler.store import Store
from disclosure_audit.options import AuditOptions


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


def gather_documents(facts: SiteFacts, opts: AuditOptions) -> None:
    """Read the text of the site's own documents for identity numbers (masked; crawler/documents.py)."""
    from crawler.documents import gather_documents as read_documents

    _record_probe(facts, "documents", read_documents, opts)


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
    from crawler.store import previous_site_id

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
