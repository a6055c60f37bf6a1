"""The gatherers an audit runs after the crawl (network probes and the browser), each yielding one artifact.

Each site-level gatherer is declared once in `site_gatherers()`: its name (the `SiteArtifacts`
field it yields, checks/artifacts.py), what it reads of the crawled facts, and its probe. They run
in that order, each after the crawl and before the checks; a probe that fails yields `ProbeFailed`
and never loses the audit. The browser gatherer (`gather_accessibility`) needs the store as well
(results reused by content hash) and is run after them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from checks.artifacts import ProbeFailed
from checks.facts import A11yPageResult, SiteFacts
from crawler.store import Store
from disclosure_audit.options import AuditOptions

Probe = Callable[[SiteFacts, AuditOptions], Any]


@dataclass(frozen=True)
class Gatherer:
    """One post-crawl gatherer: it reads `needs` of the facts and yields the artifact `name`."""

    name: str  # the SiteArtifacts field it yields
    needs: tuple[str, ...]  # what it reads: SiteFacts fields or earlier artifacts
    probe: Probe
    guarded: bool = True  # a failure is recorded as ProbeFailed (else it propagates)

    def run(self, facts: SiteFacts, opts: AuditOptions) -> Any:
        """The artifact, or ProbeFailed when the probe raised."""
        if not self.guarded:
            return self.probe(facts, opts)
        try:
            return self.probe(facts, opts)
        except Exception as exc:  # noqa: BLE001 - a probe failure must not lose the audit
            return ProbeFailed(status="failed", error=str(exc)[:300])


def site_gatherers(search_query: str | None = None) -> tuple[Gatherer, ...]:
    """The site-level gatherers in the order they run; `search_query`: the search term already
    known (a recrawl of unchanged pages chooses the same one), else chosen from the text."""
    return (
        Gatherer("tls", ("link_results",), probe_tls, guarded=False),
        Gatherer("transport", ("pages", "hosts"), probe_transport),
        Gatherer("search", ("pages", "links"), partial(probe_search, query=search_query)),
        Gatherer("not_found", ("pages", "hosts"), probe_not_found),
        Gatherer("freego_assets", ("pages", "hosts"), probe_freego),
        Gatherer("documents", ("pages", "links", "link_results"), probe_documents),
    )


def run_site_gatherers(facts: SiteFacts, opts: AuditOptions, search_query: str | None = None) -> None:
    """Run every site-level gatherer into its artifact field of `facts.artifacts`."""
    for gatherer in site_gatherers(search_query):
        setattr(facts.artifacts, gatherer.name, gatherer.run(facts, opts))


def _timeout(opts: AuditOptions) -> float:
    return min(opts.download_timeout, 15.0)


def probe_tls(facts: SiteFacts, opts: AuditOptions) -> Any:
    """Trust verdicts of every https host a checked link reached (crawler/tls.py); None: no such host."""
    hosts = set()
    for result in facts.link_results.values():
        parts = urlsplit(result.url)
        if parts.scheme == "https" and parts.hostname and result.error not in (
                "dns", "malformed", "private-address", "scheme", "not-checked"):
            hosts.add((parts.hostname, parts.port or 443))
    if not hosts:
        return None
    from crawler.tls import probe_hosts

    return probe_hosts(sorted(hosts), extra_ca=opts.tls_extra_ca, timeout=min(opts.download_timeout, 10.0))


def probe_transport(facts: SiteFacts, opts: AuditOptions) -> Any:
    """How the audited https hosts are served: http:// redirect, security headers, TLS 1.0/1.1."""
    from crawler.transport import probe_transport as probe

    return probe(facts, timeout=_timeout(opts), user_agent=_user_agent(), http_ports=opts.http_ports)


def probe_search(facts: SiteFacts, opts: AuditOptions, query: str | None = None) -> Any:
    """Probe the site's search; `query` is the term to search when already known (else chosen from the text)."""
    from crawler.search_probe import probe_site_search

    return probe_site_search(facts, timeout=_timeout(opts), user_agent=_user_agent(), query=query)


def probe_not_found(facts: SiteFacts, opts: AuditOptions) -> Any:
    """Learn each in-scope host's own not-found answer before judging soft 404s."""
    from crawler.soft404 import probe_not_found as probe

    return probe(facts, timeout=_timeout(opts), user_agent=_user_agent())


def probe_freego(facts: SiteFacts, opts: AuditOptions) -> Any:
    """The site's linked style sheets and its home-page badge images (Freego CS2140401C, 標章辦法 §6)."""
    from checks.freego import badge_image_urls
    from crawler.static_a11y import gather_assets

    return gather_assets(facts, timeout=_timeout(opts), user_agent=_user_agent(),
                         badge_images=badge_image_urls(facts))


def probe_documents(facts: SiteFacts, opts: AuditOptions) -> Any:
    """Read the text of the site's own documents for identity numbers (masked; crawler/documents.py)."""
    from crawler.documents import gather_documents as read_documents

    return read_documents(facts, timeout=_timeout(opts), user_agent=_user_agent())


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
        facts.artifacts.axe_version = run.axe_version
        if reused:
            facts.artifacts.a11y_reused = len(reused)
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
        sha1 = page.artifacts.sha1 if page else None
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
